/**
 * The lock mode, chosen once per thread: which locks a row takes.
 *
 * - FineLocks: each product's own read/write lock (memory/rwlock.ts), with the global
 *   lock held in IX mode across a batch so that a consistent cut (S) can exclude
 *   writers; the thread steps aside between rows as soon as a cut waits.
 * - GlobalLocks: the global lock in X mode for every row — the single-mutex design
 *   lockstock is measured against. Product locks are not used.
 *
 * Both throw LockTimeoutError past the thread's bound, leaving nothing held.
 */
import { GLOBAL_IX, GLOBAL_NONE, GLOBAL_X } from '../memory/change-log.js';
import { exclusiveWaiting, globalLock, globalUnlock } from '../memory/global-lock.js';
import {
  GLOBAL_HOLD_MAX_US,
  GLOBAL_HOLD_US,
  HDR_GLOBAL_LOCK,
  LOCK_HOLD_MAX_US,
  LOCK_HOLD_US,
  type SharedViews,
  SLOT_LOCK,
  SLOT_OWNER,
  slotBase,
} from '../memory/layout.js';
import { LockTimeoutError, recordHold, writeLock, writeUnlock } from '../memory/rwlock.js';

export interface LockMode {
  /** Before each row of a batch; returns as lock() does. */
  beforeRow(): number;
  /** After each row of a batch. */
  afterRow(): void;
  /** After the batch's last row (also when it failed). */
  endBatch(): void;
  /**
   * Write-locks one product. Returns 0 when the lock was free at once, else the time
   * (performance.now()) the wait for it ended.
   */
  lock(slot: number): number;
  unlock(slot: number): void;
  /** Adds a hold of `us` to the counters of what lock(slot) took; call before unlock. */
  recordHold(slot: number, us: number): void;
  /**
   * Write-locks the products of an order, `slots` in ascending order (so no two threads
   * can wait on each other in a cycle). On a timeout nothing is left held.
   */
  lockAll(slots: Int32Array, count: number): number;
  unlockAll(slots: Int32Array, count: number): void;
  recordHoldAll(slots: Int32Array, count: number, us: number): void;
}

/**
 * Who holds: the thread's id, written into each product lock it takes, and a word
 * saying which global lock mode it holds (recorder.ts). Should the thread die holding
 * them, the caller's thread frees them by these (src/thread-death.ts).
 */
export interface Owner {
  readonly threadId: number;
  holdsGlobal(mode: number): void;
}

const nobody: Owner = { threadId: 0, holdsGlobal() {} };

class FineLocks implements LockMode {
  /** Whether this thread holds the global lock in IX mode right now. */
  private holdingIntent = false;

  constructor(
    private readonly v: SharedViews,
    private readonly timeoutMs: number,
    private readonly owner: Owner,
  ) {}

  beforeRow(): number {
    if (this.holdingIntent) return 0;
    const at = globalLock(this.v, HDR_GLOBAL_LOCK, 'IX', this.timeoutMs);
    this.holdingIntent = true;
    this.owner.holdsGlobal(GLOBAL_IX);
    return at;
  }

  afterRow(): void {
    // A cut (S) or an exclusive holder waits: let it in between two rows.
    if (exclusiveWaiting(this.v, HDR_GLOBAL_LOCK)) this.endBatch();
  }

  endBatch(): void {
    if (!this.holdingIntent) return;
    this.holdingIntent = false;
    this.owner.holdsGlobal(GLOBAL_NONE);
    globalUnlock(this.v, HDR_GLOBAL_LOCK, 'IX');
  }

  lock(slot: number): number {
    const at = writeLock(this.v, slotBase(slot) + SLOT_LOCK, this.timeoutMs);
    Atomics.store(this.v.i32, slotBase(slot) + SLOT_OWNER, this.owner.threadId);
    return at;
  }

  unlock(slot: number): void {
    Atomics.store(this.v.i32, slotBase(slot) + SLOT_OWNER, 0);
    writeUnlock(this.v, slotBase(slot) + SLOT_LOCK);
  }

  recordHold(slot: number, us: number): void {
    const lock = slotBase(slot) + SLOT_LOCK;
    recordHold(this.v, lock + LOCK_HOLD_US, lock + LOCK_HOLD_MAX_US, us);
  }

  lockAll(slots: Int32Array, count: number): number {
    let locked = 0;
    let at = 0;
    try {
      for (; locked < count; locked++) at = Math.max(at, this.lock(slots[locked] as number));
    } catch (error) {
      if (error instanceof LockTimeoutError) this.unlockAll(slots, locked);
      throw error;
    }
    return at;
  }

  recordHoldAll(slots: Int32Array, count: number, us: number): void {
    for (let i = 0; i < count; i++) this.recordHold(slots[i] as number, us);
  }

  unlockAll(slots: Int32Array, count: number): void {
    for (let i = count - 1; i >= 0; i--) this.unlock(slots[i] as number);
  }
}

class GlobalLocks implements LockMode {
  constructor(
    private readonly v: SharedViews,
    private readonly timeoutMs: number,
    private readonly owner: Owner,
  ) {}

  beforeRow(): number {
    return 0;
  }
  afterRow(): void {}
  endBatch(): void {}

  lock(_slot: number): number {
    const at = globalLock(this.v, HDR_GLOBAL_LOCK, 'X', this.timeoutMs);
    this.owner.holdsGlobal(GLOBAL_X);
    return at;
  }

  unlock(_slot: number): void {
    this.owner.holdsGlobal(GLOBAL_NONE);
    globalUnlock(this.v, HDR_GLOBAL_LOCK, 'X');
  }

  /** Every product's hold is the global lock's. */
  recordHold(_slot: number, us: number): void {
    const g = HDR_GLOBAL_LOCK;
    recordHold(this.v, g + GLOBAL_HOLD_US, g + GLOBAL_HOLD_MAX_US, us);
  }

  recordHoldAll(_slots: Int32Array, _count: number, us: number): void {
    this.recordHold(0, us);
  }

  /** One exclusive hold covers every product. */
  lockAll(_slots: Int32Array, _count: number): number {
    return this.lock(0);
  }

  unlockAll(_slots: Int32Array, _count: number): void {
    this.unlock(0);
  }
}

export function lockMode(
  v: SharedViews,
  mode: 'fine' | 'global',
  timeoutMs: number,
  owner: Owner = nobody,
): LockMode {
  return mode === 'fine'
    ? new FineLocks(v, timeoutMs, owner)
    : new GlobalLocks(v, timeoutMs, owner);
}
