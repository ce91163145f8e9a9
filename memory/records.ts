/**
 * Reading and publishing the product record held in a slot.
 *
 * A writer changes a record only while it holds the slot's write lock, and makes the
 * change visible in one short step at the end of its critical section: the latch
 * (Linux kernel, include/linux/seqlock.h, "seqcount_latch"):
 *
 *   seq++ (odd: readers switch to copy 1) → rewrite copy 0 →
 *   seq++ (even: readers switch to copy 0) → rewrite copy 1
 *
 * A reader takes `seq`, reads copy `seq & 1` — never the copy being rewritten — and
 * keeps what it read if `seq` has not moved. So a reader never waits for a writer,
 * not even one that was descheduled mid-publish: it retries only when a publish
 * completed while it was reading, which costs nanoseconds. Until the publish, both
 * copies hold the last committed state, so a reader sees that state for the whole of
 * a long critical section (a slow `holdUs`, say).
 *
 * Every word a reader may race with is read and written with Atomics, so that the
 * reads of a copy are ordered between the two reads of `seq` (a plain read could be
 * reordered past them). Float64 fields travel as two Int32 halves.
 */
import {
  COPY_WORDS,
  float64,
  ID_MAX_BYTES,
  NAME_MAX_BYTES,
  REC_AVAILABLE,
  REC_GENERATION,
  REC_LAST_UPDATED,
  REC_NAME,
  REC_NAME_LEN,
  REC_NAME_REV,
  REC_PRICE,
  REC_STATE,
  REC_VERSION,
  type SharedViews,
  SLOT_COPY_0,
  SLOT_COPY_1,
  SLOT_ID,
  SLOT_ID_LEN,
  SLOT_LATCH_SEQ,
  slotBase,
  WORD_BYTES,
} from './layout.js';

/** A record's fields, as published. */
export interface RecordFields {
  state: number;
  generation: number;
  version: number;
  nameRev: number;
  available: number;
  lastUpdated: number;
  price: number;
}

export function emptyRecord(): RecordFields {
  return {
    state: 0,
    generation: 0,
    version: 0,
    nameRev: 0,
    available: 0,
    lastUpdated: 0,
    price: 0,
  };
}

// Per-thread scratch for moving a Float64 through two Int32 halves.
const f64Scratch = new Float64Array(1);
const halves = new Int32Array(f64Scratch.buffer);

function storeF64(i32: Int32Array, index: number, value: number): void {
  f64Scratch[0] = value;
  Atomics.store(i32, index, halves[0] as number);
  Atomics.store(i32, index + 1, halves[1] as number);
}

function loadF64(i32: Int32Array, index: number): number {
  halves[0] = Atomics.load(i32, index);
  halves[1] = Atomics.load(i32, index + 1);
  return f64Scratch[0] as number;
}

/** Words a name of up to NAME_MAX_BYTES occupies, as Int32s for Atomics. */
export const NAME_WORDS = NAME_MAX_BYTES / WORD_BYTES;

/** A buffer for a record's name: bytes, and the same memory as Int32 words. */
export interface NameScratch {
  readonly bytes: Uint8Array;
  readonly words: Int32Array;
  length: number;
}

