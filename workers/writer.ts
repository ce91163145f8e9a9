/**
 * What every row a pool thread applies shares: the chosen lock mode with the per-lock
 * debug lines around it, the clock a change is stamped with, the change offsets, the
 * benchmark knobs, and scratch space for a record. One per pool thread.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { counter64, HDR_OFFSET, type SharedViews } from '../memory/layout.js';
import { emptyRecord, lockedLastUpdated, nameScratch, readId } from '../memory/records.js';
import type { CrashHook } from './crash.js';
import type { LockMode } from './lock-mode.js';
import type { Recorder } from './recorder.js';

/**
 * Date.now() costs more than the rest of a locked update; rows run at a few hundred
 * nanoseconds each, so reading the clock every 128 rows keeps lastUpdated within a
 * fraction of a millisecond of the truth.
 */
const CLOCK_ROWS = 128;

export class Writer {
  /** Scratch for whole-record reads and publishes under a lock. */
  readonly record = emptyRecord();
  readonly name = nameScratch();
  /** A cached Date.now(), refreshed every CLOCK_ROWS rows (every row when simulating). */
  private clock = 0;
  private clockAge = CLOCK_ROWS;
  /**
   * Hold times cost one clock read per critical section: the read at each unlock is
   * also the mark the next critical section starts from (rows follow each other with
   * nothing between them but decoding), unless its lock had to be waited for, whose
   * wait ends with a clock read of its own.
   */
  private mark = 0;
  private acquiredAt = 0;

  constructor(
    readonly v: SharedViews,
    readonly locks: LockMode,
    /** Runs inside each product's critical section (the benchmark knobs), or null. */
    readonly simulate: (() => void) | null,
    /** Debug logger for the per-lock lines, or null when debug is off. */
    private readonly debug: Logger | null,
    /** Where committed changes go (recorder.ts), or null when they are not recorded. */
    readonly recorder: Recorder | null,
    /** The test hook simulate.crash (crash.ts), or null. */
    readonly crash: CrashHook | null = null,
  ) {}

  /** A batch starts: its first change reads the clock afresh. */
  startBatch(): void {
    this.clockAge = CLOCK_ROWS;
    this.mark = performance.now();
    this.recorder?.startBatch();
  }

  endBatch(): void {
    this.recorder?.endBatch();
  }

  /** Before each row: the lock mode's step (IX in fine mode), which may wait. */
  beforeRow(): void {
    const at = this.locks.beforeRow();
    if (at > 0) this.mark = at;
  }

  lock(slot: number): void {
    const at = this.locks.lock(slot);
    this.acquiredAt = at > 0 ? at : this.mark;
    this.crash?.locked(1);
    if (this.debug !== null) this.log(slot, 'Acquired write lock for product');
  }

  /** Microseconds since the held locks were acquired; the one clock read of a hold. */
  private held(): number {
    const now = performance.now();
    this.mark = now;
    return (now - this.acquiredAt) * 1000;
  }

  /** Releases `slot`'s lock; logs `after` as well (the original service's line). */
  unlock(slot: number, after?: string): void {
    const us = this.held();
    // Counted and the id read while the lock still keeps the slot to this thread.
    this.locks.recordHold(slot, us);
    const id = this.debug === null ? '' : readId(this.v, slot);
    this.locks.unlock(slot);
    if (this.debug !== null) {
      this.log(slot, 'Released write lock for product', id, Math.round(us));
      if (after !== undefined) this.log(slot, after, id);
    }
  }

  /** Locks an order's products, `slots` in ascending order; on a timeout, none. */
  lockAll(slots: Int32Array, count: number): void {
    const at = this.locks.lockAll(slots, count);
    this.acquiredAt = at > 0 ? at : this.mark;
    this.crash?.locked(count);
    if (this.debug !== null) {
      for (let i = 0; i < count; i++)
        this.log(slots[i] as number, 'Acquired write lock for product');
    }
  }

  unlockAll(slots: Int32Array, count: number): void {
    const us = this.held();
    this.locks.recordHoldAll(slots, count, us);
    const ids =
      this.debug === null ? null : Array.from(slots.subarray(0, count), (s) => readId(this.v, s));
    this.locks.unlockAll(slots, count);
    if (ids !== null) {
      for (let i = 0; i < count; i++) {
        this.log(slots[i] as number, 'Released write lock for product', ids[i], Math.round(us));
      }
    }
  }

  /** A debug line; a failing log destination must never leave a lock held. */
  private log(slot: number, message: string, id?: string, heldUs?: number): void {
    try {
      const productId = id ?? readId(this.v, slot);
      this.debug?.debug(
        heldUs === undefined
          ? { product_id: productId }
          : { product_id: productId, held_us: heldUs },
        message,
      );
    } catch {
      // Dropped: the per-lock lines are diagnostics, not part of the outcome.
    }
  }

  /**
   * The time to stamp a change of `slot` with: never earlier than the product's last
   * change, so that lastUpdated never goes back even across threads' cached clocks.
   */
  now(slot: number): number {
    if (this.simulate !== null || ++this.clockAge >= CLOCK_ROWS) {
      this.clock = Date.now();
      this.clockAge = 0;
    }
    return Math.max(this.clock, lockedLastUpdated(this.v, slot));
  }

  /** Takes `count` consecutive change offsets; returns the first. */
  takeOffsets(count: number): number {
    const first = Number(Atomics.add(this.v.i64, counter64(HDR_OFFSET), BigInt(count))) + 1;
    this.recorder?.taken(first, count);
    return first;
  }

  /** The changes written since the last commit reach the journal (recorder.ts). */
  commit(): void {
    this.recorder?.commit();
  }

  /** The committed changes are in their slots. */
  published(): void {
    this.recorder?.published();
  }
}
