/**
 * Applies batches of rows to the shared records. One Applier per pool thread.
 *
 * Per row: lock (the lock mode chosen once: lock-mode.ts) → check that the slot holds
 * the product the row names → decide (memory/rules.ts) → simulated work → take an
 * offset → publish (memory/records.ts) → write the row's result → unlock. Stock rows
 * live in stock-rows.ts, admin rows in admin-rows.ts, the list cut in list-cut.ts.
 *
 * Multi-product rows (orders) lock their products in ascending slot order, so no two
 * threads can ever wait on each other in a cycle.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { counter64, HDR_BUSY_US, HDR_QUEUED, type SharedViews } from '../memory/layout.js';
import {
  type BatchColumns,
  type BatchRef,
  type BatchResult,
  type BatchTask,
  batchColumns,
  EVERY_UNIT,
  KIND_CREATE,
  KIND_DELETE,
  KIND_ORDER,
  KIND_SET,
  KIND_UPDATE,
  type ListResult,
  type ListTask,
  META_APPLIED,
  META_CLAIMED,
  META_STARTED,
  STATUS_LOCK_TIMEOUT,
} from '../memory/protocol.js';
import { LockTimeoutError } from '../memory/rwlock.js';
import { create, remove, set } from './admin-rows.js';
import { CrashHook, type CrashSettings } from './crash.js';
import { listCut } from './list-cut.js';
import type { Owner } from './lock-mode.js';
import { lockMode } from './lock-mode.js';
import type { Recorder } from './recorder.js';
import { order, update } from './stock-rows.js';
import { Writer } from './writer.js';

export interface ApplierSettings {
  readonly lockMode: 'fine' | 'global';
  readonly lockTimeoutMs: number;
  /** Runs inside each product's critical section (the benchmark knobs), or null. */
  readonly simulate: (() => void) | null;
  /** Debug logger for the per-lock lines, or null when debug is off. */
  readonly debug: Logger | null;
  /** Where this thread records the changes it commits, or null. */
  readonly recorder: Recorder | null;
  /** Who holds this thread's locks, for repairs after its death (its ring); none in tests. */
  readonly owner?: Owner;
  /** The test hook simulate.crash, or null. */
  readonly crash?: CrashSettings | null;
}

/** A price-only set's kept name, by batch id and row. */
type NamedRow = [batchId: number, row: number, name: string];

export class Applier {
  private readonly w: Writer;
  private readonly timeoutMs: number;
  private readonly columnsCache = new Map<number, BatchColumns>();

  constructor(
    private readonly v: SharedViews,
    settings: ApplierSettings,
  ) {
    this.timeoutMs = settings.lockTimeoutMs;
    const locks = lockMode(v, settings.lockMode, settings.lockTimeoutMs, settings.owner);
    const crash = settings.crash ? new CrashHook(v, settings.crash) : null;
    this.w = new Writer(v, locks, settings.simulate, settings.debug, settings.recorder, crash);
  }

  /**
   * Applies the units of a dispatch this thread claims, each unit's batches in order;
   * answers the names price-only sets kept.
   */
  applyTask(task: BatchTask): BatchResult {
    const start = performance.now();
    const batches = task.batches;
    let rows = 0;
    // These rows no longer wait for a worker: they leave the bounded queue, and each
    // batch says so, in the same step (if the dispatch fails, the caller's thread must
    // not take them off the count a second time). The dispatch's first task to start
    // does it; compareExchange keeps its other tasks from doing it twice.
    for (const batch of batches) {
      if (Atomics.compareExchange(this.columns(batch).meta, META_STARTED, 0, 1) === 0) {
        rows += batch.rows;
      }
    }
    if (rows > 0) Atomics.sub(this.v.i32, HDR_QUEUED, rows);
    const units = task.units ?? [EVERY_UNIT, 0, batches.length];
    const first = batches[0];
    const named: NamedRow[] = [];
    let last = false;
    if (first !== undefined) {
      const meta = this.columns(first).meta;
      const count = units.length / 3;
      // The claim is an atomic add: each unit goes to exactly one of the dispatch's
      // tasks, whichever reaches it first.
      for (let u = Atomics.add(meta, META_CLAIMED, 1); u < count; ) {
        const unit = units[3 * u] as number;
        const end = units[3 * u + 2] as number;
        for (let b = units[3 * u + 1] as number; b < end; b++) {
          this.applyBatch(batches[b] as BatchRef, unit, named);
        }
        // Counted after the unit's results are written (Atomics.add is sequentially
        // consistent): whoever counts the last unit knows every row has its result.
        last = Atomics.add(meta, META_APPLIED, 1) + 1 === count;
        u = Atomics.add(meta, META_CLAIMED, 1);
      }
    }
    const busyUs = Math.round((performance.now() - start) * 1000);
    if (busyUs > 0) Atomics.add(this.v.i64, counter64(HDR_BUSY_US), BigInt(busyUs));
    return { last, names: named.length === 0 ? null : named };
  }

