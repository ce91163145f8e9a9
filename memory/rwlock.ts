/**
 * A read/write lock on Int32 words of a SharedArrayBuffer, one per product.
 *
 * The algorithm is Rust std's futex RwLock (library/std/src/sys/sync/rwlock/futex.rs),
 * with Atomics.wait/notify as the futex:
 *
 * - `state` holds the reader count in its low 30 bits (all ones = write-locked),
 *   bit 30 READERS_WAITING and bit 31 WRITERS_WAITING.
 * - `writer notify` is a counter writers sleep on, so that waking one writer never
 *   wakes the readers parked on `state`.
 * - It prefers writers: while a writer waits, new readers queue behind it, so a
 *   stream of readers cannot starve a writer.
 * - The uncontended paths are one compare-exchange to lock and one fetch-sub to
 *   unlock; nobody calls notify unless a waiting bit is set.
 *
 * Contract (as js-lock-and-condition states for its Lock):
 * - The words occupy LOCK_WORDS Int32s at `base`; the first pair of the
 *   LOCK_WAIT_US BigInt64 must be 8-byte aligned. All start at zero.
 * - Not recursive: a thread that holds the lock and locks it again deadlocks
 *   until the time bound fails it.
 * - Only the thread that locked may unlock, once.
 * - Never call a locking function on the main thread: Atomics.wait there stalls the
 *   event loop. The contended path refuses to.
 * - Every wait is bounded: past `timeoutMs` the call throws LockTimeoutError and
 *   leaves the lock as consistent as it found it.
 *
 * Each acquisition adds to the lock's counters: acquisitions, contended
 * acquisitions (those that took the slow path) and microseconds waited.
 */
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import {
  counter64,
  float64,
  LOCK_ACQUIRED,
  LOCK_CONTENDED,
  LOCK_STATE,
  LOCK_WAIT_US,
  LOCK_WRITER_NOTIFY,
  type SharedViews,
} from './layout.js';

/** Lock state bits. Bit 31 is the sign bit of an Int32: test it with `!== 0`. */
export const READ_LOCKED = 1;
export const MASK = (1 << 30) - 1;
export const WRITE_LOCKED = MASK;
export const MAX_READERS = MASK - 1;
export const READERS_WAITING = 1 << 30;
export const WRITERS_WAITING = 1 << 31;

/** Spins before parking: long enough to ride out a short critical section. */
const SPIN_LIMIT = 100;

export class LockTimeoutError extends Error {
  readonly code = 'LOCK_TIMEOUT';
  constructor(
    readonly mode: 'read' | 'write' | 'IX' | 'S' | 'X',
    readonly timeoutMs: number,
    readonly state: number,
    what = 'lock',
  ) {
    super(
      `${mode} ${what} not acquired within ${timeoutMs} ms ` +
        `(lock state 0x${(state >>> 0).toString(16)}): another thread held it too long or died holding it`,
    );
    this.name = 'LockTimeoutError';
  }
}

export function assertMayBlock(): void {
  if (isMainThread) {
    throw new Error('a lockstock lock would block the main thread: take it in a worker');
  }
}

function isUnlocked(s: number): boolean {
  return (s & MASK) === 0;
}
function isWriteLocked(s: number): boolean {
  return (s & MASK) === WRITE_LOCKED;
}
function hasReadersWaiting(s: number): boolean {
  return (s & READERS_WAITING) !== 0;
}
function hasWritersWaiting(s: number): boolean {
  return (s & WRITERS_WAITING) !== 0;
}
function isReadLockable(s: number): boolean {
  return (s & MASK) < MAX_READERS && !hasReadersWaiting(s) && !hasWritersWaiting(s);
}

/**
 * Records a contended acquisition that started at `startMs`; returns the time it read
 * (when the lock was acquired), so that the caller can time its hold without reading
 * the clock again.
 */
export function recordWait(
  v: SharedViews,
  countIndex: number,
  waitIndex: number,
  startMs: number,
): number {
  Atomics.add(v.i32, countIndex, 1);
  const now = performance.now();
  const us = Math.round((now - startMs) * 1000);
  if (us > 0) Atomics.add(v.i64, counter64(waitIndex), BigInt(us));
  return now;
}