export function nameScratch(): NameScratch {
  const buffer = new ArrayBuffer(NAME_MAX_BYTES);
  return { bytes: new Uint8Array(buffer), words: new Int32Array(buffer), length: 0 };
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Encodes `name` into `scratch`; the caller has checked its UTF-8 length. */
export function encodeName(name: string, scratch: NameScratch): NameScratch {
  scratch.bytes.fill(0);
  scratch.length = utf8.encodeInto(name, scratch.bytes).written;
  return scratch;
}

export function decodeName(scratch: NameScratch): string {
  return utf8Decoder.decode(scratch.bytes.subarray(0, scratch.length));
}

/**
 * Reads the committed record of `slot` into `out` without waiting. With `name`, also
 * copies the name's bytes into it. Safe on any thread, including the main one.
 */
export function readRecord(
  v: SharedViews,
  slot: number,
  out: RecordFields,
  name?: NameScratch,
): RecordFields {
  const i32 = v.i32;
  const base = slotBase(slot);
  for (;;) {
    const seq = Atomics.load(i32, base + SLOT_LATCH_SEQ);
    const c = base + ((seq & 1) === 0 ? SLOT_COPY_0 : SLOT_COPY_1);
    out.state = Atomics.load(i32, c + REC_STATE);
    out.generation = Atomics.load(i32, c + REC_GENERATION);
    out.version = Atomics.load(i32, c + REC_VERSION) >>> 0;
    out.nameRev = Atomics.load(i32, c + REC_NAME_REV);
    out.available = loadF64(i32, c + REC_AVAILABLE);
    out.lastUpdated = loadF64(i32, c + REC_LAST_UPDATED);
    out.price = loadF64(i32, c + REC_PRICE);
    if (name !== undefined) {
      const length = Atomics.load(i32, c + REC_NAME_LEN);
      const words = name.words;
      const count = Math.ceil(Math.min(length, NAME_MAX_BYTES) / WORD_BYTES);
      for (let w = 0; w < count; w++) words[w] = Atomics.load(i32, c + REC_NAME + w);
      name.length = Math.min(length, NAME_MAX_BYTES);
    }
    if (Atomics.load(i32, base + SLOT_LATCH_SEQ) === seq) return out;
  }
}

// --- Writers: the caller holds the slot's write lock (or owns the buffer before it
// --- is shared). Under the lock nobody else writes, so plain reads see the last
// --- publish (the lock's own Atomics order them).

function copy0(slot: number): number {
  return slotBase(slot) + SLOT_COPY_0;
}

export function lockedState(v: SharedViews, slot: number): number {
  return v.i32[copy0(slot) + REC_STATE] as number;
}
export function lockedGeneration(v: SharedViews, slot: number): number {
  return v.i32[copy0(slot) + REC_GENERATION] as number;
}
export function lockedVersion(v: SharedViews, slot: number): number {
  return (v.i32[copy0(slot) + REC_VERSION] as number) >>> 0;
}
export function lockedAvailable(v: SharedViews, slot: number): number {
  return v.f64[float64(copy0(slot) + REC_AVAILABLE)] as number;
}
export function lockedLastUpdated(v: SharedViews, slot: number): number {
  return v.f64[float64(copy0(slot) + REC_LAST_UPDATED)] as number;
}

/** Publishes a stock change: the fields every update touches, and nothing else. */
export function publishStock(
  v: SharedViews,
  slot: number,
  available: number,
  version: number,
  lastUpdated: number,
): void {
  const i32 = v.i32;
  const base = slotBase(slot);
  Atomics.add(i32, base + SLOT_LATCH_SEQ, 1);
  writeStock(i32, base + SLOT_COPY_0, available, version, lastUpdated);
  Atomics.add(i32, base + SLOT_LATCH_SEQ, 1);
  writeStock(i32, base + SLOT_COPY_1, available, version, lastUpdated);
}

function writeStock(i32: Int32Array, c: number, available: number, version: number, at: number) {
  storeF64(i32, c + REC_AVAILABLE, available);
  Atomics.store(i32, c + REC_VERSION, version);
  storeF64(i32, c + REC_LAST_UPDATED, at);
}

/** Publishes a whole record; with `name`, its name too. */
export function publishRecord(
  v: SharedViews,
  slot: number,
  r: RecordFields,
  name?: NameScratch,
): void {
  const i32 = v.i32;
  const base = slotBase(slot);
  Atomics.add(i32, base + SLOT_LATCH_SEQ, 1);
  writeRecord(i32, base + SLOT_COPY_0, r, name);
  Atomics.add(i32, base + SLOT_LATCH_SEQ, 1);
  writeRecord(i32, base + SLOT_COPY_1, r, name);
}

function writeRecord(i32: Int32Array, c: number, r: RecordFields, name?: NameScratch): void {
  Atomics.store(i32, c + REC_STATE, r.state);
  Atomics.store(i32, c + REC_GENERATION, r.generation);
  Atomics.store(i32, c + REC_VERSION, r.version);
  Atomics.store(i32, c + REC_NAME_REV, r.nameRev);
  storeF64(i32, c + REC_AVAILABLE, r.available);
  storeF64(i32, c + REC_LAST_UPDATED, r.lastUpdated);
  storeF64(i32, c + REC_PRICE, r.price);
  if (name !== undefined) {
    Atomics.store(i32, c + REC_NAME_LEN, name.length);
    for (let w = 0; w < NAME_WORDS; w++) Atomics.store(i32, c + REC_NAME + w, name.words[w] ?? 0);
  }
}

/** The record copies must fit their lines; checked here so a layout edit fails loudly. */
if (REC_NAME + NAME_WORDS !== COPY_WORDS) throw new Error('record copy layout does not add up');

/**
 * Writes the product id of a slot that is not yet live (under its write lock, or
 * before the buffer is shared). The id is fixed for the product's life, and the
 * publish that makes the slot live orders it before any reader looks.
 */
export function writeId(v: SharedViews, slot: number, id: Uint8Array): void {
  if (id.length > ID_MAX_BYTES) throw new RangeError('product id too long');
  const start = (slotBase(slot) + SLOT_ID) * WORD_BYTES;
  v.u8.fill(0, start, start + ID_MAX_BYTES);
  v.u8.set(id, start);
  Atomics.store(v.i32, slotBase(slot) + SLOT_ID_LEN, id.length);
}

/** Reads a live slot's product id (used by workers for their log lines). */
export function readId(v: SharedViews, slot: number): string {
  const start = (slotBase(slot) + SLOT_ID) * WORD_BYTES;
  const length = Math.min(Atomics.load(v.i32, slotBase(slot) + SLOT_ID_LEN), ID_MAX_BYTES);
  // TextDecoder refuses views of shared memory: copy out first.
  return utf8Decoder.decode(v.u8.slice(start, start + length));
}

/** Scratch for text that is not ASCII, encoded before it is copied into the buffer. */
const textScratch = new Uint8Array(Math.max(NAME_MAX_BYTES, ID_MAX_BYTES));

/**
 * Copies `text` (checked to fit `max` bytes of UTF-8) to byte `at` of a buffer not yet
 * shared; returns its length in bytes. ASCII, the usual id and name, is copied a code
 * unit at a time: no encoder call, no allocation.
 */
function writeText(u8: Uint8Array, at: number, text: string, max: number): number {
  const length = text.length;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) break;
    u8[at + i] = c;
    i++;
  }
  if (i === length) return length;
  const bytes = textScratch.subarray(0, max);
  const written = utf8.encodeInto(text, bytes).written;
  u8.set(bytes.subarray(0, written), at);
  return written;
}

