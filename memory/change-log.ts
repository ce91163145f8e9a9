/**
 * The change log's shared memory: how pool threads hand the changes they commit to
 * the journal thread, and the one record format used in memory and on disk.
 *
 * Every pool thread owns one ring (a single-producer, single-consumer byte queue) in
 * one SharedArrayBuffer. A thread takes its change offsets from the engine-wide
 * counter (layout.ts, HDR_OFFSET) under its product locks, so the records of one ring
 * are in increasing offset order; the journal thread merges the rings by offset,
 * which gives the one gap-free sequence that the journal and the change feed are,
 * without any two threads ever writing the same word to append.
 *
 *   [ header: 4 cache lines ][ ring control: 1 line per ring ][ ring 0 ] … [ ring n-1 ]
 *
 * A ring's HEAD and TAIL count 8-byte units, ever increasing (mod 2^32): the producer
 * writes its records past TAIL and then stores the new TAIL (one store publishes a
 * whole order's records at once: the commit point of a change); the consumer reads
 * up to TAIL and stores the new HEAD once it has copied them. A record never wraps:
 * when it does not fit before the end of the ring, a pad fills the rest (a record
 * shorter than a record header, or of TYPE_PAD: `isPad`).
 *
 * Record (little-endian, a multiple of 8 bytes; the same bytes in a ring, a journal
 * segment and a snapshot):
 *
 *   0  u32 length      bytes of the whole record
 *   4  u32 crc         CRC-32C of bytes 8…length, set by the journal thread
 *   8  f64 offset      the change's place in the feed (1, 2, 3, …)
 *  16  f64 delta       units added or taken (updates, order items, stock takes)
 *  24  f64 available   after the change
 *  32  f64 lastUpdated ms since the epoch
 *  40  f64 price       after the change (FLAG_PRICE)
 *  48  f64 order       an order's items: the offset of its first item; else 0
 *  56  u32 version     after the change (a delete: the version it had)
 *  60  u8  type        TYPE_*
 *  61  u8  flags       FLAG_*
 *  62  u8  idLength    bytes of the product id (UTF-8)
 *  63  u8  nameLength  bytes of the name (UTF-8, FLAG_NAME)
 *  64  u16 keyLength   bytes of the idempotency key (WTF-8, FLAG_KEY)
 *  66  u16 items       an order's item count, on its first item; else 0
 *  68  i32 expected    the expected version the request named, or -1 (FLAG_KEY)
 *  72  i32 slot        where the product lived in memory (for repairs in-process)
 *  76  i32 generation  the slot's generation (idem); readers of files ignore both
 *  80  id bytes, then name bytes, then key bytes; zero padding to a multiple of 8
 */
import { performance } from 'node:perf_hooks';
import { readText, writeText } from './idempotency-table.js';
import {
  align8,
  counter64,
  type SharedViews,
  SLOT_ID,
  SLOT_ID_LEN,
  slotBase,
  views,
  WORD_BYTES,
  WORDS_PER_LINE,
} from './layout.js';

// ---------------------------------------------------------------------------
// The change buffer
// ---------------------------------------------------------------------------

/** Identifies a change buffer ("LKCL"). */
export const CL_MAGIC = 0x4c4b434c;
export const CL_LAYOUT_VERSION = 1;

/** Line 0: read-only facts. */
export const CL_HDR_MAGIC = 0;
export const CL_HDR_VERSION = 1;
export const CL_HDR_RINGS = 2;
/** Bytes per ring (a power of two). */
export const CL_HDR_RING_BYTES = 3;

/**
 * Line 1: BigInt64 at word 16: the durable offset. Every change at or below it is in
 * the journal (on disk in `fsync` mode, written to the OS in `write` mode; in memory
 * without a data directory: copied into the feed's window). Only the journal thread
 * stores it.
 */
export const CL_DURABLE = 1 * WORDS_PER_LINE;

/**
 * Line 2: the journal thread's sleep. It sets SLEEPING before it waits on WAKE; the
 * first producer that commits while SLEEPING is set clears it, bumps WAKE and notifies.
 */
export const CL_SLEEPING = 2 * WORDS_PER_LINE;
export const CL_WAKE = CL_SLEEPING + 1;

