/**
 * The journal thread: merges the pool threads' change rings into the one gap-free
 * sequence of changes, writes it to the journal with group commit, serves the change
 * feed, and takes snapshots. Started by src/journal/client.ts as a plain Worker; its
 * control plane is the Comlink-exposed `JournalApi`, its data plane shared memory
 * (memory/change-log.ts): it never receives a change by message.
 *
 * The loop, one group at a time:
 *   1. merge: take the record whose offset is `next` from whichever ring holds it at
 *      its head (each ring is in offset order; offsets are gap-free across rings), as
 *      long runs at a time, into a group buffer, sealing each record's CRC; store each
 *      ring's HEAD as soon as its records are copied, so producers never wait on the
 *      disk. A group ends at GROUP_BYTES or at the first offset not committed yet.
 *   2. with a data directory: one write of the group to the current segment, then in
 *      'fsync' mode one fdatasync. Every record committed while it ran goes in the next
 *      group: that is group commit, one fsync for all of them.
 *   3. publish: store the durable offset (CL_DURABLE), then post `{ durable }` on the
 *      notify port unless a message is already in flight (CL_NOTIFY).
 * With nothing to merge it sleeps on CL_WAKE (Atomics.waitAsync, so Comlink calls are
 * served meanwhile) and yields to the event loop between groups.
 *
 * Snapshots are fuzzy (taken while writers run); see `snapshot` for why they converge.
 */
import { promises as fsp, unlinkSync } from 'node:fs';
import path from 'node:path';
import { type MessagePort, parentPort, type Worker, workerData } from 'node:worker_threads';
import { crc32c } from '@node-rs/crc32';
import { type Endpoint, expose } from 'comlink';
// @ts-expect-error: comlink types this adapter only beside its UMD build (dist/umd/node-adapter.d.ts)
import nodeAdapter from 'comlink/dist/esm/node-adapter.mjs';
import pino, { type Logger } from 'pino';
import {
  type Change,
  type ChangeViews,
  CL_DURABLE,
  CL_NOTIFY,
  CL_SLEEPING,
  CL_WAKE,
  changeViews,
  emptyChange,
  encodeChange,
  MAX_RECORD_BYTES,
  R_LOW,
  ringControl,
  TYPE_CREATED,
} from '../memory/change-log.js';
import {
  attachBuffer,
  counter64,
  HDR_OFFSET,
  ID_MAX_BYTES,
  type SharedViews,
  SLOT_ID,
  SLOT_ID_LEN,
  STATE_LIVE,
  slotBase,
  WORD_BYTES,
} from '../memory/layout.js';
import { emptyRecord, nameScratch, readRecord } from '../memory/records.js';
import {
  decodeSnapshotHeader,
  encodeSnapshotHeader,
  FILE_HEADER_BYTES,
  fsyncDirAsync,
  listDataDir,
  sealRecord,
  snapshotName,
  TEMP_SUFFIX,
} from '../src/journal/files.js';
import { FeedWindow } from './journal/feed-window.js';
import { GROUP_BYTES, Group } from './journal/group.js';
import { nextTurn, readHead } from './journal/io.js';
import { Merger } from './journal/merge.js';
import { SegmentLog } from './journal/segments.js';

export { GROUP_BYTES };

const nodeEndpoint: (port: MessagePort | Worker) => Endpoint = nodeAdapter;

/** What the journal thread is started with (its workerData). */
export interface JournalSettings {
  /** The change buffer (memory/change-log.ts): the rings, durable offset, wake words. */
  readonly changeBuffer: SharedArrayBuffer;
  /** The product buffer (memory/layout.ts): the offset counter, and slots to snapshot. */
  readonly productBuffer: SharedArrayBuffer;
  /** Where `{ durable }` is posted when the durable offset moves (see CL_NOTIFY). */
  readonly notifyPort: MessagePort;
  /** The offset of the first change to come: recover()'s nextOffset. */
  readonly nextOffset: number;
  /** null: memory only (the durable offset means "copied into the feed window"). */
  readonly dataDir: string | null;
  readonly durability: 'fsync' | 'write';
  /** 'write' mode: fdatasync at least this often while there is unsynced data. */
  readonly syncIntervalMs: number;
  /** Changes the feed keeps in memory (and, with a data directory, at least on disk). */
  readonly retainChanges: number;
  /** A snapshot after this many changes (data directory only). */
  readonly snapshotEvery: number;
  /** Segments holding keyed changes younger than this are kept (recovery reads keys). */
  readonly idempotencyTtlMs: number;
  /** A segment is closed and the next one started past this many bytes. */
  readonly segmentBytes: number;
  readonly logLevel: string;
  /** A file descriptor of the process (threads share descriptors). */
  readonly logDestination: number;
}

