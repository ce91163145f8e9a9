/** Command-line parsing shared by the subcommands: node:util parseArgs, strict. */
import { parseArgs } from 'node:util';
import type { Limit } from '../options.js';
import { table } from './table.js';

/** A bad command line: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** The bounds of a numeric flag; checked by numberOption and shown in --help. */
export interface Range {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  /** Said after a value out of range or malformed, e.g. where to go instead. */
  readonly hint?: string;
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Shown in --help. */
  value?: string;
  help: string;
  default?: string | number | boolean;
  range?: Range;
}

export type OptionSpecs = Record<string, OptionSpec>;

/**
 * A numeric flag whose bounds are an engine option's (src/options.ts LIMITS), so the
 * CLI never restates them; `fallback` is the CLI's default when it differs from the
 * engine's.
 */
export function limitFlag(
  limit: Limit,
  spec: Omit<OptionSpec, 'type' | 'range' | 'default'>,
  fallback: number = limit.default,
): OptionSpec {
  const { min, max, integer } = limit;
  return { type: 'string', ...spec, default: fallback, range: { min, max, integer } };
}

/** Parses `argv` against `specs`; every failure becomes a UsageError naming the argument. */
export function parse(command: string, argv: string[], specs: OptionSpecs) {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}) };
  }
  // `--ops -5` is a negative number to check, not an option: hand it over as `--ops=-5`.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const next = argv[i + 1];
    const spec = arg.startsWith('--') ? specs[arg.slice(2)] : undefined;
    if (spec?.type === 'string' && next !== undefined && /^-[\d.]/.test(next)) {
      args.push(`${arg}=${next}`);
      i++;
    } else {
      args.push(arg);
    }
  }
  try {
    const { values, positionals } = parseArgs({
      args,
      options,
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0) {
      throw new UsageError(`lockstock ${command}: unexpected argument '${positionals[0]}'`);
    }
    return values as Record<string, string | boolean | undefined>;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    // parseArgs explains at length over several lines; one line names the argument.
    const message = ((error as Error).message.split('\n')[0] ?? '')
      .replace(/\. To specify a positional argument.*$/s, '')
      .replace(/\.$/, '');
    throw new UsageError(`lockstock ${command}: ${lowerFirst(message)}`);
  }
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/**
 * Plain decimal notation only, as for the environment variables (options.ts
 * envInteger): `0x10`, `1e3`, `Infinity`, `+1` and ` 2` are refused, so a value means
 * what it looks like. A leading minus is let through to be refused by the range check
 * with the bounds in the message. Sixteen digits at most: enough for any bound here,
 * and never Infinity.
 */
const INTEGER = /^-?[0-9]{1,16}$/;
const DECIMAL = /^-?(?:[0-9]{1,16}(?:\.[0-9]{1,16})?|\.[0-9]{1,16})$/;

/** `text` as a number if it is written in plain decimal (whole when `integer`), else null. */
export function decimal(text: string, integer = false): number | null {
  if (!(integer ? INTEGER : DECIMAL).test(text)) return null;
  const value = Number(text);
  // `-0` reads as 0: the engine, the JSON report and the seed all mean zero by it.
  return value === 0 ? 0 : value;
}

/** Reads a numeric flag against its spec's range; its default when absent. */
export function numberOption(
  command: string,
  name: string,
  raw: string | boolean | undefined,
  spec: OptionSpec,
  fallback = spec.default,
): number {
  const range = spec.range;
  if (range === undefined) throw new Error(`--${name} has no range`);
  if (raw === undefined) {
    if (typeof fallback !== 'number') throw new Error(`--${name} has no numeric default`);
    return fallback;
  }
  const hint = range.hint === undefined ? '' : ` (${range.hint})`;
  const value = typeof raw === 'string' ? decimal(raw, range.integer) : null;
  if (value === null) {
    const what = range.integer ? 'a whole number in decimal digits' : 'a decimal number';
    throw new UsageError(
      `lockstock ${command}: --${name} must be ${what}, got '${String(raw)}'${hint}`,
    );
  }
  if (value < range.min || value > range.max) {
    throw new UsageError(
      `lockstock ${command}: --${name} must be from ${range.min} to ${range.max}, got '${raw}'${hint}`,
    );
  }
  return value;
}

/** Reads one of a fixed set of words. */
export function choiceOption<T extends string>(
  command: string,
  name: string,
  raw: string | boolean | undefined,
  choices: readonly T[],
  fallback: T,
): T {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !(choices as readonly string[]).includes(raw)) {
    throw new UsageError(
      `lockstock ${command}: --${name} must be one of ${choices.join(', ')}, got '${String(raw)}'`,
    );
  }
  return raw as T;
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
/** The longest run a duration flag takes: a day. */
export const MAX_DURATION_MS = 24 * UNIT_MS.h;

/**
 * A duration as Go's time.ParseDuration writes one, plus a bare number of seconds:
 * `30`, `30s`, `500ms`, `1.5m`, `2h`, `1h30m`; in ms, or null if malformed. The numbers
 * are plain decimal (no exponent), so a value means what it looks like.
 */
export function parseDuration(text: string): number | null {
  if (!/^(?:[0-9.]+(?:ms|s|m|h)?|(?:[0-9.]+(?:ms|s|m|h))+)$/.test(text)) return null;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(/([0-9.]+)(ms|s|m|h)?/g)) {
    const value = decimal(amount as string);
    if (value === null) return null;
    ms += value * UNIT_MS[(unit ?? 's') as keyof typeof UNIT_MS];
  }
  return ms;
}

/** Reads a duration: `30`, `30s`, `500ms`, `2m` or `1h`, from 1 ms to a day; in ms. */
export function durationOption(command: string, name: string, raw: string | boolean | undefined) {
  if (raw === undefined) return null;
  const ms = typeof raw === 'string' ? (parseDuration(raw) ?? Number.NaN) : Number.NaN;
  if (!(ms >= 1 && ms <= MAX_DURATION_MS)) {
    throw new UsageError(
      `lockstock ${command}: --${name} must be a duration from 1ms to 24h like 30s, 500ms or 2m, got '${String(raw)}'`,
    );
  }
  return ms;
}

/** --help text from the specs. */
export function usage(command: string, summary: string, specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.value ? ` <${spec.value}>` : ''}`;
    const range = spec.range === undefined ? '' : ` [${spec.range.min}–${spec.range.max}]`;
    const fallback = spec.default === undefined ? '' : ` (default: ${String(spec.default)})`;
    return [flag, `${spec.help}${range}${fallback}`] as const;
  });
  return [
    `Usage: lockstock ${command} [options]`,
    '',
    summary,
    '',
    'Options:',
    table(rows, { align: ['left'], indent: 2, gap: 2 }),
    '',
  ].join('\n');
}
