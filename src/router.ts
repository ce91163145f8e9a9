/**
 * Routing: from calls on the caller's thread to batches on the pool.
 *
 * A Piscina round trip costs tens of microseconds and a locked update tens of
 * nanoseconds, so one task per update would run about a thousand times below what
 * the machine can do. Instead every row written in the same tick goes into typed
 * arrays, one staging batch per worker; at the end of the tick (setImmediate, after
 * the tick's promise callbacks have run and written their own rows) or when a batch
 * fills, each staging batch goes to the pool as one task.
 *
 * Rows are spread over the batches by slot, so all rows for one product written in
 * one tick go to the same worker, in the order they were written. Batches of
 * different ticks may run at once on different threads; the product locks order them.
 *
 * The queue that `queueSize` bounds is every row written and not yet taken by a
 * worker: rows staged here, plus rows in batches sent but not started (a counter in
 * shared memory that workers decrement when they start a batch).
 */
import type { Piscina } from 'piscina';
import { HDR_QUEUED, type SharedViews } from '../memory/layout.js';
import {
  type BatchColumns,
  type BatchTask,
  batchBytes,
  batchColumns,
  META_STARTED,
} from '../memory/protocol.js';
import type { IdempotencyEntry } from './idempotency.js';
import { MAX_ORDER_ITEMS } from './options.js';
import type { Sink } from './sinks.js';

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
  readonly keyed: (IdempotencyEntry<unknown> | undefined)[];
  /** Per row: the product id the row names. */
  readonly ids: string[];
  /** Ids and names for create and set rows. */
  strings: string[] = [];

  constructor(readonly capacity: number) {
    this.buffer = new SharedArrayBuffer(batchBytes(capacity));
    this.columns = batchColumns(this.buffer, capacity);
    this.sinks = new Array<Sink<unknown> | undefined>(capacity).fill(undefined);
    this.sinkIndex = new Int32Array(capacity);
    this.resolvers = new Array<((value: never) => void) | undefined>(capacity).fill(undefined);
    this.keyed = new Array<IdempotencyEntry<unknown> | undefined>(capacity).fill(undefined);
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

export interface RouterEvents {
  /** Every row of the batch has its result. */
  done(batch: Batch): void;
  /** The task failed; rows whose status is still pending were not applied. */
  failed(batch: Batch, error: unknown): void;
}

export class Router {
  private readonly staging: (Batch | null)[];
  private readonly spare: Batch[] = [];
  private staged = 0;
  private flushScheduled = false;
  private roomWaiters: (() => void)[] = [];
  tasksInFlight = 0;
  batches = 0;
  rows = 0;

  constructor(
    private readonly pool: Piscina,
    private readonly views: SharedViews,
    private readonly parts: number,
    private readonly maxBatch: number,
    readonly queueSize: number,
    private readonly events: RouterEvents,
  ) {
    this.staging = new Array<Batch | null>(parts).fill(null);
    // Room for the largest order even when maxBatch is smaller.
    this.capacity = Math.max(maxBatch, MAX_ORDER_ITEMS + 1);
  }

  /** Rows a batch buffer holds. */
  private readonly capacity: number;

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
    const part = slot % this.parts;
    let batch = this.staging[part] ?? null;
    // A full batch goes now, without waiting for the end of the tick: a worker starts
    // on it while this thread is still writing the rest of the tick's rows.
    if (batch !== null && batch.rows + rows > this.maxBatch) {
      this.dispatch(part);
      batch = null;
    }
    if (batch === null) {
      batch = this.spare.pop() ?? new Batch(this.capacity);
      this.staging[part] = batch;
    }
    this.staged += rows;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
    return batch;
  }

  /** Sends every staging batch now. */
  readonly flush = (): void => {
    this.flushScheduled = false;
    for (let part = 0; part < this.parts; part++) {
      if ((this.staging[part]?.rows ?? 0) > 0) this.dispatch(part);
    }
  };

  private dispatch(part: number): void {
    const batch = this.staging[part] as Batch;
    this.staging[part] = null;
    this.staged -= batch.rows;
    Atomics.add(this.views.i32, HDR_QUEUED, batch.rows);
    this.tasksInFlight++;
    this.batches++;
    this.rows += batch.rows;
    const task: BatchTask = {
      type: 'batch',
      buffer: batch.buffer,
      capacity: batch.capacity,
      rows: batch.rows,
      strings: batch.strings,
    };
    this.pool.run(task).then(
      () => this.finish(batch, null),
      (error: unknown) => this.finish(batch, error ?? new Error('worker task failed')),
    );
  }

  private finish(batch: Batch, error: unknown): void {
    this.tasksInFlight--;
    if (error === null) {
      this.events.done(batch);
    } else {
      // A task that failed before its worker took it still counts in the shared queue.
      if (Atomics.load(batch.columns.meta, META_STARTED) === 0) {
        Atomics.sub(this.views.i32, HDR_QUEUED, batch.rows);
      }
      this.events.failed(batch, error);
    }
    batch.clear();
    this.spare.push(batch);
    if (this.roomWaiters.length > 0) {
      const waiters = this.roomWaiters;
      this.roomWaiters = [];
      for (const wake of waiters) wake();
    }
  }
}
