/**
 * The journal thread's contract with its client (src/journal/client.ts): the settings
 * it is started with, and its control plane as Comlink exposes it. workers/journal.ts
 * re-exports all of it.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Change } from '../../memory/change-log.js';

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
  /**
   * The initial catalog's product count, whose creations (offsets 1…n, from slots
   * 0…n − 1) this thread makes itself (journal/seed.ts); 0 for none. Needs nextOffset 1.
   */
  readonly seedProducts: number;
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
  /**
   * Makes every change committed so far durable (on disk in both modes), the initial
   * catalog's creations (journal/seed.ts) among them; the durable offset.
   */
  flush(): Promise<number>;
  checkpoint(): Promise<CheckpointResult>;
  stats(): JournalStats;
  /** Changes with offset > after, in offset order, at most `limit`, up to the durable offset. */
  read(after: number, limit: number): Promise<ReadResult>;
  /** Drains, syncs, snapshots (with a data directory) and closes the files. */
  close(): Promise<void>;
}
