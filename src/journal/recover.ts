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
  TYPE_CREATED,
  TYPE_DELETED,
  TYPE_MODIFIED,
  TYPE_UPDATED,
} from '../../memory/change-log.js';
import {
  corruptAt,
  decodeSegmentHeader,
  decodeSnapshotHeader,
  FILE_HEADER_BYTES,
  fsyncDir,
  H_COVERS,
  H_FIRST,
  H_REPLAY_FROM,
  intactLength,
  listDataDir,
  type NamedFile,
  nextIntact,
  type SnapshotHeader,
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
  readonly products: Map<string, RecoveredProduct>;
}

/** A string of bytes [start, end) of `bytes`, UTF-8. */
function text(bytes: Buffer, start: number, end: number): string {
  return start === end ? '' : bytes.toString('utf8', start, end);
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
  const products = new Map<string, RecoveredProduct>();
  let at = FILE_HEADER_BYTES;
  for (let n = 0; n < header.products; n++) {
    const length = intactLength(bytes, view, at, bytes.length);
    if (length === 0 || bytes[at + C_TYPE] !== TYPE_CREATED) {
      return { at, why: `product record ${n} of ${header.products} does not check` };
    }
    const product = created(bytes, view, at);
    products.set(product.productId, product);
    at += length;
  }
  if (at !== bytes.length) return { at, why: `${bytes.length - at} bytes past its last product` };
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

function created(bytes: Buffer, view: DataView, at: number): RecoveredProduct {
  const idStart = at + C_HEADER_BYTES;
  const idEnd = idStart + (bytes[at + C_ID_LENGTH] as number);
  const flags = bytes[at + C_FLAGS] as number;
  return {
    productId: text(bytes, idStart, idEnd),
    name:
      (flags & FLAG_NAME) !== 0
        ? text(bytes, idEnd, idEnd + (bytes[at + C_NAME_LENGTH] as number))
        : '',
    available: view.getFloat64(at + C_AVAILABLE, true),
    price: (flags & FLAG_PRICE) !== 0 ? view.getFloat64(at + C_PRICE, true) : 0,
    version: view.getUint32(at + C_VERSION, true),
    lastUpdated: view.getFloat64(at + C_LAST_UPDATED, true),
  };
}

/** Applies the record at `at` to `products` (its after-image). */
function apply(products: Map<string, RecoveredProduct>, bytes: Buffer, view: DataView, at: number) {
  const type = bytes[at + C_TYPE] as number;
  if (type === TYPE_CREATED) {
    const product = created(bytes, view, at);
    products.set(product.productId, product);
    return;
  }
  if (type !== TYPE_UPDATED && type !== TYPE_MODIFIED && type !== TYPE_DELETED) return;
  const idStart = at + C_HEADER_BYTES;
  const idEnd = idStart + (bytes[at + C_ID_LENGTH] as number);
  const id = text(bytes, idStart, idEnd);
  if (type === TYPE_DELETED) {
    products.delete(id);
    return;
  }
  let product = products.get(id);
  if (product === undefined) {
    // A change to a product the snapshot did not hold: it was deleted before the
    // snapshot's copy reached it, and a later record deletes it again (or it was
    // created after, and a later record creates it whole). Keep the after-image.
    product = created(bytes, view, at);
    products.set(id, product);
    return;
  }
  product.available = view.getFloat64(at + C_AVAILABLE, true);
  product.version = view.getUint32(at + C_VERSION, true);
  product.lastUpdated = view.getFloat64(at + C_LAST_UPDATED, true);
  if (type === TYPE_MODIFIED) {
    const flags = bytes[at + C_FLAGS] as number;
    if ((flags & FLAG_NAME) !== 0) {
      product.name = text(bytes, idEnd, idEnd + (bytes[at + C_NAME_LENGTH] as number));
    }
    if ((flags & FLAG_PRICE) !== 0) product.price = view.getFloat64(at + C_PRICE, true);
  }
}

/** Replays every checked record at or above `replayFrom`; collects unexpired keys. */
function replay(
  journal: Journal,
  products: Map<string, RecoveredProduct>,
  replayFrom: number,
  keysFrom: number,
): { replayed: number; keys: DecodedChange[] } {
  const keys: DecodedChange[] = [];
  let replayed = 0;
  // The first item's offset of a keyed order whose later items are still to come.
  let keyedOrder = 0;
  for (const { bytes, view, end } of journal.segments) {
    for (let at = FILE_HEADER_BYTES; at < end; at += view.getUint32(at, true)) {
      const offset = view.getFloat64(at + C_OFFSET, true);
      if (offset >= replayFrom) {
        apply(products, bytes, view, at);
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

/** Recovers the state a data directory holds; see the file's header. */
export function recover(dir: string, o: RecoverOptions): Recovered {
  const listing = listDataDir(dir);
  const journal = readJournal(listing.segments, o);
  const snapshot = chooseSnapshot(listing.snapshots, journal, o);
  const products = snapshot?.products ?? new Map<string, RecoveredProduct>();
  const replayFrom = snapshot?.header.replayFrom ?? 1;
  const keysFrom = (o.now ?? Date.now()) - o.ttlMs;
  const { replayed, keys } = replay(journal, products, replayFrom, keysFrom);
  const recovered: Recovered = {
    products: [...products.values()],
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