/**
 * Line 3: the caller's thread's wake-up. The journal thread posts one message when
 * the durable offset moves and NOTIFY is 0 (setting it to 1); the caller's thread
 * clears it, then reads CL_DURABLE. At most one such message is ever in flight.
 */
export const CL_NOTIFY = 3 * WORDS_PER_LINE;

export const CL_HEADER_WORDS = 4 * WORDS_PER_LINE;

/** A ring's control line, relative to ringControl(ring). */
/** The threadId of the thread that owns the ring (0: free). */
export const R_OWNER = 0;
/** 8-byte units consumed (journal thread) and published (owner). */
export const R_HEAD = 1;
export const R_TAIL = 2;
/**
 * BigInt64 at word 4 of the line: while the owner applies a batch, a lower bound of
 * every offset it may take and not yet have published to its records (0: none).
 * A snapshot replays the journal from the least of these (workers/journal/snapshot.ts).
 */
export const R_LOW = 4;
/**
 * The owner's place in the commit protocol (workers/recorder.ts), read only after it
 * died. STAGE_TAKEN: it took R_PENDING_COUNT offsets from R_PENDING_FIRST (a Float64),
 * its tail then at unit R_COMMIT_START. If TAIL is still there, it has not committed
 * them; if TAIL has moved, the commit (one store of TAIL) made the records from
 * R_COMMIT_START to TAIL the journal's, and they may not be in their slots yet. The
 * commit itself is the one word that says which: no second store can disagree with it.
 */
export const R_PENDING_COUNT = 6;
export const R_STAGE = 7;
export const R_PENDING_FIRST = 8;
export const R_COMMIT_START = 10;
/** The global lock mode the owner holds: GLOBAL_NONE, GLOBAL_IX or GLOBAL_X. */
export const R_GLOBAL = 11;

export const STAGE_NONE = 0;
export const STAGE_TAKEN = 1;
export const GLOBAL_NONE = 0;
export const GLOBAL_IX = 1;
export const GLOBAL_X = 2;

export function ringControl(ring: number): number {
  return CL_HEADER_WORDS + ring * WORDS_PER_LINE;
}

/** The byte at which ring `ring`'s data starts. */
export function ringStart(rings: number, ringBytes: number, ring: number): number {
  return (CL_HEADER_WORDS + rings * WORDS_PER_LINE) * WORD_BYTES + ring * ringBytes;
}

function changeBufferBytes(rings: number, ringBytes: number): number {
  return ringStart(rings, ringBytes, rings);
}

/** Views over a change buffer, the same on every thread. */
export interface ChangeViews {
  readonly buffer: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly i64: BigInt64Array;
  readonly f64: Float64Array;
  readonly u8: Uint8Array;
  readonly rings: number;
  readonly ringBytes: number;
}

export function changeViews(buffer: SharedArrayBuffer): ChangeViews {
  const i32 = new Int32Array(buffer);
  if (i32[CL_HDR_MAGIC] !== CL_MAGIC || i32[CL_HDR_VERSION] !== CL_LAYOUT_VERSION) {
    throw new Error('not a lockstock change buffer');
  }
  return typed(buffer, i32[CL_HDR_RINGS] as number, i32[CL_HDR_RING_BYTES] as number);
}

/** The typed views every thread keeps over the buffer (layout.ts's), and its rings. */
function typed(buffer: SharedArrayBuffer, rings: number, ringBytes: number): ChangeViews {
  const { i32, i64, f64, u8 } = views(buffer, 0);
  return { buffer, i32, i64, f64, u8, rings, ringBytes };
}

/** Allocates a change buffer of `rings` rings of `ringBytes` (a power of two ≥ 64 KiB). */
export function createChangeBuffer(rings: number, ringBytes: number): ChangeViews {
  if (ringBytes < 65_536 || (ringBytes & (ringBytes - 1)) !== 0) {
    throw new RangeError(`ring bytes must be a power of two ≥ 65536, got ${ringBytes}`);
  }
  const buffer = new SharedArrayBuffer(changeBufferBytes(rings, ringBytes));
  const i32 = new Int32Array(buffer);
  i32[CL_HDR_MAGIC] = CL_MAGIC;
  i32[CL_HDR_VERSION] = CL_LAYOUT_VERSION;
  i32[CL_HDR_RINGS] = rings;
  i32[CL_HDR_RING_BYTES] = ringBytes;
  return changeViews(buffer);
}

