/**
 * Opening a data directory: the newest intact snapshot, then the journal replayed
 * over it, in offset order.
 *
 * Records are after-images (available, version, lastUpdated as they were after the
 * change), so replay sets fields and never adds: replaying a change the snapshot
 * already holds sets what it holds. A snapshot is fuzzy — taken while writers run —
 * and records `replayFrom`, below which every change is in it; replaying every record
 * from there in offset order converges on the state at the journal's end (see
 * workers/journal.ts, checkpoint).
 *
 * Every segment is checked whole before anything is replayed: a sane length, the
 * CRC, and offsets consecutive across segments. A bad record with nothing intact
 * after it in the last segment is a torn tail (the write a crash cut short): the file
 * is cut there with a warning. Anything else is corruption: CORRUPT_JOURNAL naming
 * the file and byte, unless `repair`, which cuts there, deletes the later segments and
 * logs what was dropped.
 *
 * Speed: one readFileSync per file and a DataView over it; per record, only the
 * strings recovery keeps (the product id to look it up, a name when it changes).
 */
import { closeSync, fsyncSync, ftruncateSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { crc32c } from '@node-rs/crc32';
import {
  C_AVAILABLE,
  C_FLAGS,
  C_HEADER_BYTES,
  C_ID_LENGTH,
  C_ITEMS,
  C_LAST_UPDATED,
  C_NAME_LENGTH,
  C_OFFSET,
  C_ORDER,
  C_PRICE,
  C_TYPE,
  C_VERSION,
  type DecodedChange,
  decodeChange,
  FLAG_KEY,
  FLAG_NAME,
  FLAG_PRICE,
  TYPE_ABORTED,
  TYPE_CREATED,
  TYPE_DELETED,
  TYPE_MODIFIED,
} from '../../memory/change-log.js';
import { type SharedViews, STATE_LIVE } from '../../memory/layout.js';
import { emptyRecord, loadRecordBytes } from '../../memory/records.js';
import {
  corruptAt,
  decodeSegmentHeader,
  decodeSnapshotHeader,
  FILE_HEADER_BYTES,
  fsyncDir,
  H_BODY_CRC,
  H_COVERS,
  H_FIRST,
  H_REPLAY_FROM,
  intactLength,
  listDataDir,
  type NamedFile,
  nextIntact,
  type SnapshotHeader,
  saneLength,
} from './files.js';

export interface RecoveredProduct {
  productId: string;
  name: string;
  available: number;
  price: number;
  version: number;
  lastUpdated: number;
}

export interface RecoverLog {
  warn(details: object, message: string): void;
}

export interface RecoverOptions {
  /** Cut the journal at the first bad record instead of refusing to open. */
  readonly repair?: boolean;
  /** Keyed records younger than this (by lastUpdated) come back in `keys`. */
  readonly ttlMs: number;
  readonly log: RecoverLog;
  /** The time keys' ages are measured from (ms); Date.now() by default. */
  readonly now?: number;
}

/** Where the journal was cut, and what went. */
export interface Truncation {
  readonly file: string;
  readonly at: number;
  /** Intact records after the cut, dropped (0 for a torn tail). */
  readonly dropped: number;
  /** Their first and last offsets, or null when none. */
  readonly offsets: readonly [number, number] | null;
  /** Bytes removed from `file` (later segments deleted whole come on top). */
  readonly bytes: number;
}

export interface Recovered {
  products: RecoveredProduct[];
  /** The offset the next change takes: the journal's last + 1 (1 for an empty dir). */
  nextOffset: number;
  /**
   * Keyed records with lastUpdated ≥ now − ttlMs, in offset order; for a keyed order,
   * every item (the first carries the key and `items`).
   */
  keys: DecodedChange[];
  /** The loaded snapshot's covers, 0 without one. */
  lastSnapshot: number;
  /** The first offset replayed. */
  replayFrom: number;
  segmentsRead: number;
  recordsReplayed: number;
  truncated?: Truncation;
}

/** A segment read whole, its records checked up to `end`. */
interface Segment {
  readonly file: string;
  readonly bytes: Buffer;
  readonly view: DataView;
  readonly first: number;
  end: number;
}

interface Journal {
  readonly segments: Segment[];
  /** The first offset any segment holds, or null when there is none. */
  readonly start: number | null;
  /** Everything below the next offset was journaled (a segment's name says so too). */
  readonly next: number;
  truncated?: Truncation;
}

function viewOf(bytes: Buffer): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Cuts `file` to `at` bytes, durably. */
function cutFile(file: string, at: number): void {
  const fd = openSync(file, 'r+');
  try {
    ftruncateSync(fd, at);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Cuts `file` at byte `at`, or deletes it when its header is at fault (`at` 0). */
function cutOrDelete(file: string, at: number): void {
  if (at > 0) {
    cutFile(file, at);
    return;
  }
  unlinkSync(file);
  fsyncDir(path.dirname(file));
}

/** Intact records from byte `from` of each segment on: how many, and the highest offset. */
function countIntact(parts: { bytes: Buffer; view: DataView; from: number }[]) {
  let count = 0;
  let high = 0;
  for (const { bytes, view, from } of parts) {
    let at = nextIntact(bytes, view, from, bytes.length);
    while (at >= 0) {
      const offset = view.getFloat64(at + C_OFFSET, true);
      count++;
      high = Math.max(high, offset);
      const length = intactLength(bytes, view, at, bytes.length);
      at = nextIntact(bytes, view, at + length, bytes.length);
    }
  }
  return { count, high };
}

/**
 * Reads and checks every segment; cuts a torn tail, and under `repair` the first bad
 * record with all that follows it.
 */
function readJournal(segmentFiles: NamedFile[], o: RecoverOptions): Journal {
  const segments: Segment[] = [];
  let next = Number.NaN;
  let truncated: Truncation | undefined;
  for (let i = 0; i < segmentFiles.length; i++) {
    const { file, offset: named } = segmentFiles[i] as NamedFile;
    const bytes = readFileSync(file);
    const view = viewOf(bytes);
    const last = i === segmentFiles.length - 1;
    // `at` below the header's end: the header is at fault, and the segment goes whole.
    let problem: { at: number; why: string; torn: boolean } | null = null;
    const header = decodeSegmentHeader(bytes.subarray(0, FILE_HEADER_BYTES));
    if (!header.ok) problem = { at: 0, why: header.problem, torn: true };
    else if (header.header.first !== named) {
      const why = `its header names first offset ${header.header.first}`;
      problem = { at: H_FIRST, why, torn: false };
    } else if (!Number.isNaN(next) && named !== next) {
      const why = `it starts at offset ${named}, the journal before it ends at ${next - 1}`;
      problem = { at: H_FIRST, why, torn: false };
    }
    const segment: Segment = { file, bytes, view, first: named, end: FILE_HEADER_BYTES };
    if (problem === null) {
      next = named;
      let at = FILE_HEADER_BYTES;
      while (at < bytes.length) {
        const length = intactLength(bytes, view, at, bytes.length);
        if (length === 0) {
          problem = { at, why: 'a record that does not check (length or CRC)', torn: true };
          break;
        }
        const offset = view.getFloat64(at + C_OFFSET, true);
        if (offset !== next) {
          problem = { at, why: `offset ${offset} where ${next} was expected`, torn: true };
          break;
        }
        next++;
        at += length;
      }
      segment.end = at;
    }
    if (problem === null) {
      segments.push(segment);
      continue;
    }
    const cut = problem.at < FILE_HEADER_BYTES ? 0 : problem.at;
    // A torn tail: the last segment, nothing intact from the bad byte on.
    const torn =
      problem.torn &&
      last &&
      nextIntact(bytes, view, Math.max(cut, FILE_HEADER_BYTES), bytes.length) < 0;
    if (!torn && o.repair !== true) throw corruptAt(file, problem.at, problem.why);
    if (torn) {
      truncated = { file, at: cut, dropped: 0, offsets: null, bytes: bytes.length - cut };
      cutOrDelete(file, cut);
      o.log.warn(
        { file, at: cut, bytes: truncated.bytes },
        `journal: cut a torn tail off ${file} at byte ${cut} (${problem.why})`,
      );
    } else {
      truncated = repairAt(segmentFiles, i, bytes, view, cut, Number.isNaN(next) ? named : next, o);
    }
    if (cut > 0) segments.push(segment);
    break;
  }
  const start = segments.length > 0 ? (segments[0] as Segment).first : null;
  return { segments, start, next: Number.isNaN(next) ? 1 : next, truncated };
}

/**
 * `repair`: cut segment i at byte `at`, delete every later segment, log what went:
 * the record at `at` (whose offset was to be `expected`) and every intact one after.
 */
function repairAt(
  segmentFiles: NamedFile[],
  i: number,
  bytes: Buffer,
  view: DataView,
  at: number,
  expected: number,
  o: RecoverOptions,
): Truncation {
  const { file } = segmentFiles[i] as NamedFile;
  const later = segmentFiles.slice(i + 1).map(({ file: f }) => {
    const b = readFileSync(f);
    return { file: f, bytes: b, view: viewOf(b), from: FILE_HEADER_BYTES };
  });
  const from = Math.max(at, FILE_HEADER_BYTES);
  const lost = countIntact([{ bytes, view, from }, ...later]);
  const unreadable = at >= FILE_HEADER_BYTES && intactLength(bytes, view, at, bytes.length) === 0;
  const dropped = lost.count + (unreadable ? 1 : 0);
  const offsets = dropped === 0 ? null : ([expected, Math.max(expected, lost.high)] as const);
  cutOrDelete(file, at);
  for (const l of later) unlinkSync(l.file);
  fsyncDir(path.dirname(file));
  const range = offsets === null ? 'none' : `${offsets[0]}…${offsets[1]}`;
  o.log.warn(
    { file, at, dropped, offsets, deleted: later.map((l) => l.file) },
    `journal repair: cut ${file} at byte ${at}, dropped ${dropped} records (offsets ${range}) and ${later.length} later segments`,
  );
  return { file, at, dropped, offsets, bytes: bytes.length - at };
}

// ---------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------

interface Loaded {
  readonly header: SnapshotHeader;
  readonly products: ProductIndex;
}

/** A string of bytes [start, end) of `bytes`, UTF-8. */
function text(bytes: Buffer, start: number, end: number): string {
  return start === end ? '' : bytes.toString('utf8', start, end);
}

/** FNV-1a of bytes [start, end). */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  return h;
}

/**
 * Products by id, keyed on the id's bytes where a record holds them: open addressing
 * over an Int32Array, so that a journal record finds its product without decoding its
 * id (a string and a Map lookup per record cost more than all the rest of replay). An
 * entry outlives its product's deletion (products[i] null) and serves its re-creation.
 */
class ProductIndex {
  /** By entry; null once deleted. */
  readonly products: (RecoveredProduct | null)[] = [];
  /** Where each entry's id bytes are: sources[source[i]] at idAt[i], idLength[i] long. */
  private readonly sources: Buffer[] = [];
  private source: Uint16Array;
  private idAt: Uint32Array;
  private idLength: Uint8Array;
  private hashes: Int32Array;
  /** entry + 1 (0: free), at hash & mask, linear probing, at most half full. */
  private table: Int32Array;
  private mask: number;

  constructor(expected: number) {
    const entries = Math.max(1024, expected);
    this.source = new Uint16Array(entries);
    this.idAt = new Uint32Array(entries);
    this.idLength = new Uint8Array(entries);
    this.hashes = new Int32Array(entries);
    let size = 2048;
    while (size < entries * 2) size *= 2;
    this.table = new Int32Array(size);
    this.mask = size - 1;
  }

  /** Registers a file's bytes, which records' ids then point into; its number. */
  addSource(bytes: Buffer): number {
    this.sources.push(bytes);
    return this.sources.length - 1;
  }

  /** The entry of the id at bytes[at, at + length), or -1 - (its free table place). */
  private find(bytes: Buffer, at: number, length: number, hash: number): number {
    for (let k = hash & this.mask; ; k = (k + 1) & this.mask) {
      const entry = (this.table[k] as number) - 1;
      if (entry < 0) return -1 - k;
      if (this.hashes[entry] !== hash || this.idLength[entry] !== length) continue;
      const other = this.sources[this.source[entry] as number] as Buffer;
      const from = this.idAt[entry] as number;
      let i = 0;
      while (i < length && other[from + i] === bytes[at + i]) i++;
      if (i === length) return entry;
    }
  }

  /** The entry of the id in the record at `at` of source `source`, made if need be. */
  entryOf(source: number, at: number): number {
    const bytes = this.sources[source] as Buffer;
    const idAt = at + C_HEADER_BYTES;
    const length = bytes[at + C_ID_LENGTH] as number;
    const hash = hashBytes(bytes, idAt, idAt + length);
    const found = this.find(bytes, idAt, length, hash);
    if (found >= 0) return found;
    const entry = this.products.length;
    if (entry === this.hashes.length) this.grow();
    this.source[entry] = source;
    this.idAt[entry] = idAt;
    this.idLength[entry] = length;
    this.hashes[entry] = hash;
    this.products.push(null);
    // Growing rehashes every entry: the free place found before may have moved.
    if ((entry + 1) * 2 > this.table.length) this.rehash();
    else this.table[-1 - found] = entry + 1;
    return entry;
  }

  private grow(): void {
    const entries = this.hashes.length * 2;
    const copy = <T extends Uint16Array | Uint32Array | Uint8Array | Int32Array>(
      from: T,
      to: T,
    ): T => {
      to.set(from);
      return to;
    };
    this.source = copy(this.source, new Uint16Array(entries));
    this.idAt = copy(this.idAt, new Uint32Array(entries));
    this.idLength = copy(this.idLength, new Uint8Array(entries));
    this.hashes = copy(this.hashes, new Int32Array(entries));
  }

  private rehash(): void {
    this.table = new Int32Array(this.table.length * 2);
    this.mask = this.table.length - 1;
    for (let entry = 0; entry < this.products.length; entry++) {
      let k = (this.hashes[entry] as number) & this.mask;
      while (this.table[k] !== 0) k = (k + 1) & this.mask;
      this.table[k] = entry + 1;
    }
  }

  /** Sets the product a TYPE_CREATED record (or an after-image with no product) holds. */
  create(entry: number, bytes: Buffer, view: DataView, at: number): void {
    const idStart = at + C_HEADER_BYTES;
    const idEnd = idStart + (bytes[at + C_ID_LENGTH] as number);
    const flags = bytes[at + C_FLAGS] as number;
    const nameLength = (flags & FLAG_NAME) !== 0 ? (bytes[at + C_NAME_LENGTH] as number) : 0;
    // The id stays in its bytes (idBytes) until values() needs it as a string.
    this.products[entry] = {
      productId: '',
      name: text(bytes, idEnd, idEnd + nameLength),
      available: view.getFloat64(at + C_AVAILABLE, true),
      price: (flags & FLAG_PRICE) !== 0 ? view.getFloat64(at + C_PRICE, true) : 0,
      version: view.getUint32(at + C_VERSION, true),
      lastUpdated: view.getFloat64(at + C_LAST_UPDATED, true),
    };
  }

  /** Entry `entry`'s id: its bytes are ids[at, at + length) (recoverInto copies them). */
  idBytes(entry: number): Buffer {
    return this.sources[this.source[entry] as number] as Buffer;
  }

  idAtOf(entry: number): number {
    return this.idAt[entry] as number;
  }

  idLengthOf(entry: number): number {
    return this.idLength[entry] as number;
  }

  /** The live products, in the order they were first seen. */
  values(): RecoveredProduct[] {
    const out: RecoveredProduct[] = [];
    for (let entry = 0; entry < this.products.length; entry++) {
      const product = this.products[entry];
      if (product === null || product === undefined) continue;
      const at = this.idAt[entry] as number;
      product.productId = text(this.idBytes(entry), at, at + (this.idLength[entry] as number));
      out.push(product);
    }
    return out;
  }
}

/** Loads one snapshot, or answers why it cannot be used. */
function loadSnapshot(file: string, journal: Journal): Loaded | { at: number; why: string } {
  const bytes = readFileSync(file);
  const view = viewOf(bytes);
  const decoded = decodeSnapshotHeader(bytes.subarray(0, FILE_HEADER_BYTES));
  if (!decoded.ok) return { at: 0, why: decoded.problem };
  const header = decoded.header;
  const journalEnd = journal.next - 1;
  if (header.covers > journalEnd) {
    return {
      at: H_COVERS,
      why: `it covers offset ${header.covers}, the journal ends at ${journalEnd}`,
    };
  }
  if (
    journal.start !== null &&
    header.replayFrom < journal.start &&
    header.replayFrom <= journalEnd
  ) {
    return {
      at: H_REPLAY_FROM,
      why: `it replays from offset ${header.replayFrom}, the journal starts at ${journal.start}`,
    };
  }
  // One CRC of the whole body, at memory speed; only a body that fails it is checked
  // record by record, to say where it is bad.
  const whole = crc32c(bytes.subarray(FILE_HEADER_BYTES)) === header.bodyCrc;
  const products = new ProductIndex(header.products);
  const source = products.addSource(bytes);
  let at = FILE_HEADER_BYTES;
  for (let n = 0; n < header.products; n++) {
    const length = whole
      ? saneLength(bytes, view, at, bytes.length)
      : intactLength(bytes, view, at, bytes.length);
    if (length === 0 || bytes[at + C_TYPE] !== TYPE_CREATED) {
      return { at, why: `product record ${n} of ${header.products} does not check` };
    }
    products.create(products.entryOf(source, at), bytes, view, at);
    at += length;
  }
  if (at !== bytes.length) return { at, why: `${bytes.length - at} bytes past its last product` };
  if (!whole) return { at: H_BODY_CRC, why: 'its body CRC does not match its records' };
  return { header, products };
}

function chooseSnapshot(
  snapshots: NamedFile[],
  journal: Journal,
  o: RecoverOptions,
): Loaded | null {
  for (let i = snapshots.length - 1; i >= 0; i--) {
    const { file } = snapshots[i] as NamedFile;
    const loaded = loadSnapshot(file, journal);
    if ('header' in loaded) return loaded;
    const error = corruptAt(file, loaded.at, loaded.why);
    if (o.repair !== true) throw error;
    o.log.warn({ file, at: loaded.at }, `journal repair: skipping snapshot: ${error.message}`);
  }
  if (journal.start !== null && journal.start > 1) {
    const first = (journal.segments[0] as Segment).file;
    throw corruptAt(
      first,
      H_FIRST,
      `no usable snapshot, and the journal starts at offset ${journal.start}`,
    );
  }
  return null;
}

// ---------------------------------------------------------------------------
// Replay
// ---------------------------------------------------------------------------

/** Applies the record at `at` of source `source` (its after-image). */
function apply(products: ProductIndex, source: number, bytes: Buffer, view: DataView, at: number) {
  const type = bytes[at + C_TYPE] as number;
  if (type === TYPE_ABORTED) return;
  const entry = products.entryOf(source, at);
  const product = products.products[entry] ?? null;
  if (type === TYPE_DELETED) {
    products.products[entry] = null;
  } else if (type === TYPE_CREATED || product === null) {
    // With no product: a change to one the snapshot did not hold. It was deleted
    // before the snapshot's copy reached it and a later record deletes it again, or it
    // was created after and a later record creates it whole. Keep the after-image.
    products.create(entry, bytes, view, at);
  } else {
    product.available = view.getFloat64(at + C_AVAILABLE, true);
    product.version = view.getUint32(at + C_VERSION, true);
    product.lastUpdated = view.getFloat64(at + C_LAST_UPDATED, true);
    if (type !== TYPE_MODIFIED) return;
    const flags = bytes[at + C_FLAGS] as number;
    if ((flags & FLAG_NAME) !== 0) {
      const nameAt = at + C_HEADER_BYTES + (bytes[at + C_ID_LENGTH] as number);
      product.name = text(bytes, nameAt, nameAt + (bytes[at + C_NAME_LENGTH] as number));
    }
    if ((flags & FLAG_PRICE) !== 0) product.price = view.getFloat64(at + C_PRICE, true);
  }
}

/** Replays every checked record at or above `replayFrom`; collects unexpired keys. */
function replay(
  journal: Journal,
  products: ProductIndex,
  replayFrom: number,
  keysFrom: number,
): { replayed: number; keys: DecodedChange[] } {
  const keys: DecodedChange[] = [];
  let replayed = 0;
  // The first item's offset of a keyed order whose later items are still to come.
  let keyedOrder = 0;
  for (const { bytes, view, end } of journal.segments) {
    const source = products.addSource(bytes);
    for (let at = FILE_HEADER_BYTES; at < end; at += view.getUint32(at, true)) {
      const offset = view.getFloat64(at + C_OFFSET, true);
      if (offset >= replayFrom) {
        apply(products, source, bytes, view, at);
        replayed++;
      }
      const order = view.getFloat64(at + C_ORDER, true);
      if ((bytes[at + C_FLAGS] as number) & FLAG_KEY) {
        if (view.getFloat64(at + C_LAST_UPDATED, true) >= keysFrom) {
          keys.push(decodeChange(bytes, at));
          keyedOrder = order === offset && view.getUint16(at + C_ITEMS, true) > 1 ? offset : 0;
        } else {
          keyedOrder = 0;
        }
      } else if (keyedOrder !== 0 && order === keyedOrder) {
        keys.push(decodeChange(bytes, at));
      } else {
        keyedOrder = 0;
      }
    }
  }
  return { replayed, keys };
}

/** What recovery found, its products still indexed. */
interface RecoveredIndex extends Omit<Recovered, 'products'> {
  readonly index: ProductIndex;
}

function recoverIndex(dir: string, o: RecoverOptions): RecoveredIndex {
  const listing = listDataDir(dir);
  const journal = readJournal(listing.segments, o);
  const snapshot = chooseSnapshot(listing.snapshots, journal, o);
  const index = snapshot?.products ?? new ProductIndex(0);
  const replayFrom = snapshot?.header.replayFrom ?? 1;
  const keysFrom = (o.now ?? Date.now()) - o.ttlMs;
  const { replayed, keys } = replay(journal, index, replayFrom, keysFrom);
  const recovered: RecoveredIndex = {
    index,
    nextOffset: journal.next,
    keys,
    lastSnapshot: snapshot?.header.covers ?? 0,
    replayFrom,
    segmentsRead: journal.segments.length,
    recordsReplayed: replayed,
  };
  if (journal.truncated !== undefined) recovered.truncated = journal.truncated;
  return recovered;
}

/** Recovers the state a data directory holds; see the file's header. */
export function recover(dir: string, o: RecoverOptions): Recovered {
  const { index, ...rest } = recoverIndex(dir, o);
  return { products: index.values(), ...rest };
}

/** recoverInto's answer: Recovered without the products, which are in the buffer. */
export interface RecoveredInto extends Omit<Recovered, 'products'> {
  /** Products written, to slots 0 … count − 1, in the order they were first seen. */
  readonly count: number;
  /** Their ids, UTF-8, one after another: id i is idBytes[idEnds[i − 1] (0 for i = 0), idEnds[i]). */
  readonly idBytes: Uint8Array;
  readonly idEnds: Int32Array;
  /** Whether every id byte is ASCII (so that byte offsets are string offsets). */
  readonly ascii: boolean;
}

/**
 * Recovers `dir` straight into slots 0 … n − 1 of a product buffer not yet shared
 * with the pool, each as the catalog gives a fresh slot (live, generation 1); refuses
 * (INVALID_OPTION) more products than the buffer holds before writing any. Run on
 * the recovery thread (workers/recover.ts).
 */
export function recoverInto(
  dir: string,
  o: RecoverOptions,
  v: SharedViews,
  tooMany: (count: number) => Error,
  /** Handed the answer once the ids are known, before the records are written. */
  early?: (recovered: RecoveredInto) => void,
): RecoveredInto {
  const { index, ...rest } = recoverIndex(dir, o);
  const products = index.products;
  let count = 0;
  let idTotal = 0;
  for (let entry = 0; entry < products.length; entry++) {
    if (products[entry] === null) continue;
    count++;
    idTotal += index.idLengthOf(entry);
  }
  if (count > v.capacity) throw tooMany(count);
  const idBytes = new Uint8Array(idTotal);
  const idEnds = new Int32Array(count);
  const record = emptyRecord();
  record.state = STATE_LIVE;
  record.generation = 1;
  record.nameRev = 1;
  let ascii = true;
  let slot = 0;
  let end = 0;
  for (let entry = 0; entry < products.length; entry++) {
    if (products[entry] === null) continue;
    const source = index.idBytes(entry);
    const at = index.idAtOf(entry);
    const length = index.idLengthOf(entry);
    for (let i = 0; i < length; i++) {
      const b = source[at + i] as number;
      if (b >= 0x80) ascii = false;
      idBytes[end + i] = b;
    }
    end += length;
    idEnds[slot++] = end;
  }
  // The caller's thread can assign the ids while this one writes the records.
  const recovered = { ...rest, count, idBytes: idBytes.slice(), idEnds: idEnds.slice(), ascii };
  early?.(recovered);
  slot = 0;
  end = 0;
  for (let entry = 0; entry < products.length; entry++) {
    const p = products[entry];
    if (p === null || p === undefined) continue;
    const length = (idEnds[slot] as number) - end;
    record.version = p.version;
    record.lastUpdated = p.lastUpdated;
    record.available = p.available;
    record.price = p.price;
    loadRecordBytes(v, slot, record, idBytes, end, length, p.name);
    end += length;
    slot++;
  }
  return recovered;
}
