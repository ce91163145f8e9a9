/** `lockstock load`: argument handling, progress and the report around runLoad. */
import { DURABILITY_MODES, LIMITS, LOCK_MODES, MAX_ORDER_ITEMS } from '../options.js';
import type { Durability, LockMode } from '../types.js';
import {
  choiceOption,
  durationOption,
  limitFlag,
  numberOption,
  type OptionSpecs,
  parse,
  UsageError,
  usage,
} from './args.js';
import { effectiveConfig, type LoadConfig, type LoadReport, runLoad } from './load.js';
import { describeMachine, machine } from './machine.js';
import { ProgressBar } from './progress.js';
import { formatLoad } from './report.js';
import { parseMix, parseSkew, WorkloadError } from './workload.js';

/** More work than this goes by time (--duration): a count is for short, exact runs. */
export const MAX_OPS = 100_000_000;
/** Simulated clients: each one is a pending promise chain on the caller's thread. */
export const MAX_CONCURRENCY = 100_000;
export const MAX_RETRIES = 1000;

const MODES = [...LOCK_MODES, 'both'] as const;
type ModeChoice = (typeof MODES)[number];

const DEFAULTS = {
  mode: 'both',
  duration: '5s',
  skew: 'uniform',
  mix: 'update=90,read=8,order=2',
} as const;

/**
 * The flags. Those that set an engine option take its bounds from src/options.ts
 * (LIMITS), and keep the load runner's own default where it differs from the engine's.
 */
