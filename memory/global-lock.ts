/**
 * The global lock, with intention modes (Gray et al., "Granularity of Locks and
 * Degrees of Consistency in a Shared Data Base", 1976).
 *
 * - IX (intention exclusive): held by a worker while it writes products under their
 *   own locks. Any number of IX holders coexist: product writers never block each
 *   other here.
 * - S (shared): held while taking a consistent cut of many products (a listing, a
 *   snapshot). It excludes IX, so it waits for writers in flight to leave and holds
 *   new ones back until the cut is copied. S holders coexist.
 * - X (exclusive): one holder, nothing else. `lockMode: 'global'` takes it for every
 *   write, which is the single-mutex design lockstock is measured against.
 *
 *        IX   S    X
 *   IX   ok   -    -
 *   S    -    ok   -
 *   X    -    -    -
 *
 * `STATE` counts holders and `WAITERS` counts waiters, each with a 10-bit field per
 * mode: IX in bits 0-9, S in bits 10-19, X in bits 20-29. Waiters sleep on `SEQ`, an
 * event counter that every release bumps when anyone waits; registering in WAITERS
 * before reading SEQ, and releasing before reading WAITERS, means a release never
 * misses a sleeper (both are sequentially consistent Atomics). Writers yield to a
 * waiting cut even when the lock is free for them (see yieldsTo), so a stream of
 * writers cannot starve a listing; IX holders also step aside between rows when a
 * cut waits (exclusiveWaiting).
 *
 * Same contract as rwlock.ts: not recursive, unlocked by the thread that locked,
 * never on the main thread, every wait bounded.
 */
import { performance } from 'node:perf_hooks';
import {
  GLOBAL_ACQUIRED,
  GLOBAL_CONTENDED,
  GLOBAL_SEQ,
  GLOBAL_STATE,
  GLOBAL_WAIT_US,
  GLOBAL_WAITERS,
  type SharedViews,
} from './layout.js';
import { assertMayBlock, LockTimeoutError, recordWait } from './rwlock.js';

/** One holder (in STATE) or one waiter (in WAITERS) of each mode. */
export const IX_ONE = 1;
export const S_ONE = 1 << 10;
export const X_ONE = 1 << 20;
export const IX_MASK = 0x3ff;
export const S_MASK = 0x3ff << 10;
export const X_MASK = 0x3ff << 20;
/** The most holders, or waiters, of one mode at once (far above any pool's size). */
export const MAX_HOLDERS = IX_MASK;

export type GlobalMode = 'IX' | 'S' | 'X';

function one(mode: GlobalMode): number {
  return mode === 'IX' ? IX_ONE : mode === 'S' ? S_ONE : X_ONE;
}

/** Whether `mode` can join holders `s`. */
function compatible(mode: GlobalMode, s: number): boolean {
  switch (mode) {
    case 'IX':
      return (s & (S_MASK | X_MASK)) === 0 && (s & IX_MASK) !== IX_MASK;
    case 'S':
      return (s & (IX_MASK | X_MASK)) === 0 && (s & S_MASK) !== S_MASK;
    case 'X':
      return s === 0;
  }
}

/**
 * The waiters `mode` lets go first, even when the lock is free for it: writers (IX,
 * X) yield to a waiting cut (S) and IX to a waiting X, so a cut is never starved by a
 * stream of writers. S yields to nobody; cuts are short and rare, and letting both
 * sides yield to each other could leave both waiting.
 */
function yieldsTo(mode: GlobalMode): number {
  return mode === 'IX' ? S_MASK | X_MASK : mode === 'X' ? S_MASK : 0;
}

/** True when a thread holding IX should step aside: an S or X request is waiting. */
export function exclusiveWaiting(v: SharedViews, base: number): boolean {
  return (Atomics.load(v.i32, base + GLOBAL_WAITERS) & (S_MASK | X_MASK)) !== 0;
}

function tryAcquire(i32: Int32Array, index: number, mode: GlobalMode): boolean {
  const s = Atomics.load(i32, index);
  if (!compatible(mode, s)) return false;
  return Atomics.compareExchange(i32, index, s, (s + one(mode)) | 0) === s;
}

/**
 * Acquires the global lock at `base` in `mode`. Returns 0 when it was acquired at once,
 * else the time (performance.now()) at which the contended wait ended.
 */
export function globalLock(
  v: SharedViews,
  base: number,
  mode: GlobalMode,
  timeoutMs: number,
): number {
  const i32 = v.i32;
  const index = base + GLOBAL_STATE;
  const waiters = base + GLOBAL_WAITERS;
  const yields = yieldsTo(mode);
  if ((Atomics.load(i32, waiters) & yields) === 0 && tryAcquire(i32, index, mode)) {
    Atomics.add(i32, base + GLOBAL_ACQUIRED, 1);
    return 0;
  }
  assertMayBlock();
  const start = performance.now();
  const deadline = start + timeoutMs;
  Atomics.add(i32, waiters, one(mode));
  let acquired = false;
  try {
    for (;;) {
      // Read SEQ before looking, so that a release or a departure between the look and
      // the wait moves SEQ and the wait returns at once.
      const seq = Atomics.load(i32, base + GLOBAL_SEQ);
      // A lost compare-exchange means another thread moved STATE: look again at once.
      // Sleep while the lock is held in a conflicting mode, or a waiter we yield to waits.
      while (
        (Atomics.load(i32, waiters) & yields) === 0 &&
        compatible(mode, Atomics.load(i32, index))
      ) {
        if (tryAcquire(i32, index, mode)) {
          acquired = true;
          Atomics.add(i32, base + GLOBAL_ACQUIRED, 1);
          return recordWait(v, base + GLOBAL_CONTENDED, base + GLOBAL_WAIT_US, start);
        }
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        recordWait(v, base + GLOBAL_CONTENDED, base + GLOBAL_WAIT_US, start);
        throw new LockTimeoutError(mode, timeoutMs, Atomics.load(i32, index), 'global lock');
      }
      Atomics.wait(i32, base + GLOBAL_SEQ, seq, remaining);
    }
  } finally {
    Atomics.sub(i32, waiters, one(mode));
    // Threads that yield to us sleep until something moves. Holding the lock now, our
    // release will wake them; leaving empty-handed (a timeout), we wake them here.
    if (!acquired) wakeAll(i32, base);
  }
}

/** Releases the global lock held by this thread in `mode`. */
export function globalUnlock(v: SharedViews, base: number, mode: GlobalMode): void {
  const i32 = v.i32;
  Atomics.sub(i32, base + GLOBAL_STATE, one(mode));
  if (Atomics.load(i32, base + GLOBAL_WAITERS) !== 0) wakeAll(i32, base);
}

function wakeAll(i32: Int32Array, base: number): void {
  Atomics.add(i32, base + GLOBAL_SEQ, 1);
  Atomics.notify(i32, base + GLOBAL_SEQ);
}