export interface JournalStats {
  durableOffset: number;
  /** Records written (merged, without a data directory) since the thread started. */
  records: number;
  bytes: number;
  groups: number;
  /** Records per group, on average. */
  meanGroupSize: number;
  fsyncs: number;
  fsyncP50Ms: number;
  fsyncP99Ms: number;
  fsyncMaxMs: number;
  segments: number;
  /** The covers offset of the newest snapshot, 0 without one. */
  lastSnapshotOffset: number;
  /** The oldest offset `read` still answers. */
  oldestOffset: number;
}

export interface CheckpointResult {
  /** The snapshot's covers: every change up to it is in the snapshot or replayed over it. */
  offset: number;
  bytes: number;
  ms: number;
}

export type ReadResult =
  | { expired: false; items: Change[]; oldest: number; last: number }
  | { expired: true; oldest: number };

/** The journal thread's control plane, as Comlink exposes it. */
export interface JournalApi {
  /** Makes every change committed so far durable (on disk in both modes); the durable offset. */
  flush(): Promise<number>;
  checkpoint(): Promise<CheckpointResult>;
  stats(): JournalStats;
  /** Changes with offset > after, in offset order, at most `limit`, up to the durable offset. */
  read(after: number, limit: number): Promise<ReadResult>;
  /** Drains, syncs, snapshots (with a data directory) and closes the files. */
  close(): Promise<void>;
}

/** The longest the loop sleeps when idle (ms). */
const IDLE_WAIT_MS = 50;
/** A snapshot copies slots for this long, then lets the loop run a group commit. */
const SNAPSHOT_SLICE_MS = 1;
/** …writes its file in pieces of about this size… */
const SNAPSHOT_WRITE_BYTES = 1024 * 1024;
/**
 * …and syncs it every this many bytes: the disk writes a snapshot back as it goes,
 * rather than all at once at the end, in the way of the journal's own fsyncs.
 */
const SNAPSHOT_SYNC_BYTES = 8 * 1024 * 1024;

/** Atomics.waitAsync (ES2024, in Node since 16), typed here: the project's lib is ES2023. */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      i32: Int32Array,
      index: number,
      value: number,
      timeoutMs: number,
    ): { async: boolean; value: Promise<string> | string };
  }
).waitAsync;

/**
 * Copies a live slot's product id bytes into `into`; their length. records.ts's readId
 * with no string: a snapshot copies a million ids without a string or an encode each.
 */
function copyId(pv: SharedViews, slot: number, into: Uint8Array): number {
  const start = (slotBase(slot) + SLOT_ID) * WORD_BYTES;
  const length = Math.min(Atomics.load(pv.i32, slotBase(slot) + SLOT_ID_LEN), ID_MAX_BYTES);
  for (let i = 0; i < length; i++) into[i] = pv.u8[start + i] as number;
  return length;
}

// ---------------------------------------------------------------------------
// The journal
// ---------------------------------------------------------------------------

interface Waiter {
  readonly target: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** The record area snapshots encode into: a change buffer's views over a plain piece. */
function recordArea(bytes: number): ChangeViews {
  const buffer = new SharedArrayBuffer(bytes);
  return {
    buffer,
    i32: new Int32Array(buffer),
    i64: new BigInt64Array(buffer),
    f64: new Float64Array(buffer),
    u8: new Uint8Array(buffer),
    rings: 0,
    ringBytes: 0,
  };
}

class Journal implements JournalApi {
  private readonly cv: ChangeViews;
  private readonly pv: SharedViews;
  private readonly merger: Merger;
  private readonly group = new Group();
  private readonly window: FeedWindow;
  private readonly segments: SegmentLog | null;
  private next: number;
  private durable: number;
  private waiters: Waiter[] = [];
  private records = 0;
  private bytes = 0;
  private groups = 0;
  private stopped = false;
  private closed: Promise<void> | null = null;
  private failure: unknown = null;
  private readonly loopDone: Promise<void>;
  /** Snapshots run one after another. */
  private snapshots: Promise<unknown> = Promise.resolve();
  private snapshotting = false;
  private lastSnapshot = { covers: 0, replayFrom: 1, file: '' };
  /** An automatic snapshot is due snapshotEvery changes after this offset. */
  private autoSnapshotAfter = 0;

