/**
 * The idempotency table: remembered keys and their outcomes, off the V8 heap.
 *
 * A million remembered keys kept as JS strings and objects make a heap that V8 marks
 * again and again, on helper threads that compete with the pool's workers for the
 * cores. Here every key is bytes in one SharedArrayBuffer and every outcome field a
 * number beside it: the garbage collector sees one object, whatever the count.
 *
 * The table is a fixed-capacity primitive; src/idempotency.ts owns one, decides what
 * to remember and moves to a bigger table (`grownFrom`) while it is below maxKeys.
 * Only the caller's thread uses it, so it takes no lock and every access is plain. It
 * lives in shared memory so that the durability work can hand it to the journal
 * thread and save it as it is: every word is named below.
 *
 *   [ header: 16 words ][ buckets: BUCKET_WORDS each ][ entries: ENTRY_WORDS each ][ arena ]
 *
 * - **Entries** form a FIFO ring: `count` places from `head` (mod capacity), oldest
 *   first. A place is live (a remembered key) or empty (its key expired on lookup or
 *   was replaced; the place waits for the head to pass it). Keys expire in the order
 *   they were remembered, so eviction and expiry both work from the head, O(1) each.
 * - **Buckets** index the live entries by key: open addressing with linear probing,
 *   at most half full, each bucket the entry's number + 1 (0: empty) and its key's
 *   32-bit hash, so that a probe compares bytes only when the whole hash matches.
 *   Removal shifts the following run back (no tombstones to clean up).
 * - **Arena** holds each place's key and then its payload's text (an update's product
 *   id, an order's fingerprint), as WTF-8 (UTF-8 that also encodes a lone surrogate,
 *   as three bytes): every JS string has exactly one byte form, so comparing bytes
 *   compares strings. An applied order's items follow, as Float64s (ORDER_ITEM_*).
 *   It is a byte ring in the same order as the entries, each place's bytes starting
 *   on an 8-byte boundary: a place's bytes are freed when the head passes it.
 *
 * Hashing: FNV-1a over the key's UTF-16 code units, from a per-table random seed (a
 * client that does not know it cannot aim keys at one bucket run), finished with
 * MurmurHash3's fmix32 so that the low bits, which pick the bucket, mix every unit.
 */

import { align8, float64, WORD_BYTES } from './layout.js';
import {
  STATUS_APPLIED,
  STATUS_INSUFFICIENT,
  STATUS_NOT_FOUND,
  STATUS_VERSION_CONFLICT,
} from './protocol.js';

/** Identifies a buffer laid out by this module ("LKID"). */
export const TABLE_MAGIC = 0x4c4b4944;
/** Bumped whenever anything below changes meaning. */
export const TABLE_LAYOUT_VERSION = 1;

// ---------------------------------------------------------------------------
// Header (Int32 words)
// ---------------------------------------------------------------------------

export const T_MAGIC = 0;
export const T_LAYOUT_VERSION = 1;
/** Entries (places in the ring) the table holds. */
export const T_CAPACITY = 2;
/** Buckets in the index: a power of two, at least twice the capacity. */
export const T_BUCKETS = 3;
/** Bytes in the arena. */
export const T_ARENA_BYTES = 4;
/** The hash seed: a key's bucket depends on it, so it is saved with the table. */
export const T_SEED = 5;
/** The oldest place of the ring. */
export const T_HEAD = 6;
/** Places in use from the head, live or empty. */
export const T_COUNT = 7;
/** Live entries: keys remembered. */
export const T_LIVE = 8;
/** Arena byte offset of the oldest place's bytes. */
export const T_ARENA_HEAD = 9;
/** Arena byte offset where the next place's bytes go. */
export const T_ARENA_TAIL = 10;
export const T_HEADER_WORDS = 16;

// ---------------------------------------------------------------------------
// Buckets (Int32 words, relative to a bucket's first word)
// ---------------------------------------------------------------------------

/** The entry's number + 1; NO_ENTRY for an empty bucket. */
export const B_ENTRY = 0;
export const B_HASH = 1;
export const BUCKET_WORDS = 2;
export const NO_ENTRY = 0;

