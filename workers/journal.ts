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
 * Snapshots are fuzzy (taken while writers run); see journal/snapshot.ts for why they
 * converge.
 *
 * This file is the thread's entry: the loop, publishing, sleep and wake, the control
 * plane. Its parts, one job each, are in workers/journal/: merge.ts (step 1), group.ts
 * (the buffer a group is gathered in), segments.ts (step 2, and the feed's reads of
 * older changes), feed-window.ts (the feed's newest changes in memory), snapshot.ts
 * (the snapshot writer), api.ts (the settings and the control plane's types,
 * re-exported here) and io.ts (helpers they share).
 */
import { promises as fsp, unlinkSync } from 'node:fs';
import { type MessagePort, parentPort, type Worker, workerData } from 'node:worker_threads';
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
} from '../memory/change-log.js';
import { attachBuffer, counter64, type SharedViews } from '../memory/layout.js';
import { decodeSnapshotHeader, FILE_HEADER_BYTES, listDataDir } from '../src/journal/files.js';
import type {
  CheckpointResult,
  JournalApi,
  JournalSettings,
  JournalStats,
  ReadResult,
} from './journal/api.js';
import { FeedWindow } from './journal/feed-window.js';
import { GROUP_BYTES, Group } from './journal/group.js';
import { nextTurn, readHead } from './journal/io.js';
import { Merger } from './journal/merge.js';
import { Seed } from './journal/seed.js';
import { SegmentLog } from './journal/segments.js';
import { writeSnapshot } from './journal/snapshot.js';

export type { CheckpointResult, JournalApi, JournalSettings, JournalStats, ReadResult };
export { GROUP_BYTES };

const nodeEndpoint: (port: MessagePort | Worker) => Endpoint = nodeAdapter;

/** The longest the loop sleeps when idle (ms). */
const IDLE_WAIT_MS = 50;
/**
 * Without a data directory nothing paces the loop (no fsync, no write): under a steady
 * trickle of commits it would drain a few records a turn and keep a core busy that the
 * pool threads need. A group smaller than this waits PACE_MS for more to gather.
 */
const PACE_RECORDS = 4096;
const PACE_MS = 1;
const pause = () => new Promise<void>((resolve) => setTimeout(resolve, PACE_MS));

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

interface Waiter {
  readonly target: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

class Journal implements JournalApi {
  private readonly cv: ChangeViews;
  private readonly pv: SharedViews;
  private readonly merger: Merger;
  /** The initial catalog's creations still to make (seed.ts), or null. */
  private readonly seed: Seed | null;
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
    this.merger = new Merger(this.cv, s.dataDir !== null);
    if (s.seedProducts > 0 && s.nextOffset !== 1) {
      throw new Error('the initial catalog is seeded only into an empty journal');
    }
    this.seed = s.seedProducts > 0 ? new Seed(this.pv, s.seedProducts, s.dataDir !== null) : null;
    this.window = new FeedWindow(s.retainChanges);
    this.next = s.nextOffset;
    if (this.seed !== null && s.dataDir === null) {
      // In memory the window keeps only the last retainChanges records: the seed's
      // older ones would be dropped as soon as they were made, so they are not made.
      // Their offsets read as expired, as they would have (a million products, the
      // default window: a tenth of the work).
      this.next = Math.max(1, s.seedProducts - s.retainChanges + 1);
    }
    this.durable = this.next - 1;
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
      const count = this.step();
      if (count > 0) {
        const paced = this.segments === null && count < PACE_RECORDS && this.waiters.length === 0;
        await (paced ? pause() : nextTurn());
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
    const count = this.seeding()
      ? (this.seed as Seed).fill(group, this.next)
      : this.merger.fill(group, this.next);
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

  /** Whether the next offset is one of the initial catalog's, made here (seed.ts). */
  private seeding(): boolean {
    return this.seed !== null && this.next <= this.seed.last;
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
    // WAKE is read first, then SLEEPING set, then the rings looked at. A producer
    // that commits after that look finds SLEEPING set (its TAIL store precedes its
    // load of it); whichever producer clears it bumps WAKE after `seen` was read, so
    // the wait below returns at once or is woken (change-log.ts, wakeJournal). Read
    // after SLEEPING, `seen` could already hold the bump of a producer that cleared it
    // meanwhile, and a later commit, finding it clear, would wake nobody.
    const seen = Atomics.load(i32, CL_WAKE);
    Atomics.store(i32, CL_SLEEPING, 1);
    if (!this.stopped && !this.seeding() && !this.merger.available(this.next)) {
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
    const seeded = this.seed?.last ?? 0;
    await this.durableAt(Math.max(this.durable, seeded, this.merger.committedHigh()));
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

  /** Writes a fuzzy snapshot (journal/snapshot.ts), then deletes what it makes unneeded. */
  private async snapshot(segments: SegmentLog): Promise<CheckpointResult> {
    this.snapshotting = true;
    const started = performance.now();
    const dir = segments.dir;
    try {
      const { covers, replayFrom, file, products, bytes } = await writeSnapshot(
        dir,
        this.pv,
        this.cv,
        (offset) => this.durableAt(offset),
      );
      this.lastSnapshot = { covers, replayFrom, file };
      this.autoSnapshotAfter = Math.max(this.autoSnapshotAfter, covers);
      // Through libuv's pool, as writeSnapshot's rename: the unlink of a large file
      // would stall group commits here.
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
    } finally {
      this.snapshotting = false;
    }
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
