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
  SLOT_WORDS,
  slotBase,
} from '../memory/layout.js';
import type { Catalog } from './catalog.js';
import type { EngineStats, HotProduct, LockCounters, LockMode, LockStats } from './types.js';

const HOTTEST = 10;

/** The Int32 halves of a little-endian 64-bit counter (every platform Node runs on). */
const LOW_HALF = 0;
const HIGH_HALF = 1;

/**
 * Puts `slot` into `top` (at most HOTTEST slots, best first by `above`) if it ranks
 * there; returns whether it did.
 */
function keepTop(top: number[], slot: number, above: (a: number, b: number) => boolean): boolean {
  if (top.length === HOTTEST && !above(slot, top[HOTTEST - 1] as number)) return false;
  let i = Math.min(top.length, HOTTEST - 1);
  if (top.length < HOTTEST) top.push(slot);
  while (i > 0 && above(slot, top[i - 1] as number)) {
    top[i] = top[i - 1] as number;
    i--;
  }
  top[i] = slot;
  return true;
}

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
    const totals = this.scan();
    return {
      total_product_locks: this.catalog.size,
      lock_manager_type: 'fine_grained_per_product',
      ...totals.counters,
      hottest: totals.hottest.map((slot) => this.hot(slot)),
      hottestByHold: totals.hottestByHold.map((slot) => this.hot(slot)),
      global,
    };
  }

  /**
   * One pass over the live slots' lock lines with plain number arithmetic: no object
   * per product (a million of them cost ~200 ms), only the ten hottest by each measure
   * kept, as slots, in two small sorted arrays. Totals are summed in microseconds and
   * converted once, so they are exact sums of the counters.
   *
   * The counters are read with plain loads, not Atomics.load (~20 ns each here: 110 ms
   * a pass at a million products, against ~20 ms). A statistic needs no ordering with
   * anything else, and an aligned Int32 or Float64 element read is tear-free (the
   * ECMAScript memory model's [[NoTear]]), so a racing add shows as the value before it
   * or after it, as with Atomics.load.
   */
  private scan(): { counters: LockCounters; hottest: number[]; hottestByHold: number[] } {
    const i32 = this.views.i32;
    const f64 = this.views.f64;
    let acquisitions = this.retired.acquisitions;
    let contended = this.retired.contended;
    let waitUs = 0;
    let holdUs = 0;
    let maxHoldUs = 0;
    const hottest: number[] = [];
    const byHold: number[] = [];
    const hotter = (a: number, b: number) => this.hotter(a, b);
    const heldLonger = (a: number, b: number) => this.heldLonger(a, b);
    // What a slot must reach to enter a full top ten: most slots are turned away by one
    // comparison of numbers, with no call.
    let minContended = 1;
    let minHoldUs = Number.MIN_VALUE;
    const end = this.catalog.highWater;
    for (let slot = 0, lock = slotBase(0) + SLOT_LOCK; slot < end; slot++, lock += SLOT_WORDS) {
      if (this.catalog.idOf(slot) === undefined) continue;
      acquisitions += i32[lock + LOCK_ACQUIRED] as number;
      const c = i32[lock + LOCK_CONTENDED] as number;
      contended += c;
      const wait = this.waitUsFast(lock);
      waitUs += wait;
      const h = f64[float64(lock + LOCK_HOLD_US)] as number;
      holdUs += h;
      const max = f64[float64(lock + LOCK_HOLD_MAX_US)] as number;
      if (max > maxHoldUs) maxHoldUs = max;
      // Ties in contention are ranked by wait: a tie may enter, keepTop decides.
      if (c >= minContended && keepTop(hottest, slot, hotter)) {
        minContended = Math.max(1, this.contendedOf(hottest[HOTTEST - 1]));
      }
      if (h >= minHoldUs && keepTop(byHold, slot, heldLonger)) {
        minHoldUs = Math.max(Number.MIN_VALUE, this.holdUsOf(byHold[HOTTEST - 1]));
      }
    }
    const counters: LockCounters = {
      acquisitions,
      contended,
      waitMs: this.retired.waitMs + waitUs / 1000,
      holdMs: round3(this.retired.holdMs + holdUs / 1000),
      maxHoldMs: Math.max(this.retired.maxHoldMs, round3(maxHoldUs / 1000)),
    };
    return { counters, hottest, hottestByHold: byHold };
  }

  /**
   * The 64-bit wait counter of the lock at `lock`, read as two Int32 halves (no BigInt
   * per product). A worker adds to it while we read: the high half is read before and
   * after the low one, and the read is taken again if a carry moved it in between.
   * Atomics.load orders the three reads; plain loads could be reordered.
   */
  private waitUs(lock: number): number {
    const i32 = this.views.i32;
    const word = lock + LOCK_WAIT_US;
    for (;;) {
      const high = Atomics.load(i32, word + HIGH_HALF);
      const low = Atomics.load(i32, word + LOW_HALF) >>> 0;
      if (Atomics.load(i32, word + HIGH_HALF) === high) return high * 2 ** 32 + low;
    }
  }

  /** waitUs for the scan: no carry past 2^32 µs (71 min) yet, so the low half is all. */
  private waitUsFast(lock: number): number {
    const i32 = this.views.i32;
    const word = lock + LOCK_WAIT_US;
    return i32[word + HIGH_HALF] === 0 ? (i32[word + LOW_HALF] as number) >>> 0 : this.waitUs(lock);
  }

  /** Whether slot `a` ranks above slot `b` in `hottest`: more contended, then longer waits. */
  private hotter(a: number, b: number): boolean {
    const ca = this.contendedOf(a);
    const cb = this.contendedOf(b);
    if (ca !== cb) return ca > cb;
    return this.waitUs(slotBase(a) + SLOT_LOCK) > this.waitUs(slotBase(b) + SLOT_LOCK);
  }

  /** The contention count of `slot`; 0 for none (a top list not yet full). */
  private contendedOf(slot: number | undefined): number {
    return slot === undefined
      ? 0
      : (this.views.i32[slotBase(slot) + SLOT_LOCK + LOCK_CONTENDED] as number);
  }

  private holdUsOf(slot: number | undefined): number {
    return slot === undefined
      ? 0
      : (this.views.f64[float64(slotBase(slot) + SLOT_LOCK + LOCK_HOLD_US)] as number);
  }

  private heldLonger(a: number, b: number): boolean {
    return this.holdUsOf(a) > this.holdUsOf(b);
  }

  private hot(slot: number): HotProduct {
    return { productId: this.catalog.idOf(slot) as string, ...this.slot(slot) };
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
  | 'durableOffset'
  | 'threadDeaths'
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