// ---------------------------------------------------------------------------
// Entries (Int32 words, relative to an entry's first word; Float64 fields take two
// words each and sit on even words: every section starts on an 8-byte boundary)
// ---------------------------------------------------------------------------

/** ENTRY_EMPTY, or how the outcome is kept (OUTCOME_*). */
export const E_STATE = 0;
/** What the key was first used for (PAYLOAD_*). */
export const E_KIND = 1;
/** The key's hash, as in its bucket (removal and growth re-index without the key). */
export const E_HASH = 2;
/** Arena byte offset of the key's bytes (a multiple of 8); the text's bytes follow. */
export const E_BYTES = 3;
export const E_KEY_BYTES = 4;
/** The payload text's bytes: an update's product id, or an order's fingerprint. */
export const E_TEXT_BYTES = 5;
/** For OUTCOME_SIDE: the number under which the owner keeps the outcome. */
export const E_SIDE = 6;
/**
 * For an order: the items of an applied one (their numbers follow the text in the
 * arena, from the next 8-byte boundary), or the index of the item a failed one failed.
 */
export const E_ITEMS = 7;
/** Float64: when the key expires (ms since the epoch). */
export const E_EXPIRES = 8;
/** Float64: the request's delta. */
export const E_DELTA = 10;
/** Float64: the request's expected version, or -1 for none. */
export const E_EXPECTED = 12;
/** Float64: the outcome's available stock. */
export const E_AVAILABLE = 14;
/** Float64: the outcome's version. */
export const E_VERSION = 16;
/** Float64: the outcome's lastUpdated (ms since the epoch), for OUTCOME_APPLIED. */
export const E_LAST_UPDATED = 18;
/** Float64: the outcome's change offset, for OUTCOME_APPLIED. */
export const E_OFFSET = 20;
/** Bytes of numbers after the text in the arena (a multiple of 8; 0 but for orders). */
export const E_NUMBER_BYTES = 22;
export const ENTRY_WORDS = 24;

/** An applied order's item in the arena: Float64s, relative to the item's first. */
export const ORDER_ITEM_AVAILABLE = 0;
export const ORDER_ITEM_VERSION = 1;
export const ORDER_ITEM_LAST_UPDATED = 2;
export const ORDER_ITEM_OFFSET = 3;
export const ORDER_ITEM_FLOATS = 4;
export const ORDER_ITEM_BYTES = ORDER_ITEM_FLOATS * Float64Array.BYTES_PER_ELEMENT;

/**
 * Entry states: how the outcome is kept. For an update, the product id is the
 * payload's; for an order, each item's id is the payload item's (the fingerprint
 * holds them all) and E_ITEMS says which item or how many.
 */
export const ENTRY_EMPTY = 0;
/**
 * The outcomes kept by number are the rows' own statuses (memory/protocol.ts), so that
 * a replay is decoded by the same code as a row (src/outcomes.ts).
 * applied: available, version, lastUpdated, offset (an order's: per item, in the arena).
 */
export const OUTCOME_APPLIED = STATUS_APPLIED;
/** version_conflict: version, available (an order's: of item E_ITEMS). */
export const OUTCOME_VERSION_CONFLICT = STATUS_VERSION_CONFLICT;
/** insufficient_inventory: available, version (an order's: of item E_ITEMS). */
export const OUTCOME_INSUFFICIENT = STATUS_INSUFFICIENT;
/** product_not_found (an order's: item E_ITEMS, which may be one past its items). */
export const OUTCOME_NOT_FOUND = STATUS_NOT_FOUND;
/** Any other outcome: kept by the table's owner under E_SIDE (no row status has it). */
export const OUTCOME_SIDE = 0x100;

/** Payload kinds. */
export const PAYLOAD_UPDATE = 1;
export const PAYLOAD_ORDER = 2;

/** The most bytes one code unit takes in WTF-8. */
const MAX_UNIT_BYTES = 3;

