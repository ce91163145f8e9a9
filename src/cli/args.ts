/** Command-line parsing shared by the subcommands: node:util parseArgs, strict. */
import { parseArgs } from 'node:util';

/** A bad command line: printed as one line, exit code 2. */
export class UsageError extends Error {}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Shown in --help. */
  value?: string;
  help: string;
  default?: string | number | boolean;
}

export type OptionSpecs = Record<string, OptionSpec>;

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
    if (spec?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
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

/** Reads a numeric option, checking it is an integer (or a number) in range. */
export function numberOption(
  command: string,
  name: string,
  raw: string | boolean | undefined,
  fallback: number,
  {
    min,
    max = Number.MAX_SAFE_INTEGER,
    integer = true,
  }: { min: number; max?: number; integer?: boolean },
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value)) {
    throw new UsageError(`lockstock ${command}: --${name} must be a number, got '${String(raw)}'`);
  }
  if (integer && !Number.isInteger(value)) {
    throw new UsageError(`lockstock ${command}: --${name} must be a whole number, got '${raw}'`);
  }
  if (value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`lockstock ${command}: --${name} must be ${range}, got '${raw}'`);
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

/** Reads a duration: `30`, `30s`, `500ms` or `2m`; returns milliseconds. */
export function durationOption(command: string, name: string, raw: string | boolean | undefined) {
  if (raw === undefined) return null;
  const match = typeof raw === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim()) : null;
  const amount = Number(match?.[1]);
  if (match === null || !(amount > 0)) {
    throw new UsageError(
      `lockstock ${command}: --${name} must be a positive duration like 30s, 500ms or 2m, got '${String(raw)}'`,
    );
  }
  const unit = match[2] ?? 's';
  return amount * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60_000);
}

/** --help text from the specs. */
export function usage(command: string, summary: string, specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.value ? ` <${spec.value}>` : ''}`;
    const fallback = spec.default === undefined ? '' : ` (default: ${String(spec.default)})`;
    return [flag, `${spec.help}${fallback}`] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return [
    `Usage: lockstock ${command} [options]`,
    '',
    summary,
    '',
    'Options:',
    ...rows.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`),
    '',
  ].join('\n');
}
