/**
 * The journal's files, shared by the journal thread (workers/journal.ts), which writes
 * them, and recovery (src/journal/recover.ts), which reads them. Every constant of the
 * formats is named here once.
 *
 * A data directory holds:
 *
 *   LOCK                              the owner's pid (src/journal/dir-lock.ts)
 *   SEEDING                           present while a first open journals its
 *                                     initial catalog (src/journal/seeding.ts)
 *   journal-<first offset>.lsj        segments: a header, then records
 *   snapshot-<covers>.lss             snapshots: a header, then one record per product
 *   *.tmp                             a snapshot being written (deleted on start)
 *
 * Offsets in names are 16 decimal digits, so names sort as their offsets do.
 *
 * Both headers are 64 bytes, little-endian, and end with a CRC-32C of bytes 0…60:
 *
 *   segment ("LKSJ")                  snapshot ("LKSS")
 *    0 u8[4] magic                     0 u8[4] magic
 *    4 u32   format version (1)        4 u32   format version (1)
 *    8 u32   header bytes (64)         8 u32   header bytes (64)
 *   12 u32   0                        12 u32   products (records that follow)
 *   16 f64   first offset             16 f64   replayFrom: replay the journal from here
 *   24 f64   created at (ms)          24 f64   covers: the offset counter at its end
 *   32 …     zero                     32 f64   created at (ms)
 *   60 u32   header CRC               40 u32   body CRC: of every byte after the header
 *                                     44 …     zero
 *                                     60 u32   header CRC
 *
 * Records are memory/change-log.ts's format, byte for byte, with the CRC-32C of bytes
 * 8…length at byte 4. A segment's records have consecutive offsets starting at its
 * first offset; a snapshot's are TYPE_CREATED records with offset 0, one per product.
 * A snapshot's body CRC lets recovery check a million records in one call (each
 * record's own CRC then only serves to say where a bad snapshot is bad).
 */
import { closeSync, promises as fsp, fsyncSync, openSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { crc32c } from '@node-rs/crc32';
import {
  C_CRC,
  C_HEADER_BYTES,
  C_ID_LENGTH,
  C_KEY_LENGTH,
  C_LENGTH,
  C_NAME_LENGTH,
  C_OFFSET,
  C_TYPE,
  MAX_RECORD_BYTES,
  TYPE_ABORTED,
  TYPE_UPDATED,
} from '../../memory/change-log.js';
import { InventoryError } from '../errors.js';

export const FORMAT_VERSION = 1;
export const FILE_HEADER_BYTES = 64;

/** "LKSJ" and "LKSS" as the u32 that reads them from bytes 0…3 (little-endian). */
export const SEGMENT_MAGIC = 0x4a534b4c;
export const SNAPSHOT_MAGIC = 0x53534b4c;

/** Header fields (bytes). */
export const H_MAGIC = 0;
export const H_VERSION = 4;
export const H_BYTES = 8;
export const H_PRODUCTS = 12;
export const H_FIRST = 16;
export const H_SEGMENT_CREATED = 24;
export const H_REPLAY_FROM = 16;
export const H_COVERS = 24;
export const H_SNAPSHOT_CREATED = 32;
export const H_BODY_CRC = 40;
export const H_CRC = 60;

/** A segment is closed and the next one started past this many bytes. */
export const SEGMENT_BYTES = 64 * 1024 * 1024;

export const SEGMENT_PREFIX = 'journal-';
export const SEGMENT_SUFFIX = '.lsj';
export const SNAPSHOT_PREFIX = 'snapshot-';
export const SNAPSHOT_SUFFIX = '.lss';
export const TEMP_SUFFIX = '.tmp';
export const LOCK_FILE = 'LOCK';
export const SEEDING_FILE = 'SEEDING';

const OFFSET_DIGITS = 16;

function offsetText(offset: number): string {
  return String(offset).padStart(OFFSET_DIGITS, '0');
}

export function segmentName(first: number): string {
  return `${SEGMENT_PREFIX}${offsetText(first)}${SEGMENT_SUFFIX}`;
}

export function snapshotName(covers: number): string {
  return `${SNAPSHOT_PREFIX}${offsetText(covers)}${SNAPSHOT_SUFFIX}`;
}

/** The offset a file name carries, or null when it is not a name of that kind. */
function offsetIn(name: string, prefix: string, suffix: string): number | null {
  if (!name.startsWith(prefix) || !name.endsWith(suffix)) return null;
  const digits = name.slice(prefix.length, name.length - suffix.length);
  return /^\d{16}$/.test(digits) ? Number(digits) : null;
}

/** A file of the data directory, with the offset its name carries. */
export interface NamedFile {
  readonly offset: number;
  readonly file: string;
}

export interface DirListing {
  /** Segments by first offset, oldest first. */
  readonly segments: NamedFile[];
  /** Snapshots by covers, oldest first. */
  readonly snapshots: NamedFile[];
  /** Snapshots left half-written. */
  readonly temps: string[];
}

export function listDataDir(dir: string): DirListing {
  const segments: NamedFile[] = [];
  const snapshots: NamedFile[] = [];
  const temps: string[] = [];
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    const first = offsetIn(name, SEGMENT_PREFIX, SEGMENT_SUFFIX);
    const covers = offsetIn(name, SNAPSHOT_PREFIX, SNAPSHOT_SUFFIX);
    if (first !== null) segments.push({ offset: first, file });
    else if (covers !== null) snapshots.push({ offset: covers, file });
    else if (name.endsWith(TEMP_SUFFIX)) temps.push(file);
  }
  segments.sort((a, b) => a.offset - b.offset);
  snapshots.sort((a, b) => a.offset - b.offset);
  return { segments, snapshots, temps };
}