/**
 * Change views over a plain buffer of `bytes`, not a change buffer: a place to encode
 * records into (snapshots, peers), with no rings.
 */
export function changeArea(bytes: number): ChangeViews {
  return typed(new SharedArrayBuffer(bytes), 0, 0);
}

export function durableOffset(cv: ChangeViews): number {
  return Number(Atomics.load(cv.i64, counter64(CL_DURABLE)));
}

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------

export const C_LENGTH = 0;
export const C_CRC = 4;
export const C_OFFSET = 8;
export const C_DELTA = 16;
export const C_AVAILABLE = 24;
export const C_LAST_UPDATED = 32;
export const C_PRICE = 40;
export const C_ORDER = 48;
export const C_VERSION = 56;
export const C_TYPE = 60;
export const C_FLAGS = 61;
export const C_ID_LENGTH = 62;
export const C_NAME_LENGTH = 63;
export const C_KEY_LENGTH = 64;
export const C_ITEMS = 66;
export const C_EXPECTED = 68;
export const C_SLOT = 72;
export const C_GENERATION = 76;
export const C_HEADER_BYTES = 80;

/** Change types, as the original service names its events. */
export const TYPE_UPDATED = 1;
export const TYPE_CREATED = 2;
export const TYPE_MODIFIED = 3;
export const TYPE_DELETED = 4;
/** An offset taken by a thread that died before committing its change: nothing changed. */
export const TYPE_ABORTED = 5;
/** Ring filler to its end (never on disk, never in the feed). */
export const TYPE_PAD = 6;

export const TYPE_NAMES = [
  '',
  'inventory_updated',
  'product_created',
  'product_modified',
  'product_deleted',
  'aborted',
] as const;
export type ChangeType = Exclude<(typeof TYPE_NAMES)[number], ''>;

export const FLAG_DELTA = 1;
export const FLAG_NAME = 2;
export const FLAG_PRICE = 4;
export const FLAG_KEY = 8;

/** Bytes of the longest record: an id of 64 bytes, a name of 48, a key of 765. */
export const MAX_RECORD_BYTES = 1024;

/**
 * A change as the feed shows it (`Inventory.changes`; the public type, src/types.ts).
 * `delta` for updates, order items and stock takes; `name` and `price` for creations
 * and modifications; `order` on an order's items: the offset of its first item.
 */
export interface Change {
  offset: number;
  type: ChangeType;
  productId: string;
  delta?: number;
  available: number;
  version: number;
  lastUpdated: string;
  name?: string;
  price?: number;
  idempotencyKey?: string;
  order?: number;
}

/** Everything a record holds, decoded (recovery needs more than the feed shows). */
export interface DecodedChange {
  length: number;
  offset: number;
  type: number;
  flags: number;
  productId: string;
  delta: number;
  available: number;
  version: number;
  lastUpdated: number;
  name: string;
  price: number;
  key: string;
  order: number;
  items: number;
  expected: number;
}

const utf8 = new TextDecoder();

/** Decodes the record at byte `at` of `bytes` (any alignment). The CRC is not checked. */
export function decodeChange(bytes: Uint8Array, at: number): DecodedChange {
  const d = new DataView(bytes.buffer, bytes.byteOffset + at, C_HEADER_BYTES);
  const flags = d.getUint8(C_FLAGS);
  const idLength = d.getUint8(C_ID_LENGTH);
  const nameLength = d.getUint8(C_NAME_LENGTH);
  const keyLength = d.getUint16(C_KEY_LENGTH, true);
  let p = at + C_HEADER_BYTES;
  // TextDecoder refuses views of shared memory: copy the few bytes out first.
  const productId = utf8.decode(bytes.slice(p, p + idLength));
  p += idLength;
  const name = nameLength > 0 ? utf8.decode(bytes.slice(p, p + nameLength)) : '';
  p += nameLength;
  const key = keyLength > 0 ? readText(bytes, p, keyLength) : '';
  return {
    length: d.getUint32(C_LENGTH, true),
    offset: d.getFloat64(C_OFFSET, true),
    type: d.getUint8(C_TYPE),
    flags,
    productId,
    delta: d.getFloat64(C_DELTA, true),
    available: d.getFloat64(C_AVAILABLE, true),
    version: d.getUint32(C_VERSION, true),
    lastUpdated: d.getFloat64(C_LAST_UPDATED, true),
    name,
    price: d.getFloat64(C_PRICE, true),
    key,
    order: d.getFloat64(C_ORDER, true),
    items: d.getUint16(C_ITEMS, true),
    expected: d.getInt32(C_EXPECTED, true),
  };
}

