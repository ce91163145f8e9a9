/**
 * The load runner: drives one engine through the programmatic API with a described
 * workload, measures it, and checks at the end that nothing was lost.
 */
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import hdr from 'hdr-histogram-js';
import { Inventory } from '../inventory.js';
import type { LockMode, LockStats, OrderOutcome, UpdateOutcome, UpdateRequest } from '../types.js';
import { defaultCatalog } from './catalog.js';
import {
  formatMix,
  formatSkew,
  type Mix,
  OP_KINDS,
  type Op,
  type OpKind,
  type Skew,
  Workload,
} from './workload.js';

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

export interface Outcomes {
  applied: number;
  version_conflict: number;
  insufficient_inventory: number;
  not_found: number;
  invalid_request: number;
  queue_full: number;
  /** Re-sent updates answered from the idempotency cache. */
  replayed: number;
  /** OCC re-reads and re-tries after a version conflict. */
  retried: number;
  reads: number;
  lists: number;
}

export interface Violation {
  productId: string;
  check: string;
  expected: number | string;
  actual: number | string;
}

export interface LoadReport {
  mode: LockMode;
  ops: number;
  elapsedMs: number;
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
  /** Main-thread event-loop delay while the run went on, ms. */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  verification: { ok: boolean; violations: Violation[] };
}

export interface Progress {
  mode: LockMode;
  ops: number;
  elapsedMs: number;
  /** 0–1. */
  fraction: number;
  opsPerSec: number;
}

/** For tests of the verification itself: a change made behind the runner's back. */
export const FAULT_ENV = 'LOCKSTOCK_TEST_FAULT';

export function effectiveConfig(config: LoadConfig) {
  return {
    ...config,
    skew: formatSkew(config.skew),
    mix: formatMix(config.mix),
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
  };
}

class Tally {
  readonly deltas: Float64Array;
  readonly changes: Int32Array;
  readonly outcomes: Outcomes = {
    applied: 0,
    version_conflict: 0,
    insufficient_inventory: 0,
    not_found: 0,
    invalid_request: 0,
    queue_full: 0,
    replayed: 0,
    retried: 0,
    reads: 0,
    lists: 0,
  };
  readonly violations: Violation[] = [];
  /** Lowest stock any outcome reported. */
  lowest = Number.POSITIVE_INFINITY;

  constructor(products: number) {
    this.deltas = new Float64Array(products);
    this.changes = new Int32Array(products);
  }

  update(product: number, delta: number, o: UpdateOutcome): void {
    this.count(o.status);
    if (o.status === 'applied') {
      this.deltas[product] = (this.deltas[product] as number) + delta;
      this.changes[product] = (this.changes[product] as number) + 1;
    }
    if ('available' in o) this.lowest = Math.min(this.lowest, o.available);
  }

  order(products: number[], deltas: number[], o: OrderOutcome): void {
    this.count(o.status);
    if (o.status !== 'applied') return;
    products.forEach((p, i) => {
      this.deltas[p] = (this.deltas[p] as number) + (deltas[i] as number);
      this.changes[p] = (this.changes[p] as number) + 1;
    });
    for (const item of o.items) this.lowest = Math.min(this.lowest, item.available);
  }

  private count(status: string): void {
    const o = this.outcomes;
    if (status === 'applied') o.applied++;
    else if (status === 'version_conflict') o.version_conflict++;
    else if (status === 'insufficient_inventory') o.insufficient_inventory++;
    else if (status === 'product_not_found') o.not_found++;
    else if (status === 'queue_full') o.queue_full++;
    else o.invalid_request++;
  }
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
  const inv = await Inventory.open({
    workers: config.workers,
    lockMode: mode,
    capacity: config.products,
    products: catalog,
    simulate: { workUs: config.workUs, holdUs: config.holdUs },
    logger: { level: 'warn', destination: 2 },
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

  const client = async () => {
    while (workload.count < limit && performance.now() < deadline) {
      const op = workload.next();
      const t0 = performance.now();
      await perform(inv, op, ids, config, tally);
      (latency.get(op.kind) as ReturnType<typeof histogram>).recordValue(
        Math.max(1, Math.round((performance.now() - t0) * 1000)),
      );
      done++;
    }
  };

  loopDelay.enable();
  const timer =
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
          });
        }, 100);
  try {
    await Promise.all(Array.from({ length: config.concurrency }, client));
  } finally {
    if (timer !== null) clearInterval(timer);
    loopDelay.disable();
  }
  const elapsedMs = performance.now() - start;

  if (process.env[FAULT_ENV] === 'phantom-update') {
    // A change the runner does not account for: verification must catch it.
    await inv.update({ productId: ids[0] as string, delta: -1 });
  }
  const stats = inv.stats();
  const lockStats = inv.lockStats();
  const violations = verify(inv, ids, initial, tally);
  await inv.close();

  const latencyReport: Partial<Record<OpKind, LatencySummary>> = {};
  for (const [kind, h] of latency) if (h.totalCount > 0) latencyReport[kind] = summary(h);
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  return {
    mode,
    ops: done,
    elapsedMs: Math.round(elapsedMs),
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
      p50: ms(loopDelay.percentile(50)),
      p99: ms(loopDelay.percentile(99)),
      max: ms(loopDelay.max),
    },
    verification: { ok: violations.length === 0, violations },
  };
}

