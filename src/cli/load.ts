/**
 * The load runner: drives one engine through the programmatic API with a described
 * workload, measures it, and checks at the end that nothing was lost.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import hdr from 'hdr-histogram-js';
import { Inventory } from '../inventory.js';
import type { Durability, InventoryOptions, LockMode, LockStats } from '../types.js';
import { type Outcomes, Tally, type Violation, verify } from './books.js';
import { defaultCatalog } from './catalog.js';
import { type Client, perform } from './clients.js';
import { machine } from './machine.js';
import {
  formatMix,
  formatSkew,
  type Mix,
  OP_KINDS,
  type OpKind,
  type Skew,
  Workload,
} from './workload.js';

export type { Outcomes, Violation } from './books.js';

export interface LoadConfig {
  workers: number;
  products: number;
  /** Stop after this many operations, or… */
  ops: number | null;
  /** …after this many milliseconds. */
  durationMs: number | null;
  concurrency: number;
  skew: Skew;
  mix: Mix;
  orderSize: number;
  occ: boolean;
  retries: number;
  replay: number;
  workUs: number;
  holdUs: number;
  queueSize: number | null;
  seed: number;
  /** Keep each mode's changes in dataDir/<mode>, and verify on the reopened state. */
  dataDir: string | null;
  durability: Durability;
}

