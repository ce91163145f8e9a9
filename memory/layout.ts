/**
 * The layout of the one SharedArrayBuffer that holds every product record.
 *
 * Every offset, field and size that any thread uses is named here, once; `src/`
 * (the caller's thread) and `workers/` (pool threads) import these names and never
 * write a bare index. All offsets are in Int32 words unless a name says otherwise.
 *
 *   [ header: 8 cache lines ][ slot 0 ][ slot 1 ] … [ slot capacity-1 ]
 *
 * Hot words that different threads write (the global lock, the offset counter,
 * the queue counter) each sit on their own 64-byte cache line, and every slot is a
 * whole number of cache lines, so two threads working on neighbouring products
 * never share a line (false sharing measurably halves throughput).
 *
 * The idempotency table (remembered keys and their outcomes) is a buffer of its own,
 * owned by the caller's thread; its layout is named in memory/idempotency-table.ts.
 */

export const WORD_BYTES = Int32Array.BYTES_PER_ELEMENT;
export const CACHE_LINE_BYTES = 64;
export const WORDS_PER_LINE = CACHE_LINE_BYTES / WORD_BYTES;

/** Identifies a buffer laid out by this module ("LKSK"), checked by workers at start. */
export const LAYOUT_MAGIC = 0x4c4b534b;
/** Bumped whenever anything below changes meaning. */
export const LAYOUT_VERSION = 1;

// ---------------------------------------------------------------------------
// Header
// ---------------------------------------------------------------------------

/** Line 0: read-only facts about the buffer, written once before it is shared. */
export const HDR_MAGIC = 0;
export const HDR_LAYOUT_VERSION = 1;
export const HDR_CAPACITY = 2;
export const HDR_SLOT_WORDS = 3;
export const HDR_SLOTS_BASE = 4;

/**
 * Line 1: the global multi-granularity lock (see global-lock.ts). `STATE` counts
 * holders per mode, `WAITERS` counts waiters per mode (so that a new arrival can
 * defer to waiters of a conflicting mode), `SEQ` is the futex word waiters sleep on.
 */
export const HDR_GLOBAL_LOCK = 1 * WORDS_PER_LINE;
export const GLOBAL_STATE = 0;
export const GLOBAL_WAITERS = 1;
export const GLOBAL_SEQ = 2;
export const GLOBAL_ACQUIRED = 5;
export const GLOBAL_CONTENDED = 6;
/** BigInt64 word pair (8-byte aligned): microseconds spent waiting for the global lock. */
export const GLOBAL_WAIT_US = 8;
/**
 * Float64 word pairs: microseconds the global lock was held in X mode (every write in
 * `lockMode: 'global'`), in total and at most. Written only by the X holder, with
 * plain stores: exclusive, so no update is lost; a reader may see a figure a moment old.
 */
export const GLOBAL_HOLD_US = 10;
export const GLOBAL_HOLD_MAX_US = 12;
export const GLOBAL_LOCK_WORDS = 14;

/** Line 2: BigInt64 counter of the last change offset taken (0 = none yet). */
export const HDR_OFFSET = 2 * WORDS_PER_LINE;

/**
 * Line 3: rows accepted by the caller's thread and handed to the pool but not yet
 * picked up by a worker. The caller adds when it dispatches a batch; the worker
 * subtracts when it starts one. Together with the rows still being collected this
 * is the queue that `queueSize` bounds.
 */
export const HDR_QUEUED = 3 * WORDS_PER_LINE;

/**
 * Line 4: BigInt64 count of microseconds pool threads spent applying batches, for the
 * pool's utilisation. Each worker adds once per task.
 */
export const HDR_BUSY_US = 4 * WORDS_PER_LINE;

/**
 * Line 5: product write locks taken since open, counted only under the test hook
 * `simulate.crash` (workers/crash.ts), which picks the n-th to die holding.
 */
export const HDR_LOCKS_TAKEN = 5 * WORDS_PER_LINE;

export const HEADER_WORDS = 8 * WORDS_PER_LINE;

// ---------------------------------------------------------------------------
// Slots
// ---------------------------------------------------------------------------

/**
 * Line 0 of a slot: the product's read/write lock (see rwlock.ts), its counters,
 * and the latch sequence that orders the two record copies.
 */
export const SLOT_LOCK = 0;
/** The lock's words, relative to SLOT_LOCK: state, writer-notify futex, counters. */
export const LOCK_STATE = 0;
export const LOCK_WRITER_NOTIFY = 1;
export const LOCK_ACQUIRED = 2;
export const LOCK_CONTENDED = 3;
/** BigInt64 word pair (8-byte aligned): microseconds spent waiting for this lock. */
export const LOCK_WAIT_US = 4;
/**
 * Float64 word pairs: microseconds this lock was held for writing, in total and at
 * most. Written only by the write holder, with plain stores (exclusive: no update is
 * lost, and a float adds microseconds without allocating a BigInt per row).
 */
export const LOCK_HOLD_US = 6;
export const LOCK_HOLD_MAX_US = 8;
export const LOCK_WORDS = 10;

/**
 * Latch sequence (the Linux kernel's seqcount_latch): a writer increments it, rewrites
 * copy 0, increments it again, rewrites copy 1. A reader reads copy `seq & 1`, which
 * is never the one being rewritten, and retries only if `seq` moved meanwhile.
 */