/** A decoded record as the feed shows it. */
export function feedItem(c: DecodedChange): Change {
  const item: Change = {
    offset: c.offset,
    type: TYPE_NAMES[c.type] as ChangeType,
    productId: c.productId,
    available: c.available,
    version: c.version,
    lastUpdated: new Date(c.lastUpdated).toISOString(),
  };
  if ((c.flags & FLAG_DELTA) !== 0) item.delta = c.delta;
  if ((c.flags & FLAG_NAME) !== 0) item.name = c.name;
  if ((c.flags & FLAG_PRICE) !== 0) item.price = c.price;
  if ((c.flags & FLAG_KEY) !== 0) item.idempotencyKey = c.key;
  if (c.order !== 0) item.order = c.order;
  return item;
}

/** The fields of a change a writer fills in before `RingWriter.write`. */
export interface ChangeFields {
  offset: number;
  type: number;
  delta: number;
  hasDelta: boolean;
  available: number;
  version: number;
  lastUpdated: number;
  price: number;
  hasPrice: boolean;
  order: number;
  items: number;
  expected: number;
  slot: number;
  generation: number;
  /** The product id's UTF-8 bytes: idLength bytes of idBytes from idStart. */
  idBytes: Uint8Array;
  idStart: number;
  idLength: number;
  /** The name's UTF-8 bytes (nameLength bytes of nameBytes from 0), or nameLength -1. */
  nameBytes: Uint8Array;
  nameLength: number;
  /** The idempotency key, or null. */
  key: string | null;
}

export function emptyChange(): ChangeFields {
  return {
    offset: 0,
    type: 0,
    delta: 0,
    hasDelta: false,
    available: 0,
    version: 0,
    lastUpdated: 0,
    price: 0,
    hasPrice: false,
    order: 0,
    items: 0,
    expected: -1,
    slot: -1,
    generation: 0,
    idBytes: new Uint8Array(64),
    idStart: 0,
    idLength: 0,
    nameBytes: new Uint8Array(48),
    nameLength: -1,
    key: null,
  };
}

/** Points `c` at the product id held in `slot` of the product buffer `v`: no bytes copied. */
export function idOfSlot(c: ChangeFields, v: SharedViews, slot: number): void {
  const base = slotBase(slot);
  c.idBytes = v.u8;
  c.idStart = (base + SLOT_ID) * WORD_BYTES;
  c.idLength = v.i32[base + SLOT_ID_LEN] as number;
}

/**
 * Makes `c` the creation of the live product read into `r` from `slot` (name bytes in
 * `c.nameBytes`, `nameLength` of them): a snapshot's records and the initial catalog's
 * changes are these.
 */
export function createdImage(
  c: ChangeFields,
  r: { available: number; version: number; lastUpdated: number; price: number; generation: number },
  slot: number,
  nameLength: number,
): void {
  c.type = TYPE_CREATED;
  c.hasPrice = true;
  c.available = r.available;
  c.version = r.version;
  c.lastUpdated = r.lastUpdated;
  c.price = r.price;
  c.slot = slot;
  c.generation = r.generation;
  c.nameLength = nameLength;
}

/** Bytes `c` takes as a record, at most (keys are counted at 3 bytes a code unit). */
function boundOf(c: ChangeFields): number {
  return align8(
    C_HEADER_BYTES +
      c.idLength +
      Math.max(0, c.nameLength) +
      (c.key === null ? 0 : c.key.length * 3),
  );
}

