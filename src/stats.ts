/**
 * Statistics read from shared memory: the lock counters every acquisition adds to,
 * and the engine's own counters. Reading them takes no lock and stops nobody.
 */
import type { Piscina } from 'piscina';
import {
  counter64,
  float64,
  GLOBAL_ACQUIRED,
  GLOBAL_CONTENDED,
  GLOBAL_HOLD_MAX_US,
  GLOBAL_HOLD_US,
  GLOBAL_WAIT_US,
  HDR_BUSY_US,
  HDR_GLOBAL_LOCK,
  HDR_OFFSET,
  LOCK_ACQUIRED,
  LOCK_CONTENDED,
  LOCK_HOLD_MAX_US,
  LOCK_HOLD_US,
  LOCK_WAIT_US,
  type SharedViews,
  SLOT_LOCK,
  slotBase,
} from '../memory/layout.js';
import type { Catalog } from './catalog.js';
import type { EngineStats, HotProduct, LockCounters, LockMode, LockStats } from './types.js';

const HOTTEST = 10;

function add(into: LockCounters, c: LockCounters): void {
  into.acquisitions += c.acquisitions;
  into.contended += c.contended;
  into.waitMs += c.waitMs;
  into.holdMs += c.holdMs;
  into.maxHoldMs = Math.max(into.maxHoldMs, c.maxHoldMs);
}

function round3(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 1000) / 1000 : 0;
}

export class LockCounterReader {
  /** Counters of deleted products' locks, so totals never go down. */
  private readonly retired: LockCounters = {
    acquisitions: 0,
    contended: 0,
    waitMs: 0,
    holdMs: 0,
    maxHoldMs: 0,
  };

  constructor(
    private readonly views: SharedViews,
    private readonly catalog: Catalog,
    private readonly lockMode: LockMode,
  ) {}

  lockStats(): LockStats {
    const i32 = this.views.i32;
    const g = HDR_GLOBAL_LOCK;
    const global: LockCounters = {
      acquisitions: Atomics.load(i32, g + GLOBAL_ACQUIRED),
      contended: Atomics.load(i32, g + GLOBAL_CONTENDED),
      waitMs: Number(Atomics.load(this.views.i64, counter64(g + GLOBAL_WAIT_US))) / 1000,
      ...this.holds(g + GLOBAL_HOLD_US, g + GLOBAL_HOLD_MAX_US),
    };
    if (this.lockMode === 'global') {
      return {
        total_product_locks: 0,
        lock_manager_type: 'global',
        ...global,
        hottest: [],
        hottestByHold: [],
        global,
      };
    }
    const totals: LockCounters = { ...this.retired };
    const hot: HotProduct[] = [];
    const held: HotProduct[] = [];
    for (const [productId, slot] of this.catalog.entries()) {
      const counters = this.slot(slot);
      add(totals, counters);
      const entry = { productId, ...counters };
      if (counters.contended > 0) hot.push(entry);
      if (counters.holdMs > 0) held.push(entry);
    }
    hot.sort((a, b) => b.contended - a.contended || b.waitMs - a.waitMs);
    held.sort((a, b) => b.holdMs - a.holdMs);
    totals.holdMs = round3(totals.holdMs);
    return {
      total_product_locks: this.catalog.size,
      lock_manager_type: 'fine_grained_per_product',
      ...totals,
      hottest: hot.slice(0, HOTTEST),
      hottestByHold: held.slice(0, HOTTEST),
      global,
    };
  }

  /** Keeps a deleted product's lock counters in the totals. */
  retire(slot: number): void {
    add(this.retired, this.slot(slot));
  }

  private slot(slot: number): LockCounters {
    const lock = slotBase(slot) + SLOT_LOCK;
    const i32 = this.views.i32;
    return {
      acquisitions: Atomics.load(i32, lock + LOCK_ACQUIRED),
      contended: Atomics.load(i32, lock + LOCK_CONTENDED),
      waitMs: Number(Atomics.load(this.views.i64, counter64(lock + LOCK_WAIT_US))) / 1000,
      ...this.holds(lock + LOCK_HOLD_US, lock + LOCK_HOLD_MAX_US),
    };
  }

  /** Hold counters (Float64 µs, written by the holder with plain stores), in ms. */
  private holds(total: number, max: number): { holdMs: number; maxHoldMs: number } {
    const f64 = this.views.f64;
    return {
      holdMs: round3((f64[float64(total)] as number) / 1000),
      maxHoldMs: round3((f64[float64(max)] as number) / 1000),
    };
  }
}

/** What stats() reports beside the shared counters, from the caller's thread. */
export type CallerCounters = Pick<
  EngineStats,
  | 'queued'
  | 'queueSize'
  | 'tasksInFlight'
  | 'batches'
  | 'rows'
  | 'replays'
  | 'queueFull'
  | 'idempotencyKeys'
>;

export function engineStats(
  views: SharedViews,
  catalog: Catalog,
  pool: Piscina,
  workers: number,
  openedAt: number,
  caller: CallerCounters,
): EngineStats {
  const wait = pool.histogram.waitTime;
  const busyMs = Number(Atomics.load(views.i64, counter64(HDR_BUSY_US))) / 1000;
  const capacityMs = (performance.now() - openedAt) * workers;
  return {
    products: catalog.size,
    capacity: catalog.capacity,
    workers,
    ...caller,
    offset: Number(Atomics.load(views.i64, counter64(HDR_OFFSET))),
    // Share of the pool threads' time spent applying batches since open.
    poolUtilization: capacityMs > 0 ? Math.min(1, busyMs / capacityMs) : 0,
    taskWaitMs: { p50: round3(wait.p50), p99: round3(wait.p99), max: round3(wait.max) },
  };
}