  constructor(
    private readonly s: JournalSettings,
    private readonly log: Logger,
  ) {
    this.cv = changeViews(s.changeBuffer);
    this.pv = attachBuffer(s.productBuffer);
    this.merger = new Merger(this.cv);
    this.window = new FeedWindow(s.retainChanges);
    this.next = s.nextOffset;
    this.durable = s.nextOffset - 1;
    this.segments = s.dataDir === null ? null : this.openDir(s.dataDir);
    Atomics.store(this.cv.i64, counter64(CL_DURABLE), BigInt(this.durable));
    // No message of this thread is in flight yet (a previous journal's may have been).
    Atomics.store(this.cv.i32, CL_NOTIFY, 0);
    this.loopDone = this.run().catch((error: unknown) => this.fail(error));
  }

  private openDir(dir: string): SegmentLog {
    const listing = listDataDir(dir);
    for (const temp of listing.temps) unlinkSync(temp);
    const newest = listing.snapshots[listing.snapshots.length - 1];
    if (newest !== undefined) {
      const header = decodeSnapshotHeader(readHead(newest.file));
      if (header.ok) {
        const { covers, replayFrom } = header.header;
        this.lastSnapshot = { covers, replayFrom, file: newest.file };
        this.autoSnapshotAfter = covers;
      }
    }
    return new SegmentLog(dir, this.s.segmentBytes, this.s.nextOffset, this.log);
  }