export const LOAD_OPTIONS: OptionSpecs = {
  workers: limitFlag(LIMITS.workers, { value: 'n', help: 'pool threads' }, 4),
  mode: {
    type: 'string',
    value: MODES.join('|'),
    help: 'lock mode; both runs one engine per mode',
    default: DEFAULTS.mode,
  },
  products: limitFlag(
    LIMITS.capacity,
    { value: 'n', help: 'products in the embedded catalog' },
    1000,
  ),
  ops: {
    type: 'string',
    value: 'n',
    help: 'stop after n operations per mode, instead of a time',
    range: { min: 1, max: MAX_OPS, integer: true, hint: 'for more work, use --duration' },
  },
  duration: {
    type: 'string',
    value: 'time',
    help: 'run each mode this long: 30s, 500ms, 2m, 1h [1ms–24h]',
    default: DEFAULTS.duration,
  },
  concurrency: {
    type: 'string',
    value: 'n',
    help: 'calls in flight (simulated clients)',
    default: 64,
    range: { min: 1, max: MAX_CONCURRENCY, integer: true },
  },
  skew: {
    type: 'string',
    value: 'spec',
    help: 'uniform | zipf:<theta> | hot:<fraction of ops on the hottest 1%>',
    default: DEFAULTS.skew,
  },
  mix: {
    type: 'string',
    value: 'spec',
    help: 'weights of update, read, order, list',
    default: DEFAULTS.mix,
  },
  'order-size': {
    type: 'string',
    value: 'n',
    help: 'products per order',
    default: 3,
    range: { min: 1, max: MAX_ORDER_ITEMS, integer: true },
  },
  occ: { type: 'boolean', help: 'send expectedVersion from a prior read; count conflicts' },
  retries: {
    type: 'string',
    value: 'n',
    help: 'with --occ: re-read and retry a conflict up to n times',
    default: 3,
    range: { min: 0, max: MAX_RETRIES, integer: true },
  },
  replay: {
    type: 'string',
    value: 'fraction',
    help: 're-send this share of updates with the same idempotency key',
    default: 0.01,
    range: { min: 0, max: 1, integer: false },
  },
  'work-us': limitFlag(
    LIMITS['simulate.workUs'],
    { value: 'µs', help: 'CPU spin inside each product lock' },
    0,
  ),
  'hold-us': limitFlag(
    LIMITS['simulate.holdUs'],
    { value: 'µs', help: 'blocking wait inside each product lock (I/O-like)' },
    50,
  ),
  'queue-size': limitFlag(LIMITS.queueSize, {
    value: 'n',
    help: 'updates waiting for a worker at most',
  }),
  seed: {
    type: 'string',
    value: 'n',
    help: 'the same seed sends the same sequence of operations',
    default: 1,
    range: { min: 0, max: 2 ** 32 - 1, integer: true },
  },
  'data-dir': {
    type: 'string',
    value: 'dir',
    help: "keep each mode's changes in dir/<mode> (journal and snapshots); verify on the reopened state",
  },
  durability: {
    type: 'string',
    value: DURABILITY_MODES.join('|'),
    help: 'with --data-dir: acknowledge once on disk (fsync) or written to the OS',
    default: 'fsync',
  },
  json: { type: 'boolean', help: 'print one JSON object and nothing else' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

export const LOAD_SUMMARY = [
  'Drives an engine on an embedded catalog with a described workload, reports throughput,',
  'latency, outcomes and lock contention, and verifies at the end that nothing was lost:',
  'for every product, initial − Σ applied deltas = final and version = initial + changes.',
  'With --data-dir the engine is closed and reopened before the check, which reads the',
  'state recovered from disk.',
  'A timed run stops sending at its deadline and waits for the operations in flight.',
  'Exits 1 if verification fails, 2 on a bad argument.',
].join('\n');

export interface LoadCommandLine {
  config: LoadConfig;
  modes: LockMode[];
  json: boolean;
}

/** Reads and checks the command line. */
export function loadConfig(argv: string[]): LoadCommandLine {
  return readFlags(parse('load', argv, LOAD_OPTIONS));
}

function readFlags(v: ReturnType<typeof parse>): LoadCommandLine {
  const cmd = 'load';
  const num = (name: string) =>
    numberOption(cmd, name, v[name], LOAD_OPTIONS[name] as (typeof LOAD_OPTIONS)[string]);
  const wrap = <T>(name: string, f: () => T): T => {
    try {
      return f();
    } catch (error) {
      if (error instanceof WorkloadError)
        throw new UsageError(`lockstock load: --${name} ${error.message}`);
      throw error;
    }
  };
  const json = v.json === true;
  const mode = choiceOption<ModeChoice>(cmd, 'mode', v.mode, MODES, DEFAULTS.mode);
  if (v.ops !== undefined && v.duration !== undefined) {
    throw new UsageError('lockstock load: --ops and --duration cannot be used together');
  }
  const ops = v.ops === undefined ? null : num('ops');
  const config: LoadConfig = {
    workers: num('workers'),
    products: num('products'),
    ops,
    durationMs:
      ops === null ? durationOption(cmd, 'duration', v.duration ?? DEFAULTS.duration) : null,
    concurrency: num('concurrency'),
    skew: wrap('skew', () => parseSkew(String(v.skew ?? DEFAULTS.skew))),
    mix: wrap('mix', () => parseMix(String(v.mix ?? DEFAULTS.mix))),
    orderSize: num('order-size'),
    occ: v.occ === true,
    retries: num('retries'),
    replay: num('replay'),
    workUs: num('work-us'),
    holdUs: num('hold-us'),
    // Absent, the engine's own default (or INVENTORY_QUEUE_BUFFER_SIZE) applies.
    queueSize: v['queue-size'] === undefined ? null : num('queue-size'),
    seed: num('seed'),
    dataDir: readDataDir(v['data-dir']),
    durability: choiceOption<Durability>(
      cmd,
      'durability',
      v.durability,
      DURABILITY_MODES,
      'fsync',
    ),
  };
  if (config.dataDir === null && v.durability !== undefined) {
    throw new UsageError('lockstock load: --durability needs --data-dir');
  }
  // An order must fit the queue whole (Inventory.order): a bigger one could never run.
  const queue = config.queueSize ?? LIMITS.queueSize.default;
  const orderItems = Math.min(config.orderSize, config.products);
  if (config.mix.order > 0 && orderItems >= queue) {
    throw new UsageError(
      `lockstock load: --order-size must be less than --queue-size (${queue}) for orders to run, got '${config.orderSize}'`,
    );
  }
  return { config, modes: mode === 'both' ? [...LOCK_MODES] : [mode], json };
}

function readDataDir(raw: string | boolean | undefined): string | null {
  if (raw === undefined) return null;
  if (typeof raw !== 'string' || raw === '') {
    throw new UsageError("lockstock load: --data-dir needs a directory, e.g. '--data-dir ./data'");
  }
  return raw;
}

/** Runs `lockstock load`; returns the process exit code. */
export async function loadCommand(argv: string[]): Promise<number> {
  const values = parse('load', argv, LOAD_OPTIONS);
  // --help answers even beside a bad value: it is what one asks after a refusal.
  if (values.help === true) {
    process.stdout.write(usage('load', LOAD_SUMMARY, LOAD_OPTIONS));
    return 0;
  }
  const { config, modes, json } = readFlags(values);
  const live = !json && process.stderr.isTTY === true;
  if (!json) {
    process.stdout.write(
      `lockstock load: ${modes.join(' vs ')} on ${describeMachine(machine())}, ${config.workers} workers, ` +
        `${config.products} products, ${config.concurrency} clients\n`,
    );
  }
  const reports: LoadReport[] = [];
  for (const mode of modes) {
    const bar = live ? new ProgressBar(process.stderr, mode) : null;
    reports.push(await runLoad(config, mode, bar === null ? undefined : (p) => bar.update(p)));
    bar?.finish();
  }
  const ok = reports.every((r) => r.verification.ok);
  if (json) {
    process.stdout.write(`${JSON.stringify(loadJson(config, reports))}\n`);
  } else {
    process.stdout.write(formatLoad(config, reports));
  }
  return ok ? 0 : 1;
}

/** One mode: the report with the configuration beside it; both: the runs side by side. */
export function loadJson(config: LoadConfig, reports: LoadReport[]) {
  const cfg = effectiveConfig(config);
  const [first, second] = reports;
  if (reports.length === 1 && first !== undefined)
    return { config: { ...cfg, mode: first.mode }, ...first };
  return {
    config: { ...cfg, mode: 'both' },
    runs: reports,
    comparison:
      first !== undefined && second !== undefined && second.throughput > 0
        ? {
            [`${first.mode}Over${capital(second.mode)}`]: round2(
              first.throughput / second.throughput,
            ),
          }
        : {},
    verification: {
      ok: reports.every((r) => r.verification.ok),
      violations: reports.flatMap((r) =>
        r.verification.violations.map((v) => ({ mode: r.mode, ...v })),
      ),
    },
  };
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