export interface LatencySummary {
  count: number;
  /** Microseconds. */
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** What was left to settle when a timed run's deadline came. */
export interface Drain {
  /** Operations started and not yet settled at the deadline: at most one per client. */
  inFlight: number;
  /** From the deadline to the last of them settling. */
  ms: number;
}

export interface LoadReport {
  mode: LockMode;
  ops: number;
  /** From the first operation to the last settling, drain included. */
  elapsedMs: number;
  /** Timed runs (--duration) only; null for --ops. */
  drain: Drain | null;
  /** Operations per second. */
  throughput: number;
  /** Per operation kind, in microseconds. */
  latency: Partial<Record<OpKind, LatencySummary>>;
  outcomes: Outcomes;
  lockStats: LockStats;
  pool: {
    utilization: number;
    batches: number;
    rowsPerBatch: number;
    /** Time batches waited for a free worker, ms. */
    queueWaitMs: { p50: number; p99: number; max: number };
  };
  /** Main-thread event-loop delay while the run went on, ms; `samples` delays measured. */
  eventLoopDelayMs: { samples: number; p50: number; p99: number; max: number };
  verification: { ok: boolean; violations: Violation[] };
}

export interface Progress {
  mode: LockMode;
  ops: number;
  elapsedMs: number;
  /** 0–1. */
  fraction: number;
  opsPerSec: number;
  /** Past the deadline: no new requests, `inFlight` operations left to settle. */
  draining: boolean;
  inFlight: number;
}

/** For tests of the verification itself: a change made behind the runner's back. */
export const FAULT_ENV = 'LOCKSTOCK_TEST_FAULT';

export function effectiveConfig(config: LoadConfig) {
  return {
    ...config,
    skew: formatSkew(config.skew),
    mix: formatMix(config.mix),
    ...machine(),
  };
}

function histogram() {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 120_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

function summary(h: ReturnType<typeof histogram>): LatencySummary {
  // A percentile reads as its bucket's highest value, which can pass the exact maximum.
  const at = (p: number) => Math.min(h.getValueAtPercentile(p), h.maxValue);
  return {
    count: h.totalCount,
    mean: Math.round(h.mean * 10) / 10,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max: h.maxValue,
  };
}

/** Runs the workload against a fresh engine in `mode`, then verifies the books. */
export async function runLoad(
  config: LoadConfig,
  mode: LockMode,
  onProgress?: (p: Progress) => void,
): Promise<LoadReport> {
  const catalog = defaultCatalog(config.products);
  const durable =
    config.dataDir === null
      ? {}
      : { dataDir: path.join(config.dataDir, mode), durability: config.durability };
  // The engine as run, and as reopened to check the books (without products or knobs).
  const engine = {
    workers: config.workers,
    lockMode: mode,
    capacity: config.products,
    logger: { level: 'warn', destination: 2 },
    ...durable,
  } satisfies InventoryOptions;
  const inv = await Inventory.open({
    ...engine,
    products: catalog,
    simulate: { workUs: config.workUs, holdUs: config.holdUs },
    ...(config.queueSize === null ? {} : { queueSize: config.queueSize }),
  });
  const initial = catalog.map((p) => inv.get(p.productId));
  const workload = new Workload({ ...config });
  const tally = new Tally(config.products);
  const latency = new Map<OpKind, ReturnType<typeof histogram>>();
  for (const kind of OP_KINDS) latency.set(kind, histogram());
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  const ids = catalog.map((p) => p.productId);

  const start = performance.now();
  const deadline =
    config.durationMs === null ? Number.POSITIVE_INFINITY : start + config.durationMs;
  const limit = config.ops ?? Number.POSITIVE_INFINITY;
  let done = 0;
  let inFlightAtDeadline: number | null = null;
  // The run is over at the deadline, whichever notices first: the timer, or a client
  // about to send (timers run late on a busy machine).
  const stop = () => {
    if (inFlightAtDeadline === null) inFlightAtDeadline = workload.count - done;
  };
  const stopped = () => {
    if (inFlightAtDeadline === null && performance.now() >= deadline) stop();
    return inFlightAtDeadline !== null;
  };
  const client: Client = {
    inv,
    ids,
    occ: config.occ,
    retries: config.retries,
    seed: config.seed,
    run: randomBytes(4).toString('hex'),
    tally,
    stopped,
  };

  const run = async () => {
    while (workload.count < limit && !stopped()) {
      const op = workload.next();
      const t0 = performance.now();
      await perform(client, op);
      (latency.get(op.kind) as ReturnType<typeof histogram>).recordValue(
        Math.max(1, Math.round((performance.now() - t0) * 1000)),
      );
      done++;
    }
  };

  loopDelay.enable();
  const deadlineTimer = config.durationMs === null ? null : setTimeout(stop, config.durationMs);
  const progressTimer =
    onProgress === undefined
      ? null
      : setInterval(() => {
          const elapsedMs = performance.now() - start;
          onProgress({
            mode,
            ops: done,
            elapsedMs,
            fraction: Math.min(
              1,
              config.ops !== null ? done / config.ops : elapsedMs / (config.durationMs ?? 1),
            ),
            opsPerSec: done / (elapsedMs / 1000),
            draining: stopped(),
            inFlight: workload.count - done,
          });
        }, 100);
  try {
    await Promise.all(Array.from({ length: config.concurrency }, run));
  } finally {
    if (deadlineTimer !== null) clearTimeout(deadlineTimer);
    if (progressTimer !== null) clearInterval(progressTimer);
    loopDelay.disable();
  }
  const settled = performance.now();
  const elapsedMs = settled - start;
  const drain: Drain | null =
    config.durationMs === null
      ? null
      : {
          inFlight: inFlightAtDeadline ?? 0,
          ms: Math.max(0, Math.round(settled - deadline)),
        };

  if (process.env[FAULT_ENV] === 'phantom-update') {
    // A change the runner does not account for: verification must catch it.
    await inv.update({ productId: ids[0] as string, delta: -1 });
  }
  const stats = inv.stats();
  const lockStats = inv.lockStats();
  let final = ids.map((id) => inv.get(id));
  await inv.close();
  if (config.dataDir !== null) {
    // The books are checked against what a restart recovers from disk.
    const reopened = await Inventory.open(engine);
    final = ids.map((id) => reopened.get(id));
    await reopened.close();
  }
  const violations = verify(ids, initial, final, tally);

  const latencyReport: Partial<Record<OpKind, LatencySummary>> = {};
  for (const [kind, h] of latency) if (h.totalCount > 0) latencyReport[kind] = summary(h);
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  return {
    mode,
    ops: done,
    elapsedMs: Math.round(elapsedMs),
    drain,
    throughput: Math.round(done / (elapsedMs / 1000)),
    latency: latencyReport,
    outcomes: tally.outcomes,
    lockStats,
    pool: {
      utilization: Math.round(stats.poolUtilization * 1000) / 1000,
      batches: stats.batches,
      rowsPerBatch: stats.batches === 0 ? 0 : Math.round((stats.rows / stats.batches) * 10) / 10,
      queueWaitMs: stats.taskWaitMs,
    },
    eventLoopDelayMs: {
      samples: loopDelay.count,
      p50: ms(loopDelay.percentile(50)),
      p99: ms(loopDelay.percentile(99)),
      max: ms(loopDelay.max),
    },
    verification: { ok: violations.length === 0, violations },
  };
}