  // --- the loop -------------------------------------------------------------

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.step() > 0) {
        await nextTurn();
        continue;
      }
      this.timedSync();
      await this.sleep();
    }
  }

  /** Merges, writes and publishes one group; answers its record count. */
  private step(): number {
    const group = this.group;
    group.reset(this.next);
    const count = this.merger.fill(group, this.next);
    if (count === 0) return 0;
    if (this.segments !== null) {
      this.segments.append(group);
      if (this.s.durability === 'fsync') this.segments.sync();
      else this.timedSync();
    }
    this.window.push(group);
    this.next += count;
    this.records += count;
    this.bytes += group.bytes;
    this.groups++;
    this.publish(this.next - 1);
    if (
      this.segments !== null &&
      !this.snapshotting &&
      this.durable - this.autoSnapshotAfter >= this.s.snapshotEvery
    ) {
      this.checkpoint().catch((error: unknown) => {
        // Not again at the next group: after snapshotEvery more changes.
        this.autoSnapshotAfter = this.durable;
        this.log.error({ err: error }, 'journal: automatic snapshot failed');
      });
    }
    return count;
  }

  /** 'write' mode: fdatasync once syncIntervalMs has passed since the last. */
  private timedSync(): void {
    const segments = this.segments;
    if (segments === null || !segments.unsynced) return;
    if (performance.now() - segments.lastSyncAt >= this.s.syncIntervalMs) segments.sync();
  }

  private publish(durable: number): void {
    this.durable = durable;
    // The offset first, then the message: a caller that clears CL_NOTIFY and then
    // reads CL_DURABLE sees at least this offset (change-log.ts, CL_NOTIFY).
    Atomics.store(this.cv.i64, counter64(CL_DURABLE), BigInt(durable));
    if (Atomics.compareExchange(this.cv.i32, CL_NOTIFY, 0, 1) === 0) {
      this.s.notifyPort.postMessage({ durable });
    }
    if (this.waiters.length === 0) return;
    const waiting: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.target <= durable) w.resolve();
      else waiting.push(w);
    }
    this.waiters = waiting;
  }

  private async sleep(): Promise<void> {
    const i32 = this.cv.i32;
    // SLEEPING before the last look at the rings: a producer that commits after that
    // look sees SLEEPING (its TAIL store precedes its load of it) and bumps WAKE,
    // which then differs from `seen` or wakes the wait (change-log.ts, wakeJournal).
    Atomics.store(i32, CL_SLEEPING, 1);
    const seen = Atomics.load(i32, CL_WAKE);
    if (!this.stopped && !this.merger.available(this.next)) {
      let timeout = IDLE_WAIT_MS;
      const segments = this.segments;
      if (segments?.unsynced) {
        const due = segments.lastSyncAt + this.s.syncIntervalMs - performance.now();
        timeout = Math.max(1, Math.min(timeout, due));
      }
      const wait = waitAsync(i32, CL_WAKE, seen, timeout);
      if (wait.async) await wait.value;
      else await nextTurn();
    }
    Atomics.store(i32, CL_SLEEPING, 0);
  }

  private wake(): void {
    Atomics.add(this.cv.i32, CL_WAKE, 1);
    Atomics.notify(this.cv.i32, CL_WAKE);
  }

  /** Resolves once the durable offset reaches `target`. */
  private durableAt(target: number): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (target <= this.durable) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.push({ target, resolve, reject });
      this.wake();
    });
  }

  private fail(error: unknown): void {
    this.failure = error;
    this.log.error({ err: error }, 'journal: the loop failed; changes are no longer made durable');
    for (const w of this.waiters) w.reject(error);
    this.waiters = [];
    // Fatal: the thread exits with the error, and its owner sees it.
    setImmediate(() => {
      throw error;
    });
  }

  // --- the control plane ----------------------------------------------------

  async flush(): Promise<number> {
    if (this.stopped) return this.durable;
    await this.durableAt(Math.max(this.durable, this.merger.committedHigh()));
    this.segments?.sync();
    return this.durable;
  }

  stats(): JournalStats {
    const h = this.segments?.fsyncUs;
    const ms = (us: number) => Math.round(us) / 1000;
    const at = (p: number) =>
      h === undefined ? 0 : ms(Math.min(h.getValueAtPercentile(p), h.maxValue));
    return {
      durableOffset: this.durable,
      records: this.records,
      bytes: this.bytes,
      groups: this.groups,
      meanGroupSize: this.groups === 0 ? 0 : this.records / this.groups,
      fsyncs: h?.totalCount ?? 0,
      fsyncP50Ms: at(50),
      fsyncP99Ms: at(99),
      fsyncMaxMs: h === undefined ? 0 : ms(h.maxValue),
      segments: this.segments?.segments.length ?? 0,
      lastSnapshotOffset: this.lastSnapshot.covers,
      oldestOffset: this.oldest(),
    };
  }

  private oldest(): number {
    const inMemory = this.window.oldest() ?? this.durable + 1;
    return this.segments === null ? inMemory : Math.min(inMemory, this.segments.oldest());
  }

  async read(after: number, limit: number): Promise<ReadResult> {
    const oldest = this.oldest();
    const last = this.durable;
    if (after + 1 < oldest) return { expired: true, oldest };
    const items: Change[] = [];
    const from = Math.max(after + 1, 1);
    const windowFirst = this.window.oldest() ?? last + 1;
    if (this.segments !== null && from < windowFirst) {
      await this.segments.read(from, limit, Math.min(windowFirst, last + 1), items);
    }
    if (items.length < limit) this.window.collect(from + items.length, limit, last, items);
    return { expired: false, items, oldest, last };
  }

  checkpoint(): Promise<CheckpointResult> {
    if (this.stopped) return Promise.reject(new Error('the journal is closed'));
    if (this.segments === null) return Promise.resolve({ offset: this.durable, bytes: 0, ms: 0 });
    const result = this.snapshots.then(() => this.snapshot(this.segments as SegmentLog));
    this.snapshots = result.catch(() => undefined);
    return result;
  }

  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    await this.flush();
    if (this.segments !== null) await this.checkpoint();
    this.stopped = true;
    this.wake();
    await this.loopDone;
    this.segments?.close();
    this.s.notifyPort.close();
  }

  // --- snapshots ------------------------------------------------------------

  /**
   * A fuzzy snapshot. `covers0` is the offset counter before the copy, and every
   * change at or below it either is in the copy or is replayed: a pool thread sets its
   * ring's R_LOW (a bound below every offset it may take) before it takes an offset
   * and clears it only after publishing, so a change not yet published when its slot
   * was copied has an offset at or above some R_LOW read after `covers0`, and replay
   * starts at the least of them. Changes after covers0 are replayed anyway. The copy
   * holds nothing past `covers` (the counter after it: a change is published after
   * its offset is taken), so once the journal is durable to `covers` the snapshot
   * never shows a change the journal could lose.
   */
  private async snapshot(segments: SegmentLog): Promise<CheckpointResult> {
    this.snapshotting = true;
    const started = performance.now();
    const dir = segments.dir;
    const counter = counter64(HDR_OFFSET);
    const covers0 = Number(Atomics.load(this.pv.i64, counter));
    let replayFrom = covers0 + 1;
    for (let ring = 0; ring < this.cv.rings; ring++) {
      const low = Number(Atomics.load(this.cv.i64, counter64(ringControl(ring) + R_LOW)));
      if (low > 0 && low < replayFrom) replayFrom = low;
    }
    const temp = path.join(dir, `${snapshotName(covers0)}${TEMP_SUFFIX}`);
    const handle = await fsp.open(temp, 'w');
    try {
      const { products, bytes, bodyCrc } = await this.copySlots(handle);
      const covers = Number(Atomics.load(this.pv.i64, counter));
      await this.durableAt(covers);
      const createdAt = Date.now();
      const header = encodeSnapshotHeader({ replayFrom, covers, products, createdAt, bodyCrc });
      await handle.write(header, 0, FILE_HEADER_BYTES, 0);
      await handle.datasync();
      await handle.close();
      // From here on the file system calls go through libuv's pool: a rename, a
      // directory sync or the unlink of a large file would stall group commits here.
      const file = path.join(dir, snapshotName(covers));
      await fsp.rename(temp, file);
      await fsyncDirAsync(dir);
      this.lastSnapshot = { covers, replayFrom, file };
      this.autoSnapshotAfter = Math.max(this.autoSnapshotAfter, covers);
      for (const older of listDataDir(dir).snapshots) {
        if (older.offset < covers) await fsp.unlink(older.file);
      }
      await segments.prune(
        replayFrom,
        this.durable - this.s.retainChanges + 1,
        Date.now() - this.s.idempotencyTtlMs,
      );
      const ms = Math.round((performance.now() - started) * 10) / 10;
      this.log.info({ covers, replayFrom, products, bytes, ms }, 'journal: snapshot written');
      return { offset: covers, bytes: bytes + FILE_HEADER_BYTES, ms };
    } catch (error) {
      await handle.close().catch(() => undefined);
      try {
        unlinkSync(temp);
      } catch {
        // Never created, or already renamed.
      }
      throw error;
    } finally {
      this.snapshotting = false;
    }
  }

  /**
   * Writes one TYPE_CREATED record per live slot after the header's place, in slices
   * of SNAPSHOT_SLICE_MS: between slices the loop runs its group commits.
   */
  private async copySlots(
    handle: fsp.FileHandle,
  ): Promise<{ products: number; bytes: number; bodyCrc: number }> {
    const pv = this.pv;
    const area = recordArea(SNAPSHOT_WRITE_BYTES + MAX_RECORD_BYTES);
    const areaView = new DataView(area.buffer);
    const record = emptyRecord();
    const again = emptyRecord();
    const name = nameScratch();
    const change = emptyChange();
    change.type = TYPE_CREATED;
    change.hasPrice = true;
    change.nameBytes = name.bytes;
    let used = 0;
    let written = FILE_HEADER_BYTES;
    let synced = 0;
    let products = 0;
    let bodyCrc = 0;
    let sliceStart = performance.now();
    for (let slot = 0; slot < pv.capacity; slot++) {
      readRecord(pv, slot, record, name);
      if (record.state === STATE_LIVE) {
        // The id is fixed for a product's life: it is this record's if the slot still
        // holds the same generation after it was read.
        change.idLength = copyId(pv, slot, change.idBytes);
        readRecord(pv, slot, again);
        if (again.state !== STATE_LIVE || again.generation !== record.generation) {
          slot--;
          continue;
        }
        change.available = record.available;
        change.version = record.version;
        change.lastUpdated = record.lastUpdated;
        change.price = record.price;
        change.slot = slot;
        change.generation = record.generation;
        change.nameLength = name.length;
        const length = encodeChange(area, used, change);
        sealRecord(area.u8, areaView, used, length);
        used += length;
        products++;
      }
      if ((slot & 63) !== 63 && slot !== pv.capacity - 1) continue;
      const full = used >= SNAPSHOT_WRITE_BYTES;
      const late = performance.now() - sliceStart >= SNAPSHOT_SLICE_MS;
      if (!full && !late && slot !== pv.capacity - 1) continue;
      if (used > 0) {
        bodyCrc = crc32c(area.u8.subarray(0, used), bodyCrc);
        await handle.write(area.u8, 0, used, written);
        written += used;
        used = 0;
      } else {
        await nextTurn();
      }
      if (written - synced >= SNAPSHOT_SYNC_BYTES) {
        await handle.datasync();
        synced = written;
      }
      sliceStart = performance.now();
    }
    return { products, bytes: written - FILE_HEADER_BYTES, bodyCrc };
  }
}

// ---------------------------------------------------------------------------
// Entry
// ---------------------------------------------------------------------------

function logger(s: JournalSettings): Logger {
  return pino(
    { level: s.logLevel, base: { thread: 'journal' } },
    pino.destination({ dest: s.logDestination, sync: true }),
  );
}

if (parentPort !== null && workerData !== null && typeof workerData === 'object') {
  const settings = workerData as JournalSettings;
  const journal = new Journal(settings, logger(settings));
  const api: JournalApi = {
    flush: () => journal.flush(),
    checkpoint: () => journal.checkpoint(),
    stats: () => journal.stats(),
    read: (after, limit) => journal.read(after, limit),
    close: () => journal.close(),
  };
  expose(api, nodeEndpoint(parentPort));
}
