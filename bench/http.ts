/**
 * `lockstock bench --http` (`npm run bench:http`): `lockstock serve` driven over
 * loopback by autocannon (programmatic), beside a bare fastify route answering a
 * constant JSON (bench/http-bare.ts) on the same machine in the same run. Each server
 * runs in a process of its own, as a deployment would; autocannon runs in this one.
 *
 * Scenarios, each with `--connections` (64) connections: single updates, batches of 100
 * updates, reads of one product; and the bare route on GET and on POST with the same
 * JSON body as a single update. Runs are interleaved over `--rounds` and the median
 * run is reported. The ratio to read is a single update's requests/s over the bare
 * POST's: the project aims at ≥ 0.7×, i.e. the engine is not what limits the server.
 *
 * lockstock runs with an API key (every request authenticated) and metrics on, and the
 * rate limit off (it would cap the bench at its budget).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { numberOption, type OptionSpecs, parse, usage } from '../src/cli/args.js';
import { idWidth, productId } from '../src/cli/catalog.js';
import { describeMachine, type Machine, machine } from '../src/cli/machine.js';
import { table } from '../src/cli/table.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const BARE = fileURLToPath(new URL('./http-bare.js', import.meta.url));
const KEY = 'bench-key';
const BATCH = 100;
/** Distinct request bodies each scenario cycles through (built once, sent as is). */
const DISTINCT = 1000;
/**
 * Pool threads of the served engine: the load generator runs on the same machine and
 * takes a core, and the server's main thread another; on 2 cores a second pool thread
 * only competes with them (measured: more requests/s with one than with two).
 */
const POOL_DEFAULT = Math.max(1, Math.floor(os.availableParallelism() / 2));
/** The ratio of single updates to the bare route the project aims at. */
const TARGET = 0.7;