export const SLOT_LATCH_SEQ = SLOT_LOCK + LOCK_WORDS;
/** Length in bytes of the product id stored at SLOT_ID. */
export const SLOT_ID_LEN = SLOT_LATCH_SEQ + 1;
/**
 * The threadId of the pool thread holding the slot's write lock, 0 when none (the
 * robust-mutex owner): if that thread dies, the caller's thread finds the locks it
 * held by this word and frees them (src/thread-death.ts).
 */
export const SLOT_OWNER = SLOT_ID_LEN + 1;

/** Two copies of the published record, each three cache lines. */
export const SLOT_COPY_0 = 1 * WORDS_PER_LINE;
export const SLOT_COPY_1 = 4 * WORDS_PER_LINE;
export const COPY_WORDS = 3 * WORDS_PER_LINE;

/** Fields of a record copy, relative to its start. */
export const REC_STATE = 0;
export const REC_GENERATION = 1;
export const REC_VERSION = 2;
export const REC_NAME_REV = 3;
/** Float64 fields take two words each and are 8-byte aligned. */
export const REC_AVAILABLE = 4;
export const REC_LAST_UPDATED = 6;
export const REC_PRICE = 8;
export const REC_NAME_LEN = 10;
export const REC_NAME = 12;
export const NAME_MAX_BYTES = (COPY_WORDS - REC_NAME) * WORD_BYTES;

/** Record states. */
export const STATE_FREE = 0;
export const STATE_LIVE = 1;

/** The product id, UTF-8, written when the product is created and fixed after. */
export const SLOT_ID = 7 * WORDS_PER_LINE;
export const ID_MAX_BYTES = CACHE_LINE_BYTES;

export const SLOT_WORDS = 8 * WORDS_PER_LINE;
export const SLOT_BYTES = SLOT_WORDS * WORD_BYTES;

/** The most products one engine may hold (keeps the buffer under 1 GiB). */
export const MAX_CAPACITY = 2_000_000;

/**
 * The BigInt64Array index of the 64-bit counter whose first Int32 word is `word`.
 * Every 64-bit field is laid out on an even word, so this is exact; the layout test
 * checks the alignment of each one.
 */
export function counter64(word: number): number {
  return word >> 1;
}

/** The Float64Array index of the 64-bit float whose first Int32 word is `word`. */
export function float64(word: number): number {
  return word >> 1;
}

/** `n` rounded up to a multiple of 8. */
export function align8(n: number): number {
  return (n + 7) & ~7;
}

/** Index of slot `slot`'s first word. */
export function slotBase(slot: number): number {
  return HEADER_WORDS + slot * SLOT_WORDS;
}

/** Bytes needed for an engine of `capacity` products. */
export function bufferBytes(capacity: number): number {
  return (HEADER_WORDS + capacity * SLOT_WORDS) * WORD_BYTES;
}

/** The typed views every thread keeps over the one buffer. */
export interface SharedViews {
  readonly buffer: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly i64: BigInt64Array;
  readonly f64: Float64Array;
  readonly u8: Uint8Array;
  readonly capacity: number;
}

/** The typed views over `buffer`, unchecked (attachBuffer checks). */
export function views(buffer: SharedArrayBuffer, capacity: number): SharedViews {
  return {
    buffer,
    i32: new Int32Array(buffer),
    i64: new BigInt64Array(buffer),
    f64: new Float64Array(buffer),
    u8: new Uint8Array(buffer),
    capacity,
  };
}

/** Allocates and initialises the buffer. Run once, before it is shared. */
export function createBuffer(capacity: number): SharedViews {
  if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
    throw new RangeError(`capacity must be an integer from 1 to ${MAX_CAPACITY}, got ${capacity}`);
  }
  const v = views(new SharedArrayBuffer(bufferBytes(capacity)), capacity);
  v.i32[HDR_MAGIC] = LAYOUT_MAGIC;
  v.i32[HDR_LAYOUT_VERSION] = LAYOUT_VERSION;
  v.i32[HDR_CAPACITY] = capacity;
  v.i32[HDR_SLOT_WORDS] = SLOT_WORDS;
  v.i32[HDR_SLOTS_BASE] = HEADER_WORDS;
  // Every other word starts at zero: unlocked, no waiters, STATE_FREE, offset 0.
  return v;
}

/** Opens views over a buffer made by createBuffer, checking that it is one. */
export function attachBuffer(buffer: SharedArrayBuffer): SharedViews {
  const i32 = new Int32Array(buffer);
  if (i32.length < HEADER_WORDS || i32[HDR_MAGIC] !== LAYOUT_MAGIC) {
    throw new Error('not a lockstock buffer');
  }
  if (i32[HDR_LAYOUT_VERSION] !== LAYOUT_VERSION || i32[HDR_SLOT_WORDS] !== SLOT_WORDS) {
    throw new Error(`lockstock buffer layout ${i32[HDR_LAYOUT_VERSION]} is not ${LAYOUT_VERSION}`);
  }
  const capacity = i32[HDR_CAPACITY] ?? 0;
  if (buffer.byteLength !== bufferBytes(capacity)) {
    throw new Error('lockstock buffer size does not match its capacity');
  }
  return views(buffer, capacity);
}