/**
 * Adds a hold of `us` microseconds to the hold counters at `totalIndex` and `maxIndex`
 * (Float64 word pairs). Only the exclusive holder of that lock may call it.
 */
export function recordHold(v: SharedViews, totalIndex: number, maxIndex: number, us: number) {
  const f64 = v.f64;
  const total = float64(totalIndex);
  const max = float64(maxIndex);
  f64[total] = (f64[total] as number) + us;
  if (us > (f64[max] as number)) f64[max] = us;
}

/**
 * Acquires the lock at `base` for writing. Returns 0 when it was free at once, else
 * the time (performance.now()) at which the contended wait ended.
 */
export function writeLock(v: SharedViews, base: number, timeoutMs: number): number {
  const i32 = v.i32;
  let acquiredAt = 0;
  if (Atomics.compareExchange(i32, base + LOCK_STATE, 0, WRITE_LOCKED) !== 0) {
    acquiredAt = writeContended(v, base, timeoutMs);
  }
  // Exclusive now: a plain increment cannot race with another (readers count with
  // Atomics.add, but never while a writer holds the lock).
  i32[base + LOCK_ACQUIRED] = ((i32[base + LOCK_ACQUIRED] as number) + 1) | 0;
  return acquiredAt;
}

/** Releases a write lock taken by this thread. */
export function writeUnlock(v: SharedViews, base: number): void {
  const s = (Atomics.sub(v.i32, base + LOCK_STATE, WRITE_LOCKED) - WRITE_LOCKED) | 0;
  if (hasWritersWaiting(s) || hasReadersWaiting(s)) wakeWriterOrReaders(v, base, s);
}

/** Acquires the lock at `base` for reading, shared with other readers. */
export function readLock(v: SharedViews, base: number, timeoutMs: number): void {
  const i32 = v.i32;
  const s = Atomics.load(i32, base + LOCK_STATE);
  if (
    !isReadLockable(s) ||
    Atomics.compareExchange(i32, base + LOCK_STATE, s, (s + READ_LOCKED) | 0) !== s
  ) {
    readContended(v, base, timeoutMs);
  }
  Atomics.add(i32, base + LOCK_ACQUIRED, 1);
}

/** Releases a read lock taken by this thread. */
export function readUnlock(v: SharedViews, base: number): void {
  const s = (Atomics.sub(v.i32, base + LOCK_STATE, READ_LOCKED) - READ_LOCKED) | 0;
  // Readers only wait on a read-locked lock when a writer waits too; the last
  // reader out hands the lock to that writer.
  if (isUnlocked(s) && hasWritersWaiting(s)) wakeWriterOrReaders(v, base, s);
}

function spinRead(i32: Int32Array, index: number): number {
  let s = Atomics.load(i32, index);
  for (let spin = SPIN_LIMIT; spin > 0; spin--) {
    if (!isWriteLocked(s) || hasReadersWaiting(s) || hasWritersWaiting(s)) break;
    s = Atomics.load(i32, index);
  }
  return s;
}

function spinWrite(i32: Int32Array, index: number): number {
  // Stop spinning once writers queue, to stay roughly fair to them.
  let s = Atomics.load(i32, index);
  for (let spin = SPIN_LIMIT; spin > 0; spin--) {
    if (isUnlocked(s) || hasWritersWaiting(s)) break;
    s = Atomics.load(i32, index);
  }
  return s;
}

function readContended(v: SharedViews, base: number, timeoutMs: number): void {
  assertMayBlock();
  const i32 = v.i32;
  const index = base + LOCK_STATE;
  const start = performance.now();
  const deadline = start + timeoutMs;
  let s = spinRead(i32, index);
  for (;;) {
    if (isReadLockable(s)) {
      const seen = Atomics.compareExchange(i32, index, s, (s + READ_LOCKED) | 0);
      if (seen === s) break;
      s = seen;
      continue;
    }
    if ((s & MASK) === MAX_READERS) throw new Error('too many readers on one lockstock lock');
    // Make sure the readers-waiting bit is set before sleeping, so an unlock wakes us.
    if (!hasReadersWaiting(s)) {
      const seen = Atomics.compareExchange(i32, index, s, s | READERS_WAITING);
      if (seen !== s) {
        s = seen;
        continue;
      }
    }
    const remaining = deadline - performance.now();
    if (remaining <= 0) giveUp(v, base, 'read', timeoutMs, start);
    Atomics.wait(i32, index, s | READERS_WAITING, remaining);
    s = spinRead(i32, index);
  }
  recordWait(v, base + LOCK_CONTENDED, base + LOCK_WAIT_US, start);
}