async function perform(inv: Inventory, op: Op, ids: string[], config: LoadConfig, tally: Tally) {
  switch (op.kind) {
    case 'read':
      inv.get(ids[op.product] as string);
      tally.outcomes.reads++;
      return;
    case 'list':
      await inv.list({ limit: 100, after: ids[op.product] as string });
      tally.outcomes.lists++;
      return;
    case 'order': {
      const items = op.products.map((p, i) => ({
        productId: ids[p] as string,
        delta: op.deltas[i] as number,
      }));
      tally.order(op.products, op.deltas, await inv.order({ items }));
      return;
    }
    case 'update':
      await update(inv, op, ids[op.product] as string, config, tally);
  }
}

async function update(
  inv: Inventory,
  op: Extract<Op, { kind: 'update' }>,
  id: string,
  config: LoadConfig,
  tally: Tally,
) {
  for (let attempt = 0; ; attempt++) {
    const request: UpdateRequest = { productId: id, delta: op.delta };
    if (config.occ) {
      const current = inv.get(id);
      if (current !== undefined) request.expectedVersion = current.version;
    }
    // A retry after a conflict is a new request, so it takes a new key.
    if (op.replay) request.idempotencyKey = `load-${config.seed}-${op.index}-${attempt}`;
    const outcome = await inv.update(request);
    tally.update(op.product, op.delta, outcome);
    if (op.replay) {
      // The client lost the reply and sends the same request again.
      const again = await inv.update({ ...request });
      if (JSON.stringify(again) === JSON.stringify(outcome)) tally.outcomes.replayed++;
      else {
        tally.violations.push({
          productId: id,
          check: `replayed key ${request.idempotencyKey} answered the same outcome`,
          expected: JSON.stringify(outcome),
          actual: JSON.stringify(again),
        });
      }
    }
    if (outcome.status !== 'version_conflict' || attempt >= config.retries) return;
    tally.outcomes.retried++;
  }
}

/** The books: every product's stock and version against what the runner saw applied. */
function verify(
  inv: Inventory,
  ids: string[],
  initial: ReturnType<Inventory['get']>[],
  tally: Tally,
): Violation[] {
  const violations = [...tally.violations];
  ids.forEach((id, i) => {
    const before = initial[i];
    const after = inv.get(id);
    if (before === undefined || after === undefined) {
      violations.push({
        productId: id,
        check: 'product exists',
        expected: 'present',
        actual: 'missing',
      });
      return;
    }
    const available = before.available + (tally.deltas[i] as number);
    if (after.available !== available) {
      violations.push({
        productId: id,
        check: 'initial + Σ applied deltas = final',
        expected: available,
        actual: after.available,
      });
    }
    const version = before.version + (tally.changes[i] as number);
    if (after.version !== version) {
      violations.push({
        productId: id,
        check: 'version = initial + applied changes',
        expected: version,
        actual: after.version,
      });
    }
    if (after.available < 0) {
      violations.push({
        productId: id,
        check: 'stock never negative',
        expected: '≥ 0',
        actual: after.available,
      });
    }
  });
  if (tally.lowest < 0) {
    violations.push({
      productId: '*',
      check: 'no outcome reported negative stock',
      expected: '≥ 0',
      actual: tally.lowest,
    });
  }
  return violations;
}