/** The most arena bytes a place for `key`, `text` and `numberBytes` takes. */
function bound(key: string, text: string, numberBytes: number): number {
  return align8((key.length + text.length) * MAX_UNIT_BYTES) + numberBytes;
}

/** The first word of bucket `b`. */
function bucketBase(b: number): number {
  return T_HEADER_WORDS + b * BUCKET_WORDS;
}

function bucketCount(capacity: number): number {
  let b = 2;
  while (b < 2 * capacity) b *= 2;
  return b;
}

/** Bytes of a table of `capacity` entries and `arenaBytes` of arena (a multiple of 8). */
export function tableBytes(capacity: number, arenaBytes: number): number {
  return (
    (T_HEADER_WORDS + bucketCount(capacity) * BUCKET_WORDS + capacity * ENTRY_WORDS) * WORD_BYTES +
    arenaBytes
  );
}

/** The key's hash: seeded FNV-1a over its UTF-16 code units, then fmix32. */
export function hashKey(key: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) | 0;
  for (let i = 0; i < key.length; i++) {
    h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Writes `text` as WTF-8 at `at`; returns the bytes written (at most 3 per code unit).
 * A surrogate pair is one 4-byte character; a lone surrogate, three bytes of its own.
 */
export function writeText(u8: Uint8Array, at: number, text: string): number {
  let p = at;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      u8[p++] = c;
    } else if (c < 0x800) {
      u8[p++] = 0xc0 | (c >> 6);
      u8[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
        const d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          u8[p++] = 0xf0 | (c >> 18);
          u8[p++] = 0x80 | ((c >> 12) & 0x3f);
          u8[p++] = 0x80 | ((c >> 6) & 0x3f);
          u8[p++] = 0x80 | (c & 0x3f);
          continue;
        }
      }
      u8[p++] = 0xe0 | (c >> 12);
      u8[p++] = 0x80 | ((c >> 6) & 0x3f);
      u8[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p - at;
}

/** Reads back `bytes` bytes of WTF-8 at `at`, as writeText wrote them. */
export function readText(u8: Uint8Array, at: number, bytes: number): string {
  let text = '';
  const end = at + bytes;
  for (let p = at; p < end; ) {
    const b = u8[p++] as number;
    let c: number;
    if (b < 0x80) c = b;
    else if (b < 0xe0) c = ((b & 0x1f) << 6) | ((u8[p++] as number) & 0x3f);
    else if (b < 0xf0) {
      c = ((b & 0x0f) << 12) | (((u8[p++] as number) & 0x3f) << 6);
      c |= (u8[p++] as number) & 0x3f;
    } else {
      c = ((b & 0x07) << 18) | (((u8[p++] as number) & 0x3f) << 12);
      c |= ((u8[p++] as number) & 0x3f) << 6;
      c |= (u8[p++] as number) & 0x3f;
    }
    text += String.fromCodePoint(c);
  }
  return text;
}

/**
 * Whether the `bytes` bytes at `at` are `text` in WTF-8. ASCII text (the usual key)
 * is compared unit by unit in place; other text is encoded into a scratch buffer
 * first. Only a full 32-bit hash match gets here, so this is rarely on the hot path.
 */
export function sameText(u8: Uint8Array, at: number, bytes: number, text: string): boolean {
  // Fast path: every unit one byte (ASCII keys, the usual case).
  const n = text.length;
  if (n === bytes) {
    let ascii = true;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      if (u8[at + i] !== c) return false;
    }
    if (ascii) return true;
  }
  if (n > bytes || n * MAX_UNIT_BYTES < bytes) return false;
  scratch = scratch.length >= n * MAX_UNIT_BYTES ? scratch : new Uint8Array(n * MAX_UNIT_BYTES);
  if (writeText(scratch, 0, text) !== bytes) return false;
  for (let i = 0; i < bytes; i++) if (scratch[i] !== u8[at + i]) return false;
  return true;
}
let scratch = new Uint8Array(256 * MAX_UNIT_BYTES);