/**
 * Writes `c` as a record at byte `at` (8-aligned) of the change buffer's views;
 * returns its length in bytes. The CRC is left 0 (the journal thread computes it).
 */
export function encodeChange(cv: ChangeViews, at: number, c: ChangeFields): number {
  const { u8, f64, i32 } = cv;
  const f = at >> 3;
  const w = at >> 2;
  f64[f + 1] = c.offset;
  f64[f + 2] = c.hasDelta ? c.delta : 0;
  f64[f + 3] = c.available;
  f64[f + 4] = c.lastUpdated;
  f64[f + 5] = c.hasPrice ? c.price : 0;
  f64[f + 6] = c.order;
  i32[w + 14] = c.version;
  const hasName = c.nameLength >= 0;
  let flags = 0;
  if (c.hasDelta) flags |= FLAG_DELTA;
  if (hasName) flags |= FLAG_NAME;
  if (c.hasPrice) flags |= FLAG_PRICE;
  if (c.key !== null) flags |= FLAG_KEY;
  u8[at + C_TYPE] = c.type;
  u8[at + C_FLAGS] = flags;
  u8[at + C_ID_LENGTH] = c.idLength;
  u8[at + C_NAME_LENGTH] = hasName ? c.nameLength : 0;
  i32[w + 17] = c.expected;
  i32[w + 18] = c.slot;
  i32[w + 19] = c.generation;
  let p = at + C_HEADER_BYTES;
  // Byte loops: ids and names are a few dozen bytes, and a subarray would allocate.
  const id = c.idBytes;
  for (let i = 0, from = c.idStart; i < c.idLength; i++) u8[p++] = id[from + i] as number;
  if (hasName) {
    const name = c.nameBytes;
    for (let i = 0; i < c.nameLength; i++) u8[p++] = name[i] as number;
  }
  const keyLength = c.key === null ? 0 : writeText(u8, p, c.key);
  p += keyLength;
  // u16 keyLength and u16 items share word 16.
  i32[w + 16] = keyLength | (c.items << 16);
  const length = align8(p - at);
  u8.fill(0, p, at + length);
  i32[w] = length;
  i32[w + 1] = 0;
  return length;
}

// ---------------------------------------------------------------------------
// The producer's side: one per pool thread
// ---------------------------------------------------------------------------

/** A ring was not drained within the lock timeout: the journal thread is stuck. */
class RingFullError extends Error {}

/**
 * A pool thread's ring. `write` appends a record without publishing it; `commit`
 * publishes every record written since the last commit with one store.
 */
export class RingWriter {
  readonly control: number;
  private readonly start: number;
  private readonly mask: number;
  /** Units written, published or not. */
  private tail: number;
  /**
   * The journal thread's HEAD as last read: it only moves on, so an old reading only
   * understates the room. Read again only when that reading says the ring is full,
   * which keeps this thread off the word the journal thread writes.
   */
  private head: number;

  constructor(
    readonly cv: ChangeViews,
    readonly ring: number,
    private readonly timeoutMs: number,
    /**
     * The thread that owns the ring (0: none, as when the caller's thread repairs it).
     * With holdsGlobal, this makes the ring the Owner of the thread's locks
     * (workers/lock-mode.ts): what a dead thread held is found by it.
     */
    readonly threadId = 0,
  ) {
    this.control = ringControl(ring);
    this.start = ringStart(cv.rings, cv.ringBytes, ring);
    this.mask = cv.ringBytes / 8 - 1;
    this.tail = Atomics.load(cv.i32, this.control + R_TAIL);
    this.head = Atomics.load(cv.i32, this.control + R_HEAD);
  }

  /** Claims a free ring for thread `threadId`; null when every ring is owned. */
  static claim(cv: ChangeViews, threadId: number, timeoutMs: number): RingWriter | null {
    for (let ring = 0; ring < cv.rings; ring++) {
      if (Atomics.compareExchange(cv.i32, ringControl(ring) + R_OWNER, 0, threadId) === 0) {
        return new RingWriter(cv, ring, timeoutMs, threadId);
      }
    }
    return null;
  }

