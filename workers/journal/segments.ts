/**
 * The segment files of a data directory: the journal written as numbered segments,
 * the last one open for appending group by group; each segment's sparse index of
 * record positions; the feed's reads of changes older than its window in memory;
 * and the deletion of segments a snapshot has made unneeded.
 */
import {
  closeSync,
  fdatasyncSync,
  promises as fsp,
  fstatSync,
  openSync,
  readSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import hdr from 'hdr-histogram-js';
import type { Logger } from 'pino';
import {
  C_HEADER_BYTES,
  C_OFFSET,
  type Change,
  decodeChange,
  feedItem,
  MAX_RECORD_BYTES,
} from '../../memory/change-log.js';
import {
  decodeSegmentHeader,
  encodeSegmentHeader,
  FILE_HEADER_BYTES,
  fsyncDir,
  fsyncDirAsync,
  listDataDir,
  segmentName,
} from '../../src/journal/files.js';
import type { Group } from './group.js';
import { nextTurn, readHead } from './io.js';

/** The feed reads segment files in pieces of this size. */
const READ_BYTES = 1024 * 1024;
/** A segment's sparse index has an entry every this many bytes. */
const INDEX_STRIDE = 64 * 1024;

/** Record positions every INDEX_STRIDE bytes or so: offsets and where they start. */
interface SparseIndex {
  readonly offsets: number[];
  readonly positions: number[];
}

interface SegmentFile {
  readonly first: number;
  readonly file: string;
  readonly createdAt: number;
  /** Built as the segment is written; for older segments, on the feed's first visit. */
  index: SparseIndex | null;
}

/**
 * Calls `visit` on each record of `file` from byte `start` to `end`, until it answers
 * false. Reads a piece at a time and lets the loop run between pieces once a
 * millisecond has passed: the first read of an old segment scans it whole.
 */
async function scanFile(
  file: string,
  start: number,
  end: number,
  visit: (bytes: Uint8Array, view: DataView, at: number, position: number) => boolean,
): Promise<void> {
  const buffer = new Uint8Array(Math.min(READ_BYTES, end - start) + MAX_RECORD_BYTES);
  const view = new DataView(buffer.buffer);
  const fd = openSync(file, 'r');
  try {
    let position = start;
    let turn = performance.now();
    while (position < end) {
      const read = readSync(fd, buffer, 0, Math.min(buffer.length, end - position), position);
      if (read === 0) break;
      let at = 0;
      while (at + C_HEADER_BYTES <= read) {
        const length = view.getUint32(at, true);
        if (length < C_HEADER_BYTES || at + length > read) break;
        if (!visit(buffer, view, at, position + at)) return;
        at += length;
      }
      if (at === 0) throw new Error(`journal file ${file}: no record reads at byte ${position}`);
      position += at;
      if (performance.now() - turn >= 1) {
        await nextTurn();
        turn = performance.now();
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** The segments of a data directory, the last of them open for appending. */
export class SegmentLog {
  readonly segments: SegmentFile[] = [];
  private fd = -1;
  /** Bytes in the current segment, and of them the ones fdatasync'd. */
  private size = 0;
  private synced = 0;
  private lastIndexed = 0;
  lastSyncAt = performance.now();
  readonly fsyncUs = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 2,
    useWebAssembly: false,
  });

  constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
    nextOffset: number,
    private readonly log: Logger,
  ) {
    for (const { offset, file } of listDataDir(dir).segments) {
      if (offset >= nextOffset) {
        // recover() leaves none: its nextOffset follows every record on disk.
        if (offset > nextOffset)
          log.warn({ file, nextOffset }, 'journal: a segment past the next offset');
        continue;
      }
      const header = decodeSegmentHeader(readHead(file));
      const createdAt = header.ok ? header.header.createdAt : 0;
      this.segments.push({ first: offset, file, createdAt, index: null });
    }
    this.open(nextOffset);
  }

  /** Starts segment `first` (replacing a file of that name: it holds no records). */
  private open(first: number): void {
    const file = path.join(this.dir, segmentName(first));
    const createdAt = Date.now();
    this.fd = openSync(file, 'w');
    writeAll(this.fd, encodeSegmentHeader({ first, createdAt }), FILE_HEADER_BYTES);
    fdatasyncSync(this.fd);
    // The new name must be durable before anything fsync'd in it counts.
    fsyncDir(this.dir);
    this.size = FILE_HEADER_BYTES;
    this.synced = this.size;
    this.lastIndexed = -INDEX_STRIDE;
    this.segments.push({ first, file, createdAt, index: { offsets: [], positions: [] } });
  }

  get unsynced(): boolean {
    return this.synced < this.size;
  }

  /** Writes the group at the end of the current segment (starting a new one past the size). */
  append(group: Group): void {
    if (this.size > FILE_HEADER_BYTES && this.size + group.bytes > this.segmentBytes) {
      // The old segment is synced before the next starts: only the last can be torn.
      this.sync();
      closeSync(this.fd);
      this.open(group.first);
    }
    writeAll(this.fd, group.u8, group.bytes);
    const index = (this.segments[this.segments.length - 1] as SegmentFile).index as SparseIndex;
    for (let i = 0; i < group.count; i++) {
      const position = this.size + (group.positions[i] as number);
      if (position - this.lastIndexed < INDEX_STRIDE) continue;
      index.offsets.push(group.first + i);
      index.positions.push(position);
      this.lastIndexed = position;
    }
    this.size += group.bytes;
  }

  sync(): void {
    if (!this.unsynced) return;
    const start = performance.now();
    fdatasyncSync(this.fd);
    const end = performance.now();
    this.fsyncUs.recordValue(Math.max(1, Math.round((end - start) * 1000)));
    this.synced = this.size;
    this.lastSyncAt = end;
  }

  close(): void {
    if (this.fd < 0) return;
    this.sync();
    closeSync(this.fd);
    this.fd = -1;
  }

  /** Bytes of `segment` to read: what was written of the current one. */
  private endOf(segment: SegmentFile): number {
    if (segment === this.segments[this.segments.length - 1]) return this.size;
    const fd = openSync(segment.file, 'r');
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  }

  private async indexOf(segment: SegmentFile): Promise<SparseIndex> {
    if (segment.index !== null) return segment.index;
    const index: SparseIndex = { offsets: [], positions: [] };
    let lastIndexed = -INDEX_STRIDE;
    await scanFile(
      segment.file,
      FILE_HEADER_BYTES,
      this.endOf(segment),
      (_, view, at, position) => {
        if (position - lastIndexed >= INDEX_STRIDE) {
          index.offsets.push(view.getFloat64(at + C_OFFSET, true));
          index.positions.push(position);
          lastIndexed = position;
        }
        return true;
      },
    );
    segment.index = index;
    return index;
  }

  /** Appends the changes of offsets from… below `until` to `out`, up to `limit` in all. */
  async read(from: number, limit: number, until: number, out: Change[]): Promise<void> {
    // The list as it is now: the loop may roll or prune while this waits.
    const segments = [...this.segments];
    let i = segments.length - 1;
    while (i > 0 && (segments[i] as SegmentFile).first > from) i--;
    let next = from;
    for (; i < segments.length && out.length < limit && next < until; i++) {
      const segment = segments[i] as SegmentFile;
      const { offsets, positions } = await this.indexOf(segment);
      let k = offsets.length - 1;
      while (k >= 0 && (offsets[k] as number) > next) k--;
      const start = k >= 0 ? (positions[k] as number) : FILE_HEADER_BYTES;
      await scanFile(segment.file, start, this.endOf(segment), (bytes, view, at) => {
        const offset = view.getFloat64(at + C_OFFSET, true);
        if (offset >= until) return false;
        if (offset >= next) {
          out.push(feedItem(decodeChange(bytes, at)));
          next = offset + 1;
        }
        return out.length < limit;
      });
    }
  }

  /** The oldest offset on disk. */
  oldest(): number {
    return (this.segments[0] as SegmentFile).first;
  }

  /**
   * Deletes the oldest segments while each is wholly below `replayFrom` and `keep`,
   * and the next was started before `keysFrom` (so this one's newest change is older).
   */
  async prune(replayFrom: number, keep: number, keysFrom: number): Promise<void> {
    const deleted: string[] = [];
    while (this.segments.length > 1) {
      const [segment, next] = this.segments as [SegmentFile, SegmentFile];
      const last = next.first - 1;
      if (last >= replayFrom || last >= keep || next.createdAt >= keysFrom) break;
      // Out of the list first: a feed read meanwhile answers from what is left.
      this.segments.shift();
      await fsp.unlink(segment.file);
      deleted.push(segment.file);
    }
    if (deleted.length > 0) {
      await fsyncDirAsync(this.dir);
      this.log.info({ deleted }, 'journal: deleted segments a snapshot covers');
    }
  }
}

function writeAll(fd: number, bytes: Uint8Array, length: number): void {
  for (let done = 0; done < length; ) done += writeSync(fd, bytes, done, length - done);
}