  /**
   * Applies the rows of a batch that belong to `unit` (all of them for EVERY_UNIT), in
   * row order, and writes each one's result into the batch. Rows of other units are
   * left alone: another thread may be applying them.
   */
  applyBatch(task: BatchRef, unit = EVERY_UNIT, named: NamedRow[] = []): void {
    const c = this.columns(task);
    const rows = task.rows;
    const locks = this.w.locks;
    this.w.startBatch();
    let r = 0;
    try {
      for (; r < rows; r += rowsOf(c, r)) {
        if (unit !== EVERY_UNIT && c.unit[r] !== unit) continue;
        this.w.beforeRow();
        this.applyRow(c, r, task, named);
        locks.afterRow();
      }
    } catch (error) {
      // Only the global lock's IX wait can fail outside a row: the unit's rows not
      // reached were not applied, and say so.
      if (!(error instanceof LockTimeoutError)) throw error;
      for (; r < rows; r += rowsOf(c, r)) {
        if (unit !== EVERY_UNIT && c.unit[r] !== unit) continue;
        c.status.fill(STATUS_LOCK_TIMEOUT, r, r + rowsOf(c, r));
      }
    } finally {
      locks.endBatch();
      this.w.endBatch();
    }
  }

  /** Copies a consistent cut of the given products: no half-applied order shows. */
  list(task: ListTask): ListResult {
    return listCut(this.v, this.timeoutMs, task);
  }

  /**
   * The column views of a batch. Each message brings a new SharedArrayBuffer object
   * for the same memory, so views are cached by the batch's id, not by the object.
   */
  private columns(batch: BatchRef): BatchColumns {
    let c = this.columnsCache.get(batch.id);
    if (c === undefined || c.kind.length !== batch.capacity) {
      c = batchColumns(batch.buffer, batch.capacity);
      this.columnsCache.set(batch.id, c);
    }
    return c;
  }

  /** Applies the row at `r` (and, for an order, its items). */
  private applyRow(c: BatchColumns, r: number, batch: BatchRef, named: NamedRow[]): void {
    const kind = c.kind[r];
    if (kind === KIND_ORDER) {
      order(this.w, c, r, batch.keys);
      return;
    }
    const slot = c.slot[r] as number;
    try {
      this.w.lock(slot);
    } catch (error) {
      if (!(error instanceof LockTimeoutError)) throw error;
      c.status[r] = STATUS_LOCK_TIMEOUT;
      return;
    }
    try {
      if (kind === KIND_UPDATE) update(this.w, c, r, slot, batch.keys);
      else if (kind === KIND_CREATE) create(this.w, c, r, slot, batch.strings);
      else if (kind === KIND_SET) {
        const kept: string[] = [];
        set(this.w, c, r, slot, batch.strings, kept);
        if (kept.length > 0) named.push([batch.id, r, kept[0] as string]);
      } else if (kind === KIND_DELETE) remove(this.w, c, r, slot);
      else throw new Error(`unknown row kind ${kind}`);
    } finally {
      this.w.unlock(slot, 'Update processed by worker');
    }
  }
}

/** Rows the row at `r` spans: an order's header and its items, else one. */
function rowsOf(c: BatchColumns, r: number): number {
  return c.kind[r] === KIND_ORDER ? (c.aux[r] as number) + 1 : 1;
}