function writeContended(v: SharedViews, base: number, timeoutMs: number): number {
  assertMayBlock();
  const i32 = v.i32;
  const index = base + LOCK_STATE;
  const notify = base + LOCK_WRITER_NOTIFY;
  const start = performance.now();
  const deadline = start + timeoutMs;
  let s = spinWrite(i32, index);
  // Once we have slept, other writers may be asleep too: keep their bit when we lock.
  let otherWritersWaiting = 0;
  for (;;) {
    if (isUnlocked(s)) {
      const seen = Atomics.compareExchange(i32, index, s, s | WRITE_LOCKED | otherWritersWaiting);
      if (seen === s) break;
      s = seen;
      continue;
    }
    if (!hasWritersWaiting(s)) {
      const seen = Atomics.compareExchange(i32, index, s, s | WRITERS_WAITING);
      if (seen !== s) {
        s = seen;
        continue;
      }
    }
    otherWritersWaiting = WRITERS_WAITING;
    // Read the notify counter before re-checking the state, so that a wake that comes
    // between the check and the wait changes the counter and the wait returns at once.
    const seq = Atomics.load(i32, notify);
    s = Atomics.load(i32, index);
    if (isUnlocked(s) || !hasWritersWaiting(s)) continue;
    const remaining = deadline - performance.now();
    if (remaining <= 0) giveUp(v, base, 'write', timeoutMs, start);
    Atomics.wait(i32, notify, seq, remaining);
    s = spinWrite(i32, index);
  }
  return recordWait(v, base + LOCK_CONTENDED, base + LOCK_WAIT_US, start);
}

/**
 * Called by an unlock that left the lock free with waiters: wakes one writer if any
 * wait, else every reader. If another thread locks meanwhile, its unlock inherits
 * the job.
 */
function wakeWriterOrReaders(v: SharedViews, base: number, state: number): void {
  const i32 = v.i32;
  const index = base + LOCK_STATE;
  let s = state;
  if (s === WRITERS_WAITING) {
    const seen = Atomics.compareExchange(i32, index, s, 0);
    if (seen === s) {
      wakeWriter(i32, base);
      return;
    }
    // Readers may have queued meanwhile: fall through with what we saw.
    s = seen;
  }
  if (s === (READERS_WAITING | WRITERS_WAITING)) {
    // Leave the readers waiting and hand the lock to one writer.
    if (Atomics.compareExchange(i32, index, s, READERS_WAITING) !== s) return;
    if (wakeWriter(i32, base)) return;
    // No writer was asleep to take it (one may have timed out): wake the readers.
    s = READERS_WAITING;
  }
  if (s === READERS_WAITING) {
    if (Atomics.compareExchange(i32, index, s, 0) === s) Atomics.notify(i32, index);
  }
}

function wakeWriter(i32: Int32Array, base: number): boolean {
  Atomics.add(i32, base + LOCK_WRITER_NOTIFY, 1);
  return Atomics.notify(i32, base + LOCK_WRITER_NOTIFY, 1) > 0;
}

/**
 * Fails a wait past its bound. A waiting bit this thread set may now describe nobody;
 * if the lock is free, wake whoever is left so that no one sleeps on a stale bit.
 */
function giveUp(
  v: SharedViews,
  base: number,
  mode: 'read' | 'write',
  timeoutMs: number,
  start: number,
): never {
  // A wait that failed was contended too, and the longest of all: count it.
  recordWait(v, base + LOCK_CONTENDED, base + LOCK_WAIT_US, start);
  const s = Atomics.load(v.i32, base + LOCK_STATE);
  if (isUnlocked(s) && (hasWritersWaiting(s) || hasReadersWaiting(s))) {
    wakeWriterOrReaders(v, base, s);
  }
  throw new LockTimeoutError(mode, timeoutMs, s);
}