export const HTTP_BENCH_OPTIONS: OptionSpecs = {
  duration: {
    type: 'string',
    value: 's',
    help: 'seconds per run',
    default: 3,
    range: { min: 1, max: 600, integer: true },
  },
  rounds: {
    type: 'string',
    value: 'n',
    help: 'interleaved rounds of every scenario; medians are reported',
    default: 5,
    range: { min: 1, max: 20, integer: true },
  },
  connections: {
    type: 'string',
    value: 'n',
    help: 'connections autocannon keeps open',
    default: 64,
    range: { min: 1, max: 10_000, integer: true },
  },
  workers: {
    type: 'string',
    value: 'n',
    help: "lockstock's pool threads: half the cores, the rest left to its main thread and the client",
    default: POOL_DEFAULT,
    range: { min: 1, max: 256, integer: true },
  },
  products: {
    type: 'string',
    value: 'n',
    help: 'products in the served catalog',
    default: 1000,
    range: { min: 1, max: 1_000_000, integer: true },
  },
  json: { type: 'boolean', help: 'print the figures as JSON and nothing else' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

const SUMMARY = [
  'Drives `lockstock serve` over loopback with autocannon (single updates, batches of 100,',
  'reads) beside a bare fastify route answering a constant JSON, each server in its own',
  'process, in one run. Reports requests/s, p50/p99/p99.9 and the ratio to the bare route.',
].join('\n');

type Target = 'bare' | 'lockstock';

interface Scenario {
  key: string;
  label: string;
  target: Target;
  /** Updates per request, for updates/s. */
  updates: number;
  requests: (products: number) => autocannon.Request[];
}

/** A fixed pseudo-random sequence of product indexes: the same requests every run. */
function picks(count: number, products: number): number[] {
  let x = 0x2545f491;
  return Array.from({ length: count }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % products;
  });
}

const json = { 'content-type': 'application/json' };
/** Sales and restocks in turn, so that a long run never empties a product. */
const delta = (i: number) => (i % 2 === 0 ? -1 : 1);
const single = (products: number, path: string): autocannon.Request[] =>
  picks(DISTINCT, products).map((p, i) => ({
    method: 'POST',
    path,
    headers: json,
    body: JSON.stringify({ productId: productId(p, idWidth(products)), delta: delta(i) }),
  }));

const SCENARIOS: Scenario[] = [
  {
    key: 'bare-post',
    label: 'bare fastify POST, constant JSON',
    target: 'bare',
    updates: 0,
    requests: (n) => single(n, '/bare'),
  },
  {
    key: 'update',
    label: 'single update',
    target: 'lockstock',
    updates: 1,
    requests: (n) => single(n, '/v1/inventory/updates'),
  },
  {
    key: 'batch',
    label: `batch of ${BATCH} updates`,
    target: 'lockstock',
    updates: BATCH,
    requests: (n) =>
      Array.from({ length: DISTINCT / 10 }, (_, r) => ({
        method: 'POST',
        path: '/v1/inventory/updates',
        headers: json,
        body: JSON.stringify({
          updates: picks(BATCH * (r + 1), n)
            .slice(BATCH * r)
            .map((p, i) => ({ productId: productId(p, idWidth(n)), delta: delta(i) })),
        }),
      })),
  },
  {
    key: 'bare-get',
    label: 'bare fastify GET, constant JSON',
    target: 'bare',
    updates: 0,
    requests: () => [{ method: 'GET', path: '/bare' }],
  },
  {
    key: 'read',
    label: 'read one product',
    target: 'lockstock',
    updates: 0,
    requests: (n) =>
      picks(DISTINCT, n).map((i) => ({
        method: 'GET',
        path: `/v1/inventory/${productId(i, idWidth(n))}`,
      })),
  },
];

interface Process {
  url: string;
  stop(): Promise<void>;
}

/** Starts `node script args` and waits for the URL it prints. */
function startProcess(script: string, args: string[]): Promise<Process> {
  const child: ChildProcess = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (match === null) return;
      child.stdout?.off('data', onData);
      child.stdout?.resume();
      resolve({
        url: match[1] as string,
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    void exited.then(() => reject(new Error(`${script} exited before listening: ${out}`)));
  });
}

export interface Figures {
  scenario: string;
  label: string;
  requestsPerSec: number;
  updatesPerSec: number;
  latencyMs: { p50: number; p99: number; p999: number };
  non2xx: number;
  errors: number;
}

async function run(url: string, s: Scenario, o: HttpBenchOptions): Promise<Figures> {
  const r = await autocannon({
    url,
    connections: o.connections,
    duration: o.durationS,
    headers: s.target === 'lockstock' ? { 'x-api-key': KEY } : {},
    requests: s.requests(o.products),
  });
  return {
    scenario: s.key,
    label: s.label,
    requestsPerSec: r.requests.average,
    updatesPerSec: r.requests.average * s.updates,
    latencyMs: { p50: r.latency.p50, p99: r.latency.p99, p999: r.latency.p99_9 },
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

export interface HttpBenchOptions {
  durationS: number;
  workers: number;
  rounds: number;
  connections: number;
  products: number;
  progress: ((line: string) => void) | null;
}

type Ratios = { update: number; read: number; batchUpdates: number };

export interface HttpBenchReport {
  machine: Machine;
  options: Omit<HttpBenchOptions, 'progress'>;
  results: Figures[];
  /** The median over rounds of each round's ratio (its two runs back to back). */
  ratios: Ratios;
  /** Each round's ratios: their spread is the noise of the machine. */
  rounds: Ratios[];
  target: { update: number; met: boolean };
}

/** The median run of each scenario, by requests/s. */
function median(runs: Figures[]): Figures {
  const sorted = [...runs].sort((a, b) => a.requestsPerSec - b.requestsPerSec);
  return sorted[Math.floor((sorted.length - 1) / 2)] as Figures;
}

function medianOf(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const m =
    sorted.length % 2 === 1
      ? (sorted[Math.floor(mid)] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return Math.round(m * 100) / 100;
}

/** One round's ratios: single updates and reads over the bare route, batches over singles. */
function ratiosOf(round: Map<string, Figures>): Ratios {
  const rps = (key: string) => round.get(key)?.requestsPerSec ?? 0;
  const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
  return {
    update: ratio(rps('update'), rps('bare-post')),
    read: ratio(rps('read'), rps('bare-get')),
    batchUpdates: ratio(rps('batch') * BATCH, rps('update')),
  };
}

async function benchHttp(o: HttpBenchOptions): Promise<HttpBenchReport> {
  const bare = await startProcess(BARE, []);
  const served = await startProcess(MAIN, [
    'serve',
    '--port',
    '0',
    '--products',
    String(o.products),
    '--workers',
    String(o.workers),
    '--api-keys',
    KEY,
    '--rate-limit',
    'false',
    '--log-level',
    'info',
  ]);
  const urls: Record<Target, string> = { bare: bare.url, lockstock: served.url };
  try {
    // Warm both servers (JIT, connections) before anything is measured.
    const warm = { ...o, durationS: 1 };
    for (const s of SCENARIOS) await run(urls[s.target], s, warm);
    const runs = new Map<string, Figures[]>();
    const rounds: Ratios[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      const figures = new Map<string, Figures>();
      for (const s of SCENARIOS) {
        const f = await run(urls[s.target], s, o);
        figures.set(s.key, f);
        runs.set(s.key, [...(runs.get(s.key) ?? []), f]);
        o.progress?.(
          `round ${round}/${o.rounds}  ${s.label}: ${Math.round(f.requestsPerSec)} requests/s`,
        );
      }
      rounds.push(ratiosOf(figures));
    }
    const ratios: Ratios = {
      update: medianOf(rounds.map((r) => r.update)),
      read: medianOf(rounds.map((r) => r.read)),
      batchUpdates: medianOf(rounds.map((r) => r.batchUpdates)),
    };
    const { progress: _, ...options } = o;
    return {
      machine: machine(),
      options,
      results: SCENARIOS.map((s) => median(runs.get(s.key) ?? [])),
      ratios,
      rounds: rounds.map((r) => ({
        update: Math.round(r.update * 100) / 100,
        read: Math.round(r.read * 100) / 100,
        batchUpdates: Math.round(r.batchUpdates * 100) / 100,
      })),
      target: { update: TARGET, met: ratios.update >= TARGET },
    };
  } finally {
    await Promise.all([bare.stop(), served.stop()]);
  }
}

const n = (x: number) => Math.round(x).toLocaleString('en-US');
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));

function formatHttp(report: HttpBenchReport): string {
  const { options: o, ratios } = report;
  const vs: Record<string, string> = {
    update: `${ratios.update}× bare POST`,
    read: `${ratios.read}× bare GET`,
    batch: `${ratios.batchUpdates}× single updates' updates/s`,
  };
  const rows = [
    ['scenario', 'requests/s', 'updates/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'ratio'],
    ...report.results.map((r) => [
      r.label,
      n(r.requestsPerSec),
      r.updatesPerSec > 0 ? n(r.updatesPerSec) : '',
      ms(r.latencyMs.p50),
      ms(r.latencyMs.p99),
      ms(r.latencyMs.p999),
      vs[r.scenario] ?? '',
    ]),
  ];
  const failed = report.results.filter((r) => r.non2xx > 0 || r.errors > 0);
  return [
    `lockstock bench --http on ${describeMachine(report.machine)}: ${o.connections} connections, ` +
      `${o.durationS} s runs, ${o.rounds} rounds, ${o.products} products, ${o.workers} pool thread${o.workers === 1 ? '' : 's'}`,
    '',
    table(rows, { align: ['left', 'right', 'right', 'right', 'right', 'right', 'left'] }),
    '',
    `ratios are medians of each round's (per round, single updates vs bare POST: ${report.rounds.map((r) => `${r.update}×`).join(', ')})`,
    `single updates: ${ratios.update}× the bare route (target ≥ ${TARGET}×: ${report.target.met ? 'met' : 'NOT met'})`,
    ...failed.map(
      (r) => `warning: ${r.label}: ${r.non2xx} answers were not 2xx, ${r.errors} errors`,
    ),
    '',
  ].join('\n');
}

/** Runs `lockstock bench --http`; returns the exit code. */
export async function httpBenchCommand(argv: string[]): Promise<number> {
  const v = parse('bench --http', argv, HTTP_BENCH_OPTIONS);
  if (v.help === true) {
    process.stdout.write(usage('bench --http', SUMMARY, HTTP_BENCH_OPTIONS));
    return 0;
  }
  const num = (name: string) =>
    numberOption('bench --http', name, v[name], HTTP_BENCH_OPTIONS[name] as never);
  const json = v.json === true;
  const report = await benchHttp({
    durationS: num('duration'),
    workers: num('workers'),
    rounds: num('rounds'),
    connections: num('connections'),
    products: num('products'),
    progress: json ? null : (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(json ? `${JSON.stringify(report)}\n` : formatHttp(report));
  // Every request of every scenario should succeed: stock is ample and no key is reused.
  return report.results.every((r) => r.non2xx === 0 && r.errors === 0) ? 0 : 1;
}
