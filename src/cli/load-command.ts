/** `lockstock load`: argument handling, progress and the report around runLoad. */
import os from 'node:os';
import type { LockMode } from '../types.js';
import {
  choiceOption,
  durationOption,
  numberOption,
  type OptionSpecs,
  parse,
  UsageError,
  usage,
} from './args.js';
import { effectiveConfig, type LoadConfig, type LoadReport, runLoad } from './load.js';
import { ProgressBar } from './progress.js';
import { formatLoad } from './report.js';
import { parseMix, parseSkew, WorkloadError } from './workload.js';

const DEFAULTS = {
  workers: 4,
  mode: 'both',
  products: 1000,
  duration: '5s',
  concurrency: 64,
  skew: 'uniform',
  mix: 'update=90,read=8,order=2',
  orderSize: 3,
  retries: 3,
  replay: 0.01,
  workUs: 0,
  holdUs: 50,
  seed: 1,
} as const;

export const LOAD_OPTIONS: OptionSpecs = {
  workers: { type: 'string', value: 'n', help: 'pool threads', default: DEFAULTS.workers },
  mode: {
    type: 'string',
    value: 'fine|global|both',
    help: 'lock mode; both runs one engine per mode',
    default: DEFAULTS.mode,
  },
  products: {
    type: 'string',
    value: 'n',
    help: 'products in the embedded catalog',
    default: DEFAULTS.products,
  },
  ops: {
    type: 'string',
    value: 'n',
    help: 'stop after n operations per mode (instead of --duration)',
  },
  duration: {
    type: 'string',
    value: 'time',
    help: 'run each mode this long: 30s, 500ms, 2m',
    default: DEFAULTS.duration,
  },
  concurrency: {
    type: 'string',
    value: 'n',
    help: 'calls in flight (simulated clients)',
    default: DEFAULTS.concurrency,
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
    default: DEFAULTS.orderSize,
  },
  occ: { type: 'boolean', help: 'send expectedVersion from a prior read; count conflicts' },
  retries: {
    type: 'string',
    value: 'n',
    help: 'with --occ: re-read and retry a conflict up to n times',
    default: DEFAULTS.retries,
  },
  replay: {
    type: 'string',
    value: 'fraction',
    help: 're-send this share of updates with the same idempotency key',
    default: DEFAULTS.replay,
  },
  'work-us': {
    type: 'string',
    value: 'µs',
    help: 'CPU spin inside each product lock',
    default: DEFAULTS.workUs,
  },
  'hold-us': {
    type: 'string',
    value: 'µs',
    help: 'blocking wait inside each product lock (I/O-like)',
    default: DEFAULTS.holdUs,
  },
  'queue-size': {
    type: 'string',
    value: 'n',
    help: 'updates waiting for a worker at most',
    default: 65536,
  },
  seed: {
    type: 'string',
    value: 'n',
    help: 'the same seed sends the same sequence of operations',
    default: DEFAULTS.seed,
  },
  json: { type: 'boolean', help: 'print one JSON object and nothing else' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

export const LOAD_SUMMARY = [
  'Drives an engine on an embedded catalog with a described workload, reports throughput,',
  'latency, outcomes and lock contention, and verifies at the end that nothing was lost:',
  'for every product, initial − Σ applied deltas = final and version = initial + changes.',
  'Exits 1 if verification fails, 2 on a bad argument.',
].join('\n');

export function loadConfig(argv: string[]): {
  config: LoadConfig;
  modes: LockMode[];
  json: boolean;
  help: boolean;
} {
  const v = parse('load', argv, LOAD_OPTIONS);
  const cmd = 'load';
  const wrap = <T>(name: string, f: () => T): T => {
    try {
      return f();
    } catch (error) {
      if (error instanceof WorkloadError)
        throw new UsageError(`lockstock load: --${name} ${error.message}`);
      throw error;
    }
  };
  const mode = choiceOption(
    cmd,
    'mode',
    v.mode,
    ['fine', 'global', 'both'] as const,
    DEFAULTS.mode,
  );
  if (v.ops !== undefined && v.duration !== undefined) {
    throw new UsageError('lockstock load: --ops and --duration cannot be used together');
  }
  const ops = v.ops === undefined ? null : numberOption(cmd, 'ops', v.ops, 0, { min: 1 });
  const config: LoadConfig = {
    workers: numberOption(cmd, 'workers', v.workers, DEFAULTS.workers, { min: 1, max: 256 }),
    products: numberOption(cmd, 'products', v.products, DEFAULTS.products, {
      min: 1,
      max: 1_000_000,
    }),
    ops,
    durationMs:
      ops === null ? durationOption(cmd, 'duration', v.duration ?? DEFAULTS.duration) : null,
    concurrency: numberOption(cmd, 'concurrency', v.concurrency, DEFAULTS.concurrency, {
      min: 1,
      max: 100_000,
    }),
    skew: wrap('skew', () => parseSkew(String(v.skew ?? DEFAULTS.skew))),
    mix: wrap('mix', () => parseMix(String(v.mix ?? DEFAULTS.mix))),
    orderSize: numberOption(cmd, 'order-size', v['order-size'], DEFAULTS.orderSize, {
      min: 1,
      max: 1024,
    }),
    occ: v.occ === true,
    retries: numberOption(cmd, 'retries', v.retries, DEFAULTS.retries, { min: 0, max: 1000 }),
    replay: numberOption(cmd, 'replay', v.replay, DEFAULTS.replay, {
      min: 0,
      max: 1,
      integer: false,
    }),
    workUs: numberOption(cmd, 'work-us', v['work-us'], DEFAULTS.workUs, {
      min: 0,
      max: 1_000_000,
      integer: false,
    }),
    holdUs: numberOption(cmd, 'hold-us', v['hold-us'], DEFAULTS.holdUs, {
      min: 0,
      max: 1_000_000,
      integer: false,
    }),
    queueSize:
      v['queue-size'] === undefined
        ? null
        : numberOption(cmd, 'queue-size', v['queue-size'], 0, { min: 1, max: 2 ** 30 }),
    seed: numberOption(cmd, 'seed', v.seed, DEFAULTS.seed, { min: 0, max: 2 ** 32 - 1 }),
  };
  return {
    config,
    modes: mode === 'both' ? ['fine', 'global'] : [mode],
    json: v.json === true,
    help: v.help === true,
  };
}

/** Runs `lockstock load`; returns the process exit code. */
export async function loadCommand(argv: string[]): Promise<number> {
  const { config, modes, json, help } = loadConfig(argv);
  if (help) {
    process.stdout.write(usage('load', LOAD_SUMMARY, LOAD_OPTIONS));
    return 0;
  }
  const live = !json && process.stderr.isTTY === true;
  if (!json) {
    process.stdout.write(
      `lockstock load: ${modes.join(' vs ')} on ${os.availableParallelism()} cores, ${config.workers} workers, ` +
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
