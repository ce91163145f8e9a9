/**
 * `lockstock bench`: the thread-scaling sweep, its tables, charts and result files.
 *
 * It lives under bench/ with the libraries only it needs (tinybench, vega, vega-lite,
 * asciichart, ioredis: devDependencies); src/cli/main.ts loads it with import(), so
 * the engine an embedder installs does not carry them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  decimal,
  numberOption,
  type OptionSpec,
  type OptionSpecs,
  parse,
  UsageError,
  usage,
} from '../src/cli/args.js';
import { LIMITS, LOCK_MODES } from '../src/options.js';
import type { LockMode } from '../src/types.js';
import { svgChart } from './chart.js';
import { type DurabilityOptions, durability } from './durability.js';
import { durabilityFigures, formatDurability } from './durability-report.js';
import { httpBenchCommand } from './http.js';
import { formatScale, SCALE_SIZES, scale } from './scale.js';
import { scenarios } from './scenarios.js';
import { type SweepOptions, sweep } from './sweep.js';
import { checkFigures, formatSweep } from './sweep-report.js';

export const BENCH_OPTIONS: OptionSpecs = {
  threads: {
    type: 'string',
    value: 'list',
    help: 'pool thread counts to sweep',
    default: '1,2,4,8',
  },
  modes: {
    type: 'string',
    value: 'list',
    help: `lock modes: ${LOCK_MODES.join(', ')}`,
    default: LOCK_MODES.join(','),
  },
  scenarios: {
    type: 'string',
    value: 'list',
    help: 'scenarios by number or name: 1 cpu, 2 io, 3 hot, 4 read, 5 orders, 6 few64, 7 few32',
    default: '1,2,3,4,5,6,7',
  },
  'skip-peers': {
    type: 'boolean',
    help: 'leave out the single-thread engine, one task per update, and Redis',
  },
  runs: {
    type: 'string',
    value: 'n',
    help: 'interleaved runs per figure; the median is reported',
    default: 3,
    range: { min: 1, max: 50, integer: true },
  },
  time: {
    type: 'string',
    value: 'ms',
    help: 'time per run',
    default: 400,
    range: { min: 10, max: 60_000, integer: true },
  },
  quick: {
    type: 'boolean',
    help:
      'a small sweep in under a minute: threads 1,2,4, one 120 ms run each (with --durability: ' +
      'one 120 ms run each, cases 6 and 7 at 20 000 products)',
  },
  out: {
    type: 'string',
    value: 'dir',
    help: 'where results.json and scaling.svg go',
    default: 'bench-results',
  },
  json: { type: 'boolean', help: 'print { machine, results } as JSON and nothing else' },
  scale: {
    type: 'boolean',
    help:
      'instead of the sweep: open, its longest event-loop stall, RSS, lockStats, list after ' +
      'a change, get and updateMany at 10k, 100k and 1M products (each in its own process, about 15 s; with --json, ' +
      'the figures as JSON)',
  },
  http: {
    type: 'boolean',
    help: 'instead of the sweep: lockstock serve under autocannon beside bare fastify (--http --help for its options)',
  },
  durability: {
    type: 'boolean',
    help:
      'instead of the sweep: what durability costs on this disk, side by side in one run: per-call ' +
      "update() in memory, 'fsync' and 'write', beside one fdatasync per update, a single-thread " +
      'engine with group commit and Redis with appendfsync always; updateMany; reopening 1M products ' +
      '+ 1M journal records; writers during a checkpoint of 1M products (about 90 s; takes ' +
      '--runs, --time, --quick, --json)',
  },
  'skip-heavy': {
    type: 'boolean',
    help: 'with --durability: leave out the reopen and checkpoint cases (6, 7)',
  },
  dir: {
    type: 'string',
    value: 'dir',
    help: 'with --durability: where its temporary directory goes (the disk measured; removed after)',
    default: 'the OS temp directory',
  },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

export const BENCH_SUMMARY = [
  'Sweeps pool thread counts × lock modes × scenarios and shows the scaling, side by side',
  'with the peers a user might pick instead: an in-process single-thread engine, one Piscina',
  'task per update, and Redis with a Lua script (when redis-server is installed). Writes the',
  'results as JSON and a chart as SVG.',
].join('\n');

function list(name: string, raw: string, parseItem: (item: string) => number | string | null) {
  const items = raw.split(',').map((s) => s.trim());
  const parsed = items.map(parseItem);
  const bad = items.find((_, i) => parsed[i] === null);
  if (items.length === 0 || bad !== undefined) {
    throw new UsageError(`lockstock bench: --${name} has an invalid item '${bad ?? raw}'`);
  }
  return [...new Set(parsed as (number | string)[])];
}

function outDir(raw: string | boolean | undefined): string {
  if (raw === undefined) return BENCH_OPTIONS.out?.default as string;
  if (typeof raw !== 'string' || raw === '') {
    throw new UsageError(`lockstock bench: --out must name a directory, got '${String(raw)}'`);
  }
  return raw;
}

/** --runs and --time, and the iterations a run takes at least; --quick makes all three small. */
function runsAndTime(v: ReturnType<typeof parse>) {
  const quick = v.quick === true;
  return {
    rounds: numberOption('bench', 'runs', v.runs, BENCH_OPTIONS.runs as OptionSpec, quick ? 1 : 3),
    timeMs: numberOption(
      'bench',
      'time',
      v.time,
      BENCH_OPTIONS.time as OptionSpec,
      quick ? 120 : 400,
    ),
    minIterations: quick ? 2 : 5,
  };
}

export function benchConfig(argv: string[]) {
  return readFlags(parse('bench', argv, BENCH_OPTIONS));
}

