/**
 * Routing: from calls on the caller's thread to batches on the pool.
 *
 * A Piscina round trip costs tens of microseconds and a locked update a fraction of
 * one, so one task per update would run far below what the machine can do. Instead
 * every row written in the same tick goes into typed arrays: staging batches per
 * lane, sent at the end of the tick (setImmediate, after the tick's promise callbacks
 * have run and written their own rows) as one dispatch.
 *
 * A product's rows go to one lane: the lane its partition (slot % PARTITIONS) was
 * dealt, round robin, when its first row since the last dispatch was written; each row
 * carries its lane (column UNIT). A lane's rows are one unit, applied by one thread in
 * row order, so all rows for one product written in one tick are applied by one
 * thread in the order they were written. A dispatch goes to several threads at once,
 * as one task each, and every task claims the next unclaimed unit until none is left
 * (BatchTask): whichever thread is free takes the next lane, so a handful of slow rows
 * spread over every thread, not only over those their partitions happen to pick. How
 * many threads a dispatch goes to follows what its rows have lately cost (one task per
 * TASK_WORTH_US of pool time): cheap rows go as one task, in one pass.
 *
 * Lanes are split between PIPELINE streams, each with its own batches, so that rows
 * of one tick can leave as PIPELINE dispatches when as many places are free: one runs
 * while the next waits, and their answers alternate instead of arriving all at once.
 * Dispatches of different ticks may run at once on different threads; the product
 * locks order them.
 *
 * The queue that `queueSize` bounds is every row written and not yet taken by a
 * worker: rows staged here, plus rows in dispatches sent but not started (a counter in
 * shared memory that a dispatch's first task decrements when it starts).
 */
import type { Piscina } from 'piscina';
import { counter64, HDR_BUSY_US, HDR_QUEUED, type SharedViews } from '../memory/layout.js';
import {
  type BatchColumns,
  type BatchRef,
  type BatchResult,
  type BatchTask,
  batchBytes,
  batchColumns,
  EVERY_UNIT,
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
  /** Idempotency keys of keyed rows (column KEY), for the change log. */
  keys: string[] = [];

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
    if (this.keys.length > 0) this.keys = [];
  }
}

/** The names a batch's price-only sets kept (BatchResult), by row. */
export type KeptNames = ReadonlyMap<number, string>;

export interface RouterEvents {
  /** Every row of the batch has its result. */
  done(batch: Batch, names: KeptNames | null): void;
  /** The task failed; rows whose status is still pending were not applied. */
  failed(batch: Batch, error: unknown): void;
  /** Every task of a dispatch answered, after its rows were: the pool may be idle now. */
  drained(): void;
  /**
   * Calls `answer` once every change the pool has made so far is durable (at once
   * when there is no journal to wait for): rows are answered only then.
   */
  whenDurable(answer: (error: Error | null) => void): void;
  /** A task failed (before its dispatch is answered): its thread may have died. */
  taskFailed(): void;
  /** The batch's changes could not be made durable: every row fails with `error`. */
  notDurable(batch: Batch, error: Error): void;
}

/**
 * Batches while busy: rows written while every pool thread is busy wait here and
 * leave together when a thread frees up, instead of queueing inside the pool as many
 * small tasks. An idle engine still sends at the end of the tick, so light traffic
 * pays no wait; heavy traffic gets larger batches and fewer task round trips.
 *
 * Tasks in flight per pool thread: one running, one waiting in the thread's own port
 * (the pool runs with concurrentTasksPerWorker: PIPELINE), so that a thread that
 * finishes a task starts the next at once instead of idling while the caller's thread
 * settles the last one and sends the next.
 */
export const PIPELINE = 2;

/** Partitions of the slot space that lanes are dealt by: a power of two. */
const PARTITIONS = 4096;

/** Lanes per pool thread: enough units that a thread free early finds one unclaimed. */
const LANES_PER_THREAD = 4;

/**
 * Work, in thread time, worth a task of its own: below it, a helper task costs the
 * caller's thread more (a message, an answer) than it saves the pool. Piscina's
 * round trip is tens of microseconds.
 */
const TASK_WORTH_US = 500;

/** Rows answered between two readings of the pool's busy time. */
const COST_SAMPLE_ROWS = 256;

/** A dispatch sent: its batches, and its tasks still to answer. */
interface Dispatch {
  readonly batches: Batch[];
  /** Its tasks not yet answered: its buffers are reused only when none is left. */
  pending: number;
  /** Its rows are done (every row applied, or the last task failed). */
  settled: boolean;
  /** Its rows were answered (after `settled`, once their changes are durable). */
  answered: boolean;
  /** Its batches went back to the spares (once). */
  recycled: boolean;
  /** Its changes could not be made durable (the journal failed): every row fails. */
  notDurable: Error | null;
  /** Create and set rows name strings: their answers wait for every task's names. */
  readonly named: Map<number, Map<number, string>> | null;
  error: unknown;
}