  /** Room for a record of up to `bytes`, waiting for the journal thread if need be. */
  private reserve(bytes: number): number {
    const units = bytes >> 3;
    const i32 = this.cv.i32;
    const size = this.mask + 1;
    let at = this.tail & this.mask;
    // A record never wraps: pad to the ring's end first.
    const pad = at + units > size ? size - at : 0;
    // The clock is read only once the ring is found full: not once per record.
    let deadline = Number.POSITIVE_INFINITY;
    while (((this.tail - this.head) >>> 0) + pad + units > size) {
      const head = Atomics.load(i32, this.control + R_HEAD);
      if (head !== this.head) {
        this.head = head;
        continue;
      }
      if (deadline === Number.POSITIVE_INFINITY) deadline = performance.now() + this.timeoutMs;
      else if (performance.now() > deadline) {
        throw new RingFullError(`the journal did not take changes for ${this.timeoutMs} ms`);
      }
      this.wakeJournal();
      Atomics.wait(i32, this.control + R_HEAD, head, 1);
    }
    if (pad > 0) {
      const byte = this.start + at * 8;
      i32[byte >> 2] = pad * 8;
      // A pad shorter than a record header is known by its length alone: its type byte
      // would lie past it (in the next ring, or past the buffer).
      if (pad * 8 >= C_HEADER_BYTES) this.cv.u8[byte + C_TYPE] = TYPE_PAD;
      this.tail = (this.tail + pad) >>> 0;
      at = 0;
    }
    return this.start + at * 8;
  }

  /** Appends `c`, unpublished. */
  write(c: ChangeFields): void {
    const at = this.reserve(boundOf(c));
    const length = encodeChange(this.cv, at, c);
    this.tail = (this.tail + (length >> 3)) >>> 0;
  }

  /** Publishes every record written since the last commit. */
  commit(): void {
    const i32 = this.cv.i32;
    Atomics.store(i32, this.control + R_TAIL, this.tail);
    this.wakeJournal();
  }

  /**
   * Wakes a sleeping journal thread once per sleep: the producer that clears SLEEPING
   * bumps WAKE and notifies; the others, which see it cleared, need not. Their records
   * are seen all the same. The journal thread reads WAKE, then sets SLEEPING, then
   * looks at the rings (journal.ts, sleep): a record committed before that look is
   * found by it; one committed after it finds SLEEPING set, or cleared by a producer
   * whose bump of WAKE comes after the thread read it, so the thread's wait returns
   * and it looks again. (A notify per commit cost a wake-up task per record until the
   * thread ran.)
   */
  private wakeJournal(): void {
    const i32 = this.cv.i32;
    if (
      Atomics.load(i32, CL_SLEEPING) !== 0 &&
      Atomics.compareExchange(i32, CL_SLEEPING, 1, 0) === 1
    ) {
      Atomics.add(i32, CL_WAKE, 1);
      Atomics.notify(i32, CL_WAKE);
    }
  }

  /** Marks the start of a batch: no offset this thread takes is below `low`. */
  setLow(low: bigint): void {
    Atomics.store(this.cv.i64, counter64(this.control + R_LOW), low);
  }

  clearLow(): void {
    Atomics.store(this.cv.i64, counter64(this.control + R_LOW), 0n);
  }

  /** Offsets taken and not yet committed (read after a death). */
  setPending(first: number, count: number): void {
    const i32 = this.cv.i32;
    this.cv.f64[(this.control + R_PENDING_FIRST) >> 1] = first;
    i32[this.control + R_PENDING_COUNT] = count;
    i32[this.control + R_COMMIT_START] = this.tail;
    Atomics.store(i32, this.control + R_STAGE, STAGE_TAKEN);
  }

  /** The committed records are published in their slots too. */
  clearPending(): void {
    Atomics.store(this.cv.i32, this.control + R_STAGE, STAGE_NONE);
  }

  /** The global lock mode this thread holds now (GLOBAL_*). */
  holdsGlobal(mode: number): void {
    Atomics.store(this.cv.i32, this.control + R_GLOBAL, mode);
  }
}

/** Whether the ring record at byte `at` (of `length` bytes) is a pad. */
export function isPad(cv: ChangeViews, at: number, length: number): boolean {
  return length < C_HEADER_BYTES || cv.u8[at + C_TYPE] === TYPE_PAD;
}