function readFlags(v: ReturnType<typeof parse>) {
  const quick = v.quick === true;
  const rawThreads = v.threads === undefined ? (quick ? '1,2,4' : '1,2,4,8') : String(v.threads);
  const { min, max } = LIMITS.workers;
  const threads = list('threads', rawThreads, (s) => {
    const t = decimal(s, true);
    return t !== null && t >= min && t <= max ? t : null;
  }) as number[];
  threads.sort((a, b) => a - b);
  const modes = list('modes', String(v.modes ?? LOCK_MODES.join(',')), (s) =>
    LOCK_MODES.includes(s as LockMode) ? s : null,
  ) as LockMode[];
  const known = scenarios();
  const chosen = list('scenarios', String(v.scenarios ?? BENCH_OPTIONS.scenarios?.default), (s) => {
    const found = known.find((k) => String(k.id) === s || k.key === s);
    return found === undefined ? null : found.id;
  }) as number[];
  const options: SweepOptions = {
    threads,
    modes,
    scenarios: chosen.sort((a, b) => a - b),
    peers: v['skip-peers'] !== true,
    ...runsAndTime(v),
    progress: null,
  };
  return {
    options,
    json: v.json === true,
    out: outDir(v.out),
  };
}

/** Runs `lockstock bench`; returns the process exit code. */
export async function benchCommand(argv: string[]): Promise<number> {
  // --http is a bench of its own, with its own flags.
  if (argv.includes('--http')) return httpBenchCommand(argv.filter((a) => a !== '--http'));
  const values = parse('bench', argv, BENCH_OPTIONS);
  // --help answers even beside a bad value: it is what one asks after a refusal.
  if (values.help === true) {
    process.stdout.write(usage('bench', BENCH_SUMMARY, BENCH_OPTIONS));
    return 0;
  }
  if (values.durability === true) return durabilityCommand(values);
  for (const only of ['skip-heavy', 'dir']) {
    if (values[only] !== undefined) {
      throw new UsageError(`lockstock bench: --${only} goes with --durability`);
    }
  }
  if (values.scale === true) return scaleCommand(values.json === true);
  const { options, json, out } = readFlags(values);
  if (!json) {
    options.progress = process.stderr.isTTY
      ? (line) => process.stderr.write(`\r${line}\x1b[K`)
      : (line) => process.stderr.write(`${line}\n`);
  }
  const report = await sweep(options);
  if (!json && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  const figures = checkFigures(report);
  mkdirSync(out, { recursive: true });
  const resultsFile = path.join(out, 'results.json');
  const chartFile = path.join(out, 'scaling.svg');
  const document = {
    machine: report.machine,
    results: report.results,
    figures,
    notes: report.notes,
  };
  writeFileSync(
    resultsFile,
    `${JSON.stringify({ ...document, scenarios: report.scenarios }, null, 2)}\n`,
  );
  writeFileSync(chartFile, await svgChart(report));
  if (json) {
    process.stdout.write(`${JSON.stringify(document)}\n`);
  } else {
    process.stdout.write(formatSweep(report, options.threads, process.stdout.isTTY === true));
    process.stdout.write(`\nwrote ${resultsFile} and ${chartFile}\n`);
  }
  return 0;
}

/** `lockstock bench --scale`: each size in its own process, a table or JSON. */
async function scaleCommand(json: boolean): Promise<number> {
  const rows = await scale(SCALE_SIZES, (f) => {
    if (!json) process.stderr.write(`measured ${f.products} products\n`);
  });
  if (json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
  } else {
    process.stdout.write(formatScale(rows));
    process.stdout.write(
      'open ms: Inventory.open wall clock; stall ms: the longest gap a 5 ms timer saw during it;\n' +
        "RSS MB after open, the caller's products array included; lockStats ms and list ms (a 100-product\n" +
        'page right after a create or a delete): medians; get ns per call, ids as fresh strings;\n' +
        'updateMany ×: ops/s of updateMany over min(products, 1M) rows here ÷ the same rows over 1 000 products.\n\n',
    );
  }
  return 0;
}

/** Flags of the sweep that mean nothing to --durability. */
const SWEEP_ONLY = ['threads', 'modes', 'scenarios', 'skip-peers', 'out', 'scale'];

function durabilityConfig(v: ReturnType<typeof parse>): DurabilityOptions {
  const given = SWEEP_ONLY.find((name) => v[name] !== undefined);
  if (given !== undefined) {
    throw new UsageError(`lockstock bench: --${given} does not go with --durability`);
  }
  if (v.dir !== undefined && (typeof v.dir !== 'string' || v.dir === '')) {
    throw new UsageError(`lockstock bench: --dir must name a directory, got '${String(v.dir)}'`);
  }
  const quick = v.quick === true;
  return {
    dir: (v.dir as string | undefined) ?? tmpdir(),
    ...runsAndTime(v),
    loopUpdates: quick ? 50 : 200,
    heavy:
      v['skip-heavy'] === true
        ? null
        : quick
          ? { products: 20_000, checkpoints: 1, quietMs: 200 }
          : { products: 1_000_000, checkpoints: 3, quietMs: 1000 },
    progress: null,
  };
}

/** `lockstock bench --durability`: the cases of bench/durability.ts, a table or JSON. */
async function durabilityCommand(values: ReturnType<typeof parse>): Promise<number> {
  const options = durabilityConfig(values);
  const json = values.json === true;
  options.progress = (line) => process.stderr.write(`${line}\n`);
  const report = await durability(options);
  const figures = durabilityFigures(report);
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...report, figures })}\n`);
  } else {
    process.stdout.write(formatDurability(report, figures));
  }
  return 0;
}