/** Makes a directory's entries (a created, renamed or deleted file) durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncDir off the calling thread (libuv's pool): for a thread that must not block. */
export async function fsyncDirAsync(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------------------
// Headers
// ---------------------------------------------------------------------------

export interface SegmentHeader {
  readonly first: number;
  readonly createdAt: number;
}

export interface SnapshotHeader {
  readonly replayFrom: number;
  readonly covers: number;
  readonly products: number;
  readonly createdAt: number;
  /** CRC-32C of every byte after the header. */
  readonly bodyCrc: number;
}

function sealHeader(bytes: Uint8Array, d: DataView, magic: number): Uint8Array {
  d.setUint32(H_MAGIC, magic, true);
  d.setUint32(H_VERSION, FORMAT_VERSION, true);
  d.setUint32(H_BYTES, FILE_HEADER_BYTES, true);
  d.setUint32(H_CRC, crc32c(bytes.subarray(0, H_CRC)), true);
  return bytes;
}

export function encodeSegmentHeader(h: SegmentHeader): Uint8Array {
  const bytes = new Uint8Array(FILE_HEADER_BYTES);
  const d = new DataView(bytes.buffer);
  d.setFloat64(H_FIRST, h.first, true);
  d.setFloat64(H_SEGMENT_CREATED, h.createdAt, true);
  return sealHeader(bytes, d, SEGMENT_MAGIC);
}

export function encodeSnapshotHeader(h: SnapshotHeader): Uint8Array {
  const bytes = new Uint8Array(FILE_HEADER_BYTES);
  const d = new DataView(bytes.buffer);
  d.setUint32(H_PRODUCTS, h.products, true);
  d.setFloat64(H_REPLAY_FROM, h.replayFrom, true);
  d.setFloat64(H_COVERS, h.covers, true);
  d.setFloat64(H_SNAPSHOT_CREATED, h.createdAt, true);
  d.setUint32(H_BODY_CRC, h.bodyCrc, true);
  return sealHeader(bytes, d, SNAPSHOT_MAGIC);
}

/** Why a header does not read, or null when it is sound. */
function headerProblem(bytes: Uint8Array, magic: number): string | null {
  if (bytes.length < FILE_HEADER_BYTES) return `a header of ${bytes.length} bytes`;
  const d = new DataView(bytes.buffer, bytes.byteOffset, FILE_HEADER_BYTES);
  if (d.getUint32(H_MAGIC, true) !== magic) return 'not a lockstock file (magic)';
  if (d.getUint32(H_CRC, true) !== crc32c(bytes.subarray(0, H_CRC))) return 'header checksum';
  const version = d.getUint32(H_VERSION, true);
  if (version !== FORMAT_VERSION) return `format version ${version} (this build reads 1)`;
  return null;
}

export type Decoded<T> = { ok: true; header: T } | { ok: false; problem: string };

export function decodeSegmentHeader(bytes: Uint8Array): Decoded<SegmentHeader> {
  const problem = headerProblem(bytes, SEGMENT_MAGIC);
  if (problem !== null) return { ok: false, problem };
  const d = new DataView(bytes.buffer, bytes.byteOffset, FILE_HEADER_BYTES);
  return {
    ok: true,
    header: {
      first: d.getFloat64(H_FIRST, true),
      createdAt: d.getFloat64(H_SEGMENT_CREATED, true),
    },
  };
}

export function decodeSnapshotHeader(bytes: Uint8Array): Decoded<SnapshotHeader> {
  const problem = headerProblem(bytes, SNAPSHOT_MAGIC);
  if (problem !== null) return { ok: false, problem };
  const d = new DataView(bytes.buffer, bytes.byteOffset, FILE_HEADER_BYTES);
  return {
    ok: true,
    header: {
      replayFrom: d.getFloat64(H_REPLAY_FROM, true),
      covers: d.getFloat64(H_COVERS, true),
      products: d.getUint32(H_PRODUCTS, true),
      createdAt: d.getFloat64(H_SNAPSHOT_CREATED, true),
      bodyCrc: d.getUint32(H_BODY_CRC, true),
    },
  };
}

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------

/** The CRC-32C a record carries at byte 4: of its bytes 8…length. */
export function recordCrc(bytes: Uint8Array, at: number, length: number): number {
  return crc32c(bytes.subarray(at + C_OFFSET, at + length));
}

/** Stores the record's CRC at byte 4 (the journal thread, as it copies a record out). */
export function sealRecord(bytes: Uint8Array, d: DataView, at: number, length: number): void {
  d.setUint32(at + C_CRC, recordCrc(bytes, at, length), true);
}

/**
 * The length of the record at byte `at` when it is whole (a sane length that fits
 * before `end`, texts that fit it, a known type), else 0. Its CRC is not checked.
 */
export function saneLength(bytes: Uint8Array, d: DataView, at: number, end: number): number {
  if (at + C_HEADER_BYTES > end) return 0;
  const length = d.getUint32(at + C_LENGTH, true);
  if (length < C_HEADER_BYTES || length > MAX_RECORD_BYTES || (length & 7) !== 0) return 0;
  if (at + length > end) return 0;
  const texts =
    (bytes[at + C_ID_LENGTH] as number) +
    (bytes[at + C_NAME_LENGTH] as number) +
    d.getUint16(at + C_KEY_LENGTH, true);
  if (C_HEADER_BYTES + texts > length) return 0;
  const type = bytes[at + C_TYPE] as number;
  return type < TYPE_UPDATED || type > TYPE_ABORTED ? 0 : length;
}

/** saneLength, for a record whose CRC also checks; else 0. The offset is the caller's. */
export function intactLength(bytes: Uint8Array, d: DataView, at: number, end: number): number {
  const length = saneLength(bytes, d, at, end);
  if (length === 0 || d.getUint32(at + C_CRC, true) !== recordCrc(bytes, at, length)) return 0;
  return length;
}

/** The first intact record at or after byte `from` (8-aligned), or -1. */
export function nextIntact(bytes: Uint8Array, d: DataView, from: number, end: number): number {
  for (let at = from; at + C_HEADER_BYTES <= end; at += 8) {
    if (intactLength(bytes, d, at, end) > 0) return at;
  }
  return -1;
}

/** CORRUPT_JOURNAL, naming the file and the byte. */
export function corruptAt(file: string, at: number, why: string): InventoryError {
  return new InventoryError(
    'CORRUPT_JOURNAL',
    `journal file ${file} is corrupt at byte ${at}: ${why}`,
  );
}
