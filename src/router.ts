/**
 * Routing: from calls on the caller's thread to batches on the pool.
 *
 * A Piscina round trip costs tens of microseconds and a locked update a fraction of
 * one, so one task per update would run far below what the machine can do. Instead
 * every row written in the same tick goes into typed arrays: staging batches per
 * worker partition, sent at the end of the tick (setImmediate, after the tick's
 * promise callbacks have run and written their own rows) as one task per free thread.
 *
 * Rows are spread over the partitions by slot, and a partition's batches of one tick
 * travel together, in order, in one task: all rows for one product written in one
 * tick are applied by one thread in the order they were written. Tasks of different
 * ticks may run at once on different threads; the product locks order them.
 *
 * The queue that `queueSize` bounds is every row written and not yet taken by a
 * worker: rows staged here, plus rows in batches sent but not started (a counter in
 * shared memory that workers decrement when they start a task).
 */
import type { Piscina } from 'piscina';
import { HDR_QUEUED, type SharedViews } from '../memory/layout.js';
import {
  type BatchColumns,
  type BatchRef,
  type BatchResult,
  type BatchTask,
  batchBytes,
  batchColumns,
  type ListTask,
  META_STARTED,
} from '../memory/protocol.js';
import type { InFlight } from './idempotency.js';
import { MAX_ORDER_ITEMS } from './options.js';
import type { Sink } from './sinks.js';

let nextBatchId = 1;

/** A batch buffer and, beside it, what the caller's thread needs to answer each row. */
export class Batch {
  readonly buffer: SharedArrayBuffer;
  readonly columns: BatchColumns;
  rows = 0;
  /** Per row: where its outcome goes (order item rows have none), and at which index. */
  readonly sinks: (Sink<unknown> | undefined)[];
  readonly sinkIndex: Int32Array;
  /** Per row: the resolve function of the update() call that wrote it, if one did. */
  readonly resolvers: (((value: never) => void) | undefined)[];
  /** Per row: the idempotency entry its outcome completes, for keyed requests. */
  readonly keyed: (InFlight | undefined)[];
  /** Per row: the product id the row names. */
  readonly ids: string[];
  /** Ids and names for create and set rows. */
  strings: string[] = [];

  /** Stable for the buffer's life: workers cache their views of it by this. */
  readonly id = nextBatchId++;

  constructor(readonly capacity: number) {
    this.buffer = new SharedArrayBuffer(batchBytes(capacity));
    this.columns = batchColumns(this.buffer, capacity);
    this.sinks = new Array<Sink<unknown> | undefined>(capacity).fill(undefined);
    this.sinkIndex = new Int32Array(capacity);
    this.resolvers = new Array<((value: never) => void) | undefined>(capacity).fill(undefined);
    this.keyed = new Array<InFlight | undefined>(capacity).fill(undefined);
    this.ids = new Array<string>(capacity).fill('');
  }

  /** Makes the batch ready for reuse, dropping references to settled calls. */
  clear(): void {
    this.columns.status.fill(0, 0, this.rows);
    this.columns.meta.fill(0);
    this.sinks.fill(undefined, 0, this.rows);
    this.resolvers.fill(undefined, 0, this.rows);
    this.keyed.fill(undefined, 0, this.rows);
    this.rows = 0;
    if (this.strings.length > 0) this.strings = [];
  }
}

/** The names a task answered (BatchResult), taken in row order by its batches. */
export interface NameCursor {
  readonly names: readonly string[];
  next: number;
}

export interface RouterEvents {
  /** Every row of the batch has its result. */
  done(batch: Batch, names: NameCursor | null): void;
  /** The task failed; rows whose status is still pending were not applied. */
  failed(batch: Batch, error: unknown): void;
}

/**
 * Batches while busy: rows written while every pool thread is busy wait here and
 * leave together when a thread frees up, instead of queueing inside the pool as many
 * small tasks. An idle engine still sends at the end of the tick, so light traffic
 * pays no wait; heavy traffic gets larger batches and fewer task round trips.
 */
/**
 * Tasks in flight per pool thread: one running, one waiting, so that a thread that
 * finishes finds its next batch already there instead of idling while the caller's
 * thread settles the last one and writes the next.
 */
const PIPELINE = 2;

export class Router {
  /** Per partition: its staged batches, oldest first; the last one is still open. */
  private readonly staging: Batch[][];
  private readonly spare: Batch[] = [];
  private staged = 0;
  private flushScheduled = false;
  private roomWaiters: (() => void)[] = [];
  /** Tasks sent to the pool and not yet answered (batches and listings). */
  tasksInFlight = 0;
  batches = 0;
  rows = 0;
  /** Rows a batch buffer holds: room for the largest order even when maxBatch is smaller. */
  private readonly capacity: number;