/**
 * One table. The owner calls, in this order per new key: `find` (is it there?), then
 * `hasRoom` and `append` (or dropHead / a bigger table first), then fills the entry's
 * fields through `i32`/`f64` at `entryBase(e)`.
 */
export class IdempotencyTable {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly u8: Uint8Array;
  readonly capacity: number;
  readonly arenaBytes: number;
  readonly seed: number;
  private readonly mask: number;
  private readonly entriesBase: number;
  /** Byte offset of the arena in the buffer. */
  private readonly arenaBase: number;

  /** Allocates and initialises a table. */
  static create(capacity: number, arenaBytes: number, seed: number): IdempotencyTable {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 2 ** 28) {
      throw new RangeError(`capacity must be an integer from 1 to 2^28, got ${capacity}`);
    }
    if (!Number.isInteger(arenaBytes) || arenaBytes < 8 || arenaBytes % 8 !== 0) {
      throw new RangeError(`arenaBytes must be a positive multiple of 8, got ${arenaBytes}`);
    }
    const buffer = new SharedArrayBuffer(tableBytes(capacity, arenaBytes));
    const i32 = new Int32Array(buffer);
    i32[T_MAGIC] = TABLE_MAGIC;
    i32[T_LAYOUT_VERSION] = TABLE_LAYOUT_VERSION;
    i32[T_CAPACITY] = capacity;
    i32[T_BUCKETS] = bucketCount(capacity);
    i32[T_ARENA_BYTES] = arenaBytes;
    i32[T_SEED] = seed | 0;
    // Every other word starts at zero: empty ring, empty buckets, empty entries.
    return new IdempotencyTable(buffer);
  }

  /** Views over a buffer made by create(), checking that it is one. */
  constructor(readonly buffer: SharedArrayBuffer) {
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.u8 = new Uint8Array(buffer);
    if (this.i32[T_MAGIC] !== TABLE_MAGIC) throw new Error('not an idempotency table');
    if (this.i32[T_LAYOUT_VERSION] !== TABLE_LAYOUT_VERSION) {
      throw new Error(
        `idempotency table layout ${this.i32[T_LAYOUT_VERSION]} is not ${TABLE_LAYOUT_VERSION}`,
      );
    }
    this.capacity = this.i32[T_CAPACITY] as number;
    this.arenaBytes = this.i32[T_ARENA_BYTES] as number;
    this.seed = this.i32[T_SEED] as number;
    const buckets = this.i32[T_BUCKETS] as number;
    this.mask = buckets - 1;
    this.entriesBase = T_HEADER_WORDS + buckets * BUCKET_WORDS;
    this.arenaBase = (this.entriesBase + this.capacity * ENTRY_WORDS) * WORD_BYTES;
    if (buffer.byteLength !== tableBytes(this.capacity, this.arenaBytes)) {
      throw new Error('idempotency table size does not match its capacity');
    }
  }

  /**
   * A table of `capacity` entries and `arenaBytes` of arena holding this one's live
   * keys, oldest first (empty places are left behind), with the same seed: each
   * entry's hash stays valid. The caller makes sure they fit.
   */
  static grownFrom(old: IdempotencyTable, capacity: number, arenaBytes: number): IdempotencyTable {
    const t = IdempotencyTable.create(capacity, arenaBytes, old.seed);
    const count = old.count;
    for (let i = 0; i < count; i++) {
      const from = (old.head + i) % old.capacity;
      const fb = old.entryBase(from);
      if (old.i32[fb + E_STATE] === ENTRY_EMPTY) continue;
      const bytes = old.placeBytes(fb);
      const to = t.place(bytes);
      const tb = t.entryBase(to);
      const at = t.i32[tb + E_BYTES] as number;
      t.i32.set(old.i32.subarray(fb, fb + ENTRY_WORDS), tb);
      t.i32[tb + E_BYTES] = at;
      const src = old.arenaBase + (old.i32[fb + E_BYTES] as number);
      t.u8.set(old.u8.subarray(src, src + bytes), t.arenaBase + at);
      t.i32[T_ARENA_TAIL] = at + align8(bytes);
      t.index(to, old.i32[fb + E_HASH] as number);
    }
    return t;
  }

  get head(): number {
    return this.i32[T_HEAD] as number;
  }

  get count(): number {
    return this.i32[T_COUNT] as number;
  }

  /** Keys remembered. */
  get live(): number {
    return this.i32[T_LIVE] as number;
  }

  /** The first Int32 word of entry `e`. */
  entryBase(e: number): number {
    return this.entriesBase + e * ENTRY_WORDS;
  }

  /** A field of entry `e`, read as Float64 (E_EXPIRES, E_DELTA, …). */
  number(e: number, field: number): number {
    return this.f64[float64(this.entriesBase + e * ENTRY_WORDS + field)] as number;
  }

  setNumber(e: number, field: number, value: number): void {
    this.f64[float64(this.entriesBase + e * ENTRY_WORDS + field)] = value;
  }

  hash(key: string): number {
    return hashKey(key, this.seed);
  }

  /** The live entry holding `key` (whose hash is `h`), or -1. */
  find(key: string, h: number): number {
    const i32 = this.i32;
    let b = h & this.mask;
    for (;;) {
      const w = bucketBase(b);
      const e1 = i32[w + B_ENTRY] as number;
      if (e1 === NO_ENTRY) return -1;
      if (i32[w + B_HASH] === h) {
        const base = this.entriesBase + (e1 - 1) * ENTRY_WORDS;
        const at = this.arenaBase + (i32[base + E_BYTES] as number);
        if (sameText(this.u8, at, i32[base + E_KEY_BYTES] as number, key)) return e1 - 1;
      }
      b = (b + 1) & this.mask;
    }
  }

  /** The payload text entry `e` was remembered with (a product id, a fingerprint). */
  text(e: number): string {
    const base = this.entryBase(e);
    const at = this.arenaBase + (this.i32[base + E_BYTES] as number);
    const k = this.i32[base + E_KEY_BYTES] as number;
    return readText(this.u8, at + k, this.i32[base + E_TEXT_BYTES] as number);
  }

  /** Whether entry `e`'s payload text is `text`. */
  sameText(e: number, text: string): boolean {
    const base = this.entryBase(e);
    const at = this.arenaBase + (this.i32[base + E_BYTES] as number);
    const k = this.i32[base + E_KEY_BYTES] as number;
    return sameText(this.u8, at + k, this.i32[base + E_TEXT_BYTES] as number, text);
  }

  /** The Float64Array index of entry `e`'s first number in the arena (after its text). */
  numbersAt(e: number): number {
    const base = this.entryBase(e);
    const k = this.i32[base + E_KEY_BYTES] as number;
    const t = this.i32[base + E_TEXT_BYTES] as number;
    return (this.arenaBase + (this.i32[base + E_BYTES] as number) + align8(k + t)) / 8;
  }

  /**
   * Whether a new place for `key`, `text` and `numberBytes` of numbers fits without
   * dropping any (counting 3 bytes per code unit: the most WTF-8 takes).
   */
  hasRoom(key: string, text: string, numberBytes: number): boolean {
    return this.count < this.capacity && this.arenaAt(bound(key, text, numberBytes)) >= 0;
  }

  /**
   * Appends a live entry for `key` (hash `h`, known absent), its payload's `text` and
   * room for `numberBytes` of numbers (numbersAt) at the ring's tail, and indexes it;
   * its other fields are the caller's to fill. The caller has checked hasRoom.
   */
  append(key: string, h: number, text: string, numberBytes = 0): number {
    const e = this.place(bound(key, text, numberBytes));
    const base = this.entryBase(e);
    const at = this.i32[base + E_BYTES] as number;
    const k = writeText(this.u8, this.arenaBase + at, key);
    const t = writeText(this.u8, this.arenaBase + at + k, text);
    this.i32[base + E_HASH] = h;
    this.i32[base + E_KEY_BYTES] = k;
    this.i32[base + E_TEXT_BYTES] = t;
    this.i32[base + E_NUMBER_BYTES] = numberBytes;
    this.i32[T_ARENA_TAIL] = at + align8(k + t) + numberBytes;
    this.index(e, h);
    return e;
  }

  /** The arena bytes the place at entry word `base` uses, from its start. */
  private placeBytes(base: number): number {
    const i32 = this.i32;
    const text = (i32[base + E_KEY_BYTES] as number) + (i32[base + E_TEXT_BYTES] as number);
    return align8(text) + (i32[base + E_NUMBER_BYTES] as number);
  }

  /** Unindexes live entry `e` and marks it empty; its place stays until the head passes. */
  remove(e: number): void {
    const i32 = this.i32;
    const base = this.entryBase(e);
    const mask = this.mask;
    let b = (i32[base + E_HASH] as number) & mask;
    while (i32[bucketBase(b) + B_ENTRY] !== e + 1) b = (b + 1) & mask;
    // Backward-shift deletion (Knuth 6.4, algorithm R): move each later entry of the
    // run whose home is not in (hole, its bucket] back into the hole.
    let hole = b;
    for (let j = (b + 1) & mask; ; j = (j + 1) & mask) {
      const w = bucketBase(j);
      if (i32[w + B_ENTRY] === NO_ENTRY) break;
      const home = (i32[w + B_HASH] as number) & mask;
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      const hw = bucketBase(hole);
      i32[hw + B_ENTRY] = i32[w + B_ENTRY] as number;
      i32[hw + B_HASH] = i32[w + B_HASH] as number;
      hole = j;
    }
    i32[bucketBase(hole) + B_ENTRY] = NO_ENTRY;
    i32[base + E_STATE] = ENTRY_EMPTY;
    i32[T_LIVE] = (i32[T_LIVE] as number) - 1;
  }

  /** Frees the oldest place, which must be empty (remove() it first if live). */
  dropHead(): void {
    const i32 = this.i32;
    const head = this.head;
    const count = this.count - 1;
    const next = (head + 1) % this.capacity;
    i32[T_HEAD] = next;
    i32[T_COUNT] = count;
    if (count === 0) {
      // An empty ring starts its arena over: the next bytes go at 0.
      i32[T_ARENA_HEAD] = 0;
      i32[T_ARENA_TAIL] = 0;
    } else {
      i32[T_ARENA_HEAD] = i32[this.entryBase(next) + E_BYTES] as number;
    }
  }

  /** Takes the next place, with `bytes` of arena reserved at its E_BYTES. */
  private place(bytes: number): number {
    const at = this.arenaAt(bytes);
    if (at < 0 || this.count >= this.capacity) throw new Error('idempotency table full');
    const e = (this.head + this.count) % this.capacity;
    this.i32[T_COUNT] = this.count + 1;
    this.i32[T_LIVE] = this.live + 1;
    this.i32[this.entryBase(e) + E_BYTES] = at;
    return e;
  }

  /**
   * Where `bytes` more bytes go in the arena ring, or -1 if they do not fit. They
   * never wrap: at the end they start over at 0 and the end's few bytes are skipped.
   * The tail never catches up with the head (a strict `<`), so with places in use
   * tail === head cannot mean both empty and full.
   */
  private arenaAt(bytes: number): number {
    const head = this.i32[T_ARENA_HEAD] as number;
    const tail = this.i32[T_ARENA_TAIL] as number;
    if (this.count === 0) return bytes <= this.arenaBytes ? 0 : -1;
    if (tail >= head) {
      if (tail + bytes <= this.arenaBytes) return tail;
      return bytes < head ? 0 : -1;
    }
    return tail + bytes < head ? tail : -1;
  }

  private index(e: number, h: number): void {
    const i32 = this.i32;
    let b = h & this.mask;
    while (i32[bucketBase(b) + B_ENTRY] !== NO_ENTRY) b = (b + 1) & this.mask;
    i32[bucketBase(b) + B_ENTRY] = e + 1;
    i32[bucketBase(b) + B_HASH] = h;
  }
}