export class Router {
  /** Per stream: its staged batches, oldest first; the last one is still open. */
  private readonly staging: Batch[][] = Array.from({ length: PIPELINE }, () => []);
  /** Per partition: the lane it was dealt, valid while its stamp is the current epoch. */
  private readonly laneOf = new Int32Array(PARTITIONS);
  private readonly dealtIn = new Int32Array(PARTITIONS);
  /** Bumped at each flush that sends: the partitions are dealt afresh after it. */
  private epoch = 1;
  private nextLane = 0;
  /** Per lane: rows staged in it. Lane l belongs to stream l % PIPELINE. */
  private readonly laneRows: Int32Array;
  private readonly spare: Batch[] = [];
  private staged = 0;
  private flushScheduled = false;
  private roomWaiters: (() => void)[] = [];
  /** Tasks sent to the pool and not yet answered (batches and listings). */
  tasksInFlight = 0;
  /** Dispatches sent and not yet answered. */
  private dispatches = 0;
  /** Dispatches applied whose rows wait for their changes to be durable. */
  awaitingDurable = 0;
  batches = 0;
  rows = 0;
  /**
   * Thread time a row has cost lately, µs: the pool's busy time over the rows answered
   * meanwhile. Until measured, a row is taken to be worth a task of its own.
   */
  private rowUs = TASK_WORTH_US;
  private sampledBusyUs = 0;
  private rowsSinceSample = 0;
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
    this.laneRows = new Int32Array(workers * LANES_PER_THREAD);
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
   * A staging batch with room for `rows` more rows, dealt to the lane of `slot`'s
   * partition. The caller must then write exactly `rows` rows at `batch.rows` and
   * advance it.
   */
  claim(slot: number, rows: number): Batch {
    const part = slot & (PARTITIONS - 1);
    let lane = this.laneOf[part] as number;
    if (this.dealtIn[part] !== this.epoch) {
      // The partition's first row since the last dispatch: it takes the next lane, and
      // keeps it until that dispatch leaves, so its rows stay in one lane, in order.
      lane = this.nextLane;
      this.nextLane = lane + 1 === this.laneRows.length ? 0 : lane + 1;
      this.laneOf[part] = lane;
      this.dealtIn[part] = this.epoch;
    }
    const staged = this.staging[lane % PIPELINE] as Batch[];
    let batch = staged[staged.length - 1];
    // A full batch is sealed and stays in line behind its stream's earlier ones: a
    // lane's rows are applied in batch order, then row order.
    if (batch === undefined || batch.rows + rows > this.maxBatch) {
      batch = this.spare.pop() ?? new Batch(this.capacity);
      staged.push(batch);
    }
    const unit = batch.columns.unit;
    for (let r = batch.rows, end = r + rows; r < end; r++) unit[r] = lane;
    this.laneRows[lane] = (this.laneRows[lane] as number) + rows;
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
   * Sends the staged rows while fewer than PIPELINE dispatches are in flight (more for
   * cheap rows, below): each stream as its own dispatch when as many places are free,
   * else streams together. With no place free, the rows wait for a dispatch to be
   * answered. `force` sends them regardless (closing).
   */
  readonly flush = (force = false): void => {
    this.flushScheduled = false;
    if (this.staged === 0) return;
    // Rows too cheap to be worth more than one task per stream go as single-task
    // dispatches, which cannot spread: then as many may be in flight as the pool has
    // places (PIPELINE per thread), as many tasks were before lanes.
    const cheap = this.staged * this.rowUs < PIPELINE * TASK_WORTH_US;
    const limit = cheap ? this.workers * PIPELINE : PIPELINE;
    const free = Math.max(force ? 1 : 0, Math.min(PIPELINE, limit - this.dispatches));
    if (free === 0) return;
    const streams: number[] = [];
    for (let s = 0; s < PIPELINE; s++) {
      if ((this.staging[s] as Batch[]).length > 0) streams.push(s);
    }
    const sends = Math.min(free, streams.length);
    for (let d = 0; d < sends; d++) {
      const batches: Batch[] = [];
      const units: number[] = [];
      for (let i = d; i < streams.length; i += sends) {
        const s = streams[i] as number;
        const from = batches.length;
        for (const batch of this.staging[s] as Batch[]) batches.push(batch);
        this.staging[s] = [];
        for (let lane = s; lane < this.laneRows.length; lane += PIPELINE) {
          if (this.laneRows[lane] === 0) continue;
          units.push(lane, from, batches.length);
          this.laneRows[lane] = 0;
        }
      }
      this.send(batches, units);
    }
    // Kept an int32, as dealtIn stores it. A stamp left from 2^32 dispatches ago only
    // reuses an old lane, for every row of its partition alike: still one lane.
    this.epoch = (this.epoch + 1) | 0;
  };

  private send(group: Batch[], units: number[]): void {
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
        keys: batch.keys,
      });
    }
    this.staged -= rows;
    Atomics.add(this.views.i32, HDR_QUEUED, rows);
    this.batches += group.length;
    this.rows += rows;
    // One task per thread that can help, at most one per unit, and no more than the
    // rows' measured cost is worth (route by cost: cheap rows go as one task, slow rows
    // spread over every thread). Each task claims units until none is left.
    const worth = Math.max(1, Math.ceil((rows * this.rowUs) / TASK_WORTH_US));
    const tasks = Math.min(this.workers, units.length / 3, worth);
    const named = group.some((batch) => batch.strings.length > 0) ? new Map() : null;
    const dispatch: Dispatch = {
      batches: group,
      pending: tasks,
      settled: false,
      answered: false,
      recycled: false,
      notDurable: null,
      named,
      error: null,
    };
    // A single task applies every row in row order: no lanes to pick out.
    const task: BatchTask = {
      type: 'batch',
      batches,
      units: tasks === 1 ? [EVERY_UNIT, 0, batches.length] : units,
    };
    this.tasksInFlight += tasks;
    this.dispatches++;
    for (let t = 0; t < tasks; t++) {
      this.pool.run(task).then(
        (result: BatchResult) => this.answered(dispatch, null, result),
        (error: unknown) => {
          this.events.taskFailed();
          this.answered(dispatch, error ?? new Error('worker task failed'), null);
        },
      );
    }
  }

  /**
   * One task of a dispatch answered. Its rows are answered as soon as the task that
   * applied the last unit answers, without waiting for tasks still queued behind other
   * work (they will find nothing to claim); with names to collect, or after a failure,
   * only when every task has. Its buffers are reused when every task has answered.
   */
  private answered(dispatch: Dispatch, error: unknown, result: BatchResult | null): void {
    this.tasksInFlight--;
    dispatch.pending--;
    if (error !== null) dispatch.error ??= error;
    if (result?.names && dispatch.named !== null) {
      for (const [id, row, name] of result.names) {
        let kept = dispatch.named.get(id);
        if (kept === undefined) {
          kept = new Map();
          dispatch.named.set(id, kept);
        }
        kept.set(row, name);
      }
    }
    if (
      !dispatch.settled &&
      (dispatch.pending === 0 || (result?.last === true && dispatch.named === null))
    ) {
      dispatch.settled = true;
      this.dispatches--;
      this.awaitingDurable++;
      this.events.whenDurable((error) => {
        this.awaitingDurable--;
        dispatch.answered = true;
        if (error !== null) dispatch.notDurable = error;
        this.settle(dispatch);
        this.recycle(dispatch);
      });
    }
    this.recycle(dispatch);
    // Rows that waited for a thread leave now (after this tick's callbacks add theirs).
    if (this.staged > 0) this.scheduleFlush();
  }

  /** Once every task answered and every row was: its buffers are reused. */
  private recycle(dispatch: Dispatch): void {
    if (dispatch.pending !== 0 || !dispatch.answered || dispatch.recycled) return;
    dispatch.recycled = true;
    for (const batch of dispatch.batches) {
      batch.clear();
      this.spare.push(batch);
    }
    this.events.drained();
  }

  /** Updates the measured cost of a row, every COST_SAMPLE_ROWS rows answered. */
  private measure(rows: number): void {
    this.rowsSinceSample += rows;
    if (this.rowsSinceSample < COST_SAMPLE_ROWS) return;
    const busyUs = Number(Atomics.load(this.views.i64, counter64(HDR_BUSY_US)));
    this.rowUs = (busyUs - this.sampledBusyUs) / this.rowsSinceSample;
    this.sampledBusyUs = busyUs;
    this.rowsSinceSample = 0;
  }

  private settle(dispatch: Dispatch): void {
    const { error, named } = dispatch;
    let rows = 0;
    for (const batch of dispatch.batches) {
      rows += batch.rows;
      if (dispatch.notDurable !== null) {
        this.events.notDurable(batch, dispatch.notDurable);
      } else if (error === null) {
        this.events.done(batch, named?.get(batch.id) ?? null);
      } else {
        // A batch no task of the dispatch started still counts in the shared queue.
        if (Atomics.load(batch.columns.meta, META_STARTED) === 0) {
          Atomics.sub(this.views.i32, HDR_QUEUED, batch.rows);
        }
        this.events.failed(batch, error);
      }
    }
    this.measure(rows);
    if (this.roomWaiters.length > 0) {
      const waiters = this.roomWaiters;
      this.roomWaiters = [];
      for (const wake of waiters) wake();
    }
  }
}