  constructor(
    private readonly pool: Piscina,
    private readonly views: SharedViews,
    private readonly workers: number,
    private readonly maxBatch: number,
    readonly queueSize: number,
    private readonly events: RouterEvents,
  ) {
    this.staging = Array.from({ length: workers }, () => []);
    this.capacity = Math.max(maxBatch, MAX_ORDER_ITEMS + 1);
  }

  /** Rows written here and not yet sent. */
  get stagedRows(): number {
    return this.staged;
  }

  /** Rows written and not yet taken by a worker. */
  queued(): number {
    return this.staged + Atomics.load(this.views.i32, HDR_QUEUED);
  }

  hasRoom(rows: number): boolean {
    return this.queued() + rows <= this.queueSize;
  }

  /** Resolves when a batch completes, which may have made room in the queue. */
  waitForRoom(): Promise<void> {
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /**
   * A staging batch with room for `rows` more rows, in the partition of `slot`. The
   * caller must then write exactly `rows` rows at `batch.rows` and advance it.
   */
  claim(slot: number, rows: number): Batch {
    const part = slot % this.workers;
    const staged = this.staging[part] as Batch[];
    let batch = staged[staged.length - 1];
    // A full batch is sealed and stays in line behind its partition's earlier ones:
    // all of a partition's batches leave together, in order, in one task.
    if (batch === undefined || batch.rows + rows > this.maxBatch) {
      batch = this.spare.pop() ?? new Batch(this.capacity);
      staged.push(batch);
    }
    this.staged += rows;
    this.scheduleFlush();
    return batch;
  }

  /** Runs a task that is not a batch (a listing), counting the thread it occupies. */
  async run<R>(task: ListTask): Promise<R> {
    this.tasksInFlight++;
    try {
      return (await this.pool.run(task)) as R;
    } finally {
      this.tasksInFlight--;
      if (this.staged > 0) this.scheduleFlush();
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flush);
  }

  /**
   * Sends the staging batches to the free threads: one task per free thread, the
   * batches dealt out among them. With no thread free, they wait for the next task
   * to finish. `force` sends them all regardless (closing).
   */
  readonly flush = (force = false): void => {
    this.flushScheduled = false;
    const free = force ? this.workers : this.workers * PIPELINE - this.tasksInFlight;
    if (free <= 0) return;
    // A partition's batches go as one unit, so that its rows of a tick stay in order.
    const ready: Batch[][] = [];
    for (let part = 0; part < this.workers; part++) {
      const staged = this.staging[part] as Batch[];
      if (staged.length > 0) {
        ready.push(staged);
        this.staging[part] = [];
      }
    }
    if (ready.length === 0) return;
    const tasks = Math.min(free, ready.length);
    const groups: Batch[][] = Array.from({ length: tasks }, () => []);
    ready.forEach((partition, i) => {
      (groups[i % tasks] as Batch[]).push(...partition);
    });
    for (const group of groups) this.send(group);
  };

  private send(group: Batch[]): void {
    const batches: BatchRef[] = [];
    let rows = 0;
    for (const batch of group) {
      rows += batch.rows;
      batches.push({
        id: batch.id,
        buffer: batch.buffer,
        capacity: batch.capacity,
        rows: batch.rows,
        strings: batch.strings,
      });
    }
    this.staged -= rows;
    Atomics.add(this.views.i32, HDR_QUEUED, rows);
    this.tasksInFlight++;
    this.batches += group.length;
    this.rows += rows;
    const task: BatchTask = { type: 'batch', batches };
    this.pool.run(task).then(
      (result: BatchResult) => this.finish(group, null, result),
      (error: unknown) => this.finish(group, error ?? new Error('worker task failed'), null),
    );
  }

  private finish(group: Batch[], error: unknown, result: BatchResult): void {
    this.tasksInFlight--;
    const names = result === null ? null : { names: result, next: 0 };
    for (const batch of group) {
      if (error === null) {
        this.events.done(batch, names);
      } else {
        // A batch its worker never started still counts in the shared queue.
        if (Atomics.load(batch.columns.meta, META_STARTED) === 0) {
          Atomics.sub(this.views.i32, HDR_QUEUED, batch.rows);
        }
        this.events.failed(batch, error);
      }
      batch.clear();
      this.spare.push(batch);
    }
    if (this.roomWaiters.length > 0) {
      const waiters = this.roomWaiters;
      this.roomWaiters = [];
      for (const wake of waiters) wake();
    }
    // Rows that waited for a thread leave now (after this tick's callbacks add theirs).
    if (this.staged > 0) this.scheduleFlush();
  }
}