function writeLoadedCopy(v: SharedViews, c: number, r: RecordFields, nameLength: number): void {
  const i32 = v.i32;
  const f64 = v.f64;
  i32[c + REC_STATE] = r.state;
  i32[c + REC_GENERATION] = r.generation;
  i32[c + REC_VERSION] = r.version;
  i32[c + REC_NAME_REV] = r.nameRev;
  f64[float64(c + REC_AVAILABLE)] = r.available;
  f64[float64(c + REC_LAST_UPDATED)] = r.lastUpdated;
  f64[float64(c + REC_PRICE)] = r.price;
  i32[c + REC_NAME_LEN] = nameLength;
}

/**
 * Writes a whole live record, its id and its name into `slot` of a buffer that is not
 * shared yet (the initial catalog of Inventory.open), with plain stores: no other
 * thread can see the buffer, and handing it to the pool orders every store before a
 * worker's first read. Both copies are written and the latch sequence stays even, as
 * after a publish. The slot must be fresh (all zero), as createBuffer leaves it, so
 * the bytes past the name and the id need no clearing; `id` and `name` are checked.
 */
export function loadRecord(
  v: SharedViews,
  slot: number,
  r: RecordFields,
  id: string,
  name: string,
): void {
  const base = slotBase(slot);
  v.i32[base + SLOT_ID_LEN] = writeText(v.u8, (base + SLOT_ID) * WORD_BYTES, id, ID_MAX_BYTES);
  loadCopies(v, base, r, name);
}

/** The name and both record copies of a slot being loaded (loadRecord, loadRecordBytes). */
function loadCopies(v: SharedViews, base: number, r: RecordFields, name: string): void {
  const u8 = v.u8;
  const at0 = (base + SLOT_COPY_0 + REC_NAME) * WORD_BYTES;
  const length = writeText(u8, at0, name, NAME_MAX_BYTES);
  const at1 = (base + SLOT_COPY_1 + REC_NAME) * WORD_BYTES;
  u8.copyWithin(at1, at0, at0 + length);
  writeLoadedCopy(v, base + SLOT_COPY_0, r, length);
  writeLoadedCopy(v, base + SLOT_COPY_1, r, length);
}

/**
 * loadRecord with the id as UTF-8 bytes, id[at, at + length) (checked to fit): for
 * recovery, which has the bytes and never decodes them.
 */
export function loadRecordBytes(
  v: SharedViews,
  slot: number,
  r: RecordFields,
  id: Uint8Array,
  at: number,
  length: number,
  name: string,
): void {
  const base = slotBase(slot);
  const u8 = v.u8;
  const idAt = (base + SLOT_ID) * WORD_BYTES;
  for (let i = 0; i < length; i++) u8[idAt + i] = id[at + i] as number;
  v.i32[base + SLOT_ID_LEN] = length;
  loadCopies(v, base, r, name);
}

/**
 * Repairs the latch of a slot whose writer died mid-publish (its sequence odd: copy 0
 * half rewritten, copy 1 intact). Copy 1 is copied over copy 0 while readers still
 * read copy 1, then the sequence is made even again. A slot whose sequence is even
 * needs nothing: copy 0, which readers read, was complete. Run by the caller's
 * thread on a slot whose writer is dead, so no one else writes it meanwhile.
 */
export function repairLatch(v: SharedViews, slot: number): boolean {
  const i32 = v.i32;
  const base = slotBase(slot);
  if ((Atomics.load(i32, base + SLOT_LATCH_SEQ) & 1) === 0) return false;
  for (let w = 0; w < COPY_WORDS; w++) {
    Atomics.store(i32, base + SLOT_COPY_0 + w, Atomics.load(i32, base + SLOT_COPY_1 + w));
  }
  Atomics.add(i32, base + SLOT_LATCH_SEQ, 1);
  return true;
}
