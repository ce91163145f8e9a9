/**
 * Applies batches of rows to the shared records. One Applier per pool thread.
 *
 * Per row, in 'fine' mode:
 *   write-lock the product → check it is the product the row names (live, same
 *   generation) → OCC check → stock check → simulated work → take an offset →
 *   publish (records.ts) → write the row's result → unlock.
 * The thread holds the global lock in IX mode across the batch, and steps aside
 * between rows as soon as a consistent cut (S) or an exclusive holder (X) waits.
 *
 * In 'global' mode the product locks are not used: every row takes the global lock
 * in X mode instead, which is the single-mutex design kept for comparison.
 *
 * Multi-product rows (orders) lock their products in ascending slot order, so no two
 * threads can ever wait on each other in a cycle.
 */
import type { Logger } from 'pino';
import { exclusiveWaiting, globalLock, globalUnlock } from '../memory/global-lock.js';
import {
  counter64,
  HDR_BUSY_US,
  HDR_GLOBAL_LOCK,
  HDR_OFFSET,
  HDR_QUEUED,
  ID_MAX_BYTES,
  LOCK_ACQUIRED,
  LOCK_CONTENDED,
  LOCK_WAIT_US,
  type SharedViews,
  SLOT_LOCK,
  STATE_FREE,
  STATE_LIVE,
  slotBase,
} from '../memory/layout.js';
import {
  ANY_VERSION,
  type BatchColumns,
  type BatchRef,
  type BatchTask,
  batchColumns,
  KIND_CREATE,
  KIND_DELETE,
  KIND_ORDER,
  KIND_SET,
  KIND_UPDATE,
  type ListResult,
  type ListTask,
  META_STARTED,
  SET_NAME,
  SET_PRICE,
  STATUS_APPLIED,
  STATUS_INSUFFICIENT,
  STATUS_LOCK_TIMEOUT,
  STATUS_NOT_FOUND,
  STATUS_OUT_OF_RANGE,
  STATUS_SKIPPED,
  STATUS_VERSION_CONFLICT,
} from '../memory/protocol.js';
import {
  decodeName,
  emptyRecord,
  encodeName,
  lockedAvailable,
  lockedGeneration,
  lockedLastUpdated,
  lockedState,
  lockedVersion,
  nameScratch,
  publishRecord,
  publishStock,
  readId,
  readRecord,
  writeId,
} from '../memory/records.js';
import { LockTimeoutError, writeLock, writeUnlock } from '../memory/rwlock.js';

export interface ApplierSettings {
  readonly lockMode: 'fine' | 'global';
  readonly lockTimeoutMs: number;
  /** Runs inside each product's critical section (the benchmark knobs), or null. */
  readonly simulate: (() => void) | null;
  /** Debug logger for the per-lock lines, or null when debug is off. */
  readonly debug: Logger | null;
}

const MAX_STOCK = Number.MAX_SAFE_INTEGER;
/**
 * Date.now() costs more than the rest of a locked update; rows run at a few hundred
 * nanoseconds each, so reading the clock every 128 rows keeps lastUpdated within a
 * fraction of a millisecond of the truth.
 */
const CLOCK_ROWS = 128;
const utf8 = new TextEncoder();

export class Applier {
  private readonly fine: boolean;
  private readonly timeoutMs: number;
  private readonly simulate: (() => void) | null;
  private readonly debug: Logger | null;
  private readonly columnsCache = new Map<number, BatchColumns>();
  /** Order item rows, sorted by slot before locking. */
  private orderRows = new Int32Array(64);
  private readonly name = nameScratch();
  private readonly record = emptyRecord();
  /** Whether this thread holds the global lock in IX mode right now. */
  private holdingIntent = false;
  /** A cached Date.now(), refreshed every CLOCK_ROWS rows (every row when simulating). */
  private clock = 0;
  private clockAge = 0;

  constructor(
    private readonly v: SharedViews,
    settings: ApplierSettings,
  ) {
    this.fine = settings.lockMode === 'fine';
    this.timeoutMs = settings.lockTimeoutMs;
    this.simulate = settings.simulate;
    this.debug = settings.debug;
  }

  /** Applies every batch of a task, in order. */
  applyTask(task: BatchTask): number {
    const start = performance.now();
    let rows = 0;
    // These rows no longer wait for a worker: they leave the bounded queue, and each
    // batch says so, in the same step (if this task fails, the caller's thread must
    // not take them off the count a second time).
    for (const batch of task.batches) {
      rows += batch.rows;
      Atomics.store(this.columns(batch).meta, META_STARTED, 1);
    }
    Atomics.sub(this.v.i32, HDR_QUEUED, rows);
    for (const batch of task.batches) this.applyBatch(batch);
    const busyUs = Math.round((performance.now() - start) * 1000);
    if (busyUs > 0) Atomics.add(this.v.i64, counter64(HDR_BUSY_US), BigInt(busyUs));
    return rows;
  }

  /** Applies every row of a batch and writes each row's result into the batch. */
  applyBatch(task: BatchRef): number {
    const c = this.columns(task);
    const rows = task.rows;
    this.clockAge = CLOCK_ROWS;
    let r = 0;
    try {
      while (r < rows) {
        if (this.fine) this.ensureIntent();
        r += this.applyRow(c, r, task.strings);
        if (this.fine && exclusiveWaiting(this.v, HDR_GLOBAL_LOCK)) this.releaseIntent();
      }
    } catch (error) {
      // Only the global lock's IX wait can fail outside a row: the rows not reached
      // were not applied, and say so.
      if (!(error instanceof LockTimeoutError)) throw error;
      for (; r < rows; r++) c.status[r] = STATUS_LOCK_TIMEOUT;
    } finally {
      if (this.holdingIntent) this.releaseIntent();
    }
    return rows;
  }

  /** Copies a consistent cut of the given products: no half-applied order shows. */
  list(task: ListTask): ListResult {
    const n = task.slots.length;
    const result: ListResult = {
      live: new Uint8Array(n),
      version: new Float64Array(n),
      available: new Float64Array(n),
      lastUpdated: new Float64Array(n),
      price: new Float64Array(n),
      names: new Array<string>(n).fill(''),
    };
    globalLock(this.v, HDR_GLOBAL_LOCK, 'S', this.timeoutMs);
    try {
      for (let i = 0; i < n; i++) {
        const rec = readRecord(this.v, task.slots[i] as number, this.record, this.name);
        if (rec.state !== STATE_LIVE || rec.generation !== task.generations[i]) continue;
        result.live[i] = 1;
        result.version[i] = rec.version;
        result.available[i] = rec.available;
        result.lastUpdated[i] = rec.lastUpdated;
        result.price[i] = rec.price;
        result.names[i] = decodeName(this.name);
      }
    } finally {
      globalUnlock(this.v, HDR_GLOBAL_LOCK, 'S');
    }
    return result;
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

  private ensureIntent(): void {
    if (this.holdingIntent) return;
    globalLock(this.v, HDR_GLOBAL_LOCK, 'IX', this.timeoutMs);
    this.holdingIntent = true;
  }

  private releaseIntent(): void {
    this.holdingIntent = false;
    globalUnlock(this.v, HDR_GLOBAL_LOCK, 'IX');
  }

  /** Applies the row at `r` (and, for an order, its items); returns rows consumed. */
  private applyRow(c: BatchColumns, r: number, strings: readonly string[]): number {
    const kind = c.kind[r];
    if (kind === KIND_ORDER) return this.order(c, r);
    const slot = c.slot[r] as number;
    try {
      this.lock(slot);
    } catch (error) {
      if (!(error instanceof LockTimeoutError)) throw error;
      c.status[r] = STATUS_LOCK_TIMEOUT;
      return 1;
    }
    try {
      if (kind === KIND_UPDATE) this.update(c, r, slot);
      else if (kind === KIND_CREATE) this.create(c, r, slot, strings);
      else if (kind === KIND_SET) this.set(c, r, slot, strings);
      else if (kind === KIND_DELETE) this.remove(c, r, slot);
      else throw new Error(`unknown row kind ${kind}`);
    } finally {
      this.unlock(slot, 'Update processed by worker');
    }
    return 1;
  }

  private lock(slot: number): void {
    if (this.fine) writeLock(this.v, slotBase(slot) + SLOT_LOCK, this.timeoutMs);
    else globalLock(this.v, HDR_GLOBAL_LOCK, 'X', this.timeoutMs);
    if (this.debug !== null) this.log(slot, 'Acquired write lock for product');
  }

  /** Releases `slot`'s lock (in global mode, the global one); logs `after` as well. */
  private unlock(slot: number, after?: string): void {
    // The id is read while the lock still keeps the slot from being reused.
    const id = this.debug === null ? '' : readId(this.v, slot);
    if (this.fine) writeUnlock(this.v, slotBase(slot) + SLOT_LOCK);
    else globalUnlock(this.v, HDR_GLOBAL_LOCK, 'X');
    if (this.debug !== null) {
      this.log(slot, 'Released write lock for product', id);
      if (after !== undefined) this.log(slot, after, id);
    }
  }

  /** A debug line; a failing log destination must never leave a lock held. */
  private log(slot: number, message: string, id?: string): void {
    try {
      this.debug?.debug({ product_id: id ?? readId(this.v, slot) }, message);
    } catch {
      // Dropped: the per-lock lines are diagnostics, not part of the outcome.
    }
  }

  /**
   * The time to stamp a change of `slot` with: never earlier than the product's last
   * change, so that lastUpdated never goes back even across threads' cached clocks.
   */
  private now(slot: number): number {
    if (this.simulate !== null || ++this.clockAge >= CLOCK_ROWS) {
      this.clock = Date.now();
      this.clockAge = 0;
    }
    const last = lockedLastUpdated(this.v, slot);
    return Math.max(this.clock, last);
  }

  /** Takes `count` consecutive change offsets; returns the first. */
  private takeOffsets(count: number): number {
    return Number(Atomics.add(this.v.i64, counter64(HDR_OFFSET), BigInt(count))) + 1;
  }

  /**
   * Checks that the locked slot still holds the product the row names and, when the
   * row names one, the expected version. Writes the failure into the row; returns
   * whether the row may go on.
   */
  private check(c: BatchColumns, r: number, slot: number): boolean {
    const v = this.v;
    if (lockedState(v, slot) !== STATE_LIVE || lockedGeneration(v, slot) !== c.generation[r]) {
      c.status[r] = STATUS_NOT_FOUND;
      return false;
    }
    const expected = c.expected[r] as number;
    const version = lockedVersion(v, slot);
    if (expected !== ANY_VERSION && expected !== version) {
      this.current(c, r, slot, STATUS_VERSION_CONFLICT);
      return false;
    }
    return true;
  }

  /** Writes the product's current figures and `status` into row `r`. */
  private current(c: BatchColumns, r: number, slot: number, status: number): void {
    c.resVersion[r] = lockedVersion(this.v, slot);
    c.resAvailable[r] = lockedAvailable(this.v, slot);
    c.status[r] = status;
  }

  /** The stock check: writes the failure and returns false if `delta` cannot apply. */
  private fits(c: BatchColumns, r: number, slot: number): boolean {
    const next = lockedAvailable(this.v, slot) + (c.amount[r] as number);
    if (next < 0) {
      this.current(c, r, slot, STATUS_INSUFFICIENT);
      return false;
    }
    if (next > MAX_STOCK) {
      this.current(c, r, slot, STATUS_OUT_OF_RANGE);
      return false;
    }
    return true;
  }

  private update(c: BatchColumns, r: number, slot: number): void {
    if (this.simulate !== null) this.simulate();
    if (!this.check(c, r, slot) || !this.fits(c, r, slot)) return;
    this.applyStock(c, r, slot, this.takeOffsets(1), this.now(slot));
  }

  private applyStock(c: BatchColumns, r: number, slot: number, offset: number, now: number) {
    const available = lockedAvailable(this.v, slot) + (c.amount[r] as number);
    const version = lockedVersion(this.v, slot) + 1;
    publishStock(this.v, slot, available, version, now);
    c.resAvailable[r] = available;
    c.resVersion[r] = version;
    c.resLastUpdated[r] = now;
    c.resOffset[r] = offset;
    c.status[r] = STATUS_APPLIED;
  }

  /** All-or-nothing across the order's items. Returns rows consumed (header + items). */
  private order(c: BatchColumns, h: number): number {
    const count = c.aux[h] as number;
    const sorted = this.sortItemsBySlot(c, h, count);
    let locked = 0;
    try {
      if (this.fine) {
        for (; locked < count; locked++) this.lock(c.slot[sorted[locked] as number] as number);
      } else {
        // One exclusive hold covers every product.
        globalLock(this.v, HDR_GLOBAL_LOCK, 'X', this.timeoutMs);
        locked = count;
      }
    } catch (error) {
      if (!(error instanceof LockTimeoutError)) throw error;
      this.unlockItems(c, sorted, locked);
      for (let i = 0; i <= count; i++) c.status[h + i] = STATUS_LOCK_TIMEOUT;
      c.resAux[h] = -1;
      return count + 1;
    }
    try {
      this.orderLocked(c, h, count);
    } finally {
      if (this.fine) this.unlockItems(c, sorted, count);
      else globalUnlock(this.v, HDR_GLOBAL_LOCK, 'X');
    }
    return count + 1;
  }

  private orderLocked(c: BatchColumns, h: number, count: number): void {
    for (let i = 1; i <= count; i++) {
      const r = h + i;
      const slot = c.slot[r] as number;
      if (this.simulate !== null) this.simulate();
      if (this.check(c, r, slot) && this.fits(c, r, slot)) continue;
      // Nothing is applied: name the first item that failed, and why.
      for (let j = i + 1; j <= count; j++) c.status[h + j] = STATUS_SKIPPED;
      for (let j = 1; j < i; j++) c.status[h + j] = STATUS_SKIPPED;
      c.resAux[h] = i - 1;
      c.status[h] = c.status[r] as number;
      return;
    }
    // The order's changes take consecutive offsets: they read as one unit in the feed.
    const first = this.takeOffsets(count);
    for (let i = 1; i <= count; i++) {
      const slot = c.slot[h + i] as number;
      this.applyStock(c, h + i, slot, first + i - 1, this.now(slot));
    }
    c.resAux[h] = -1;
    c.status[h] = STATUS_APPLIED;
  }

  /** Item rows of the order at `h`, in ascending slot order (the lock order). */
  private sortItemsBySlot(c: BatchColumns, h: number, count: number): Int32Array {
    if (this.orderRows.length < count) this.orderRows = new Int32Array(count * 2);
    const rows = this.orderRows;
    // Insertion sort: orders are small, and this allocates nothing.
    for (let i = 0; i < count; i++) {
      const r = h + 1 + i;
      const slot = c.slot[r] as number;
      let j = i;
      while (j > 0 && (c.slot[rows[j - 1] as number] as number) > slot) {
        rows[j] = rows[j - 1] as number;
        j--;
      }
      rows[j] = r;
    }
    return rows;
  }

  private unlockItems(c: BatchColumns, sorted: Int32Array, count: number): void {
    for (let i = count - 1; i >= 0; i--) this.unlock(c.slot[sorted[i] as number] as number);
  }

  private create(c: BatchColumns, r: number, slot: number, strings: readonly string[]): void {
    const v = this.v;
    if (lockedState(v, slot) !== STATE_FREE) {
      throw new Error(`slot ${slot} is not free: the caller's catalog and the buffer disagree`);
    }
    const str = c.str[r] as number;
    const id = utf8.encode(strings[str] ?? '');
    if (id.length > ID_MAX_BYTES) throw new Error(`product id longer than ${ID_MAX_BYTES} bytes`);
    writeId(v, slot, id);
    // The slot's lock counters start again with its new product.
    const lock = slotBase(slot) + SLOT_LOCK;
    Atomics.store(v.i32, lock + LOCK_ACQUIRED, 1);
    Atomics.store(v.i32, lock + LOCK_CONTENDED, 0);
    Atomics.store(v.i64, counter64(lock + LOCK_WAIT_US), 0n);
    const now = Date.now();
    const record = this.record;
    record.state = STATE_LIVE;
    record.generation = c.generation[r] as number;
    record.version = 1;
    record.nameRev = 1;
    record.available = c.amount[r] as number;
    record.lastUpdated = now;
    record.price = c.price[r] as number;
    const offset = this.takeOffsets(1);
    publishRecord(v, slot, record, encodeName(strings[str + 1] ?? '', this.name));
    this.result(c, r, record, offset);
  }

  private set(c: BatchColumns, r: number, slot: number, strings: readonly string[]): void {
    const v = this.v;
    if (this.simulate !== null) this.simulate();
    if (!this.check(c, r, slot)) return;
    const flags = c.aux[r] as number;
    // Start from the committed record (under the lock, both copies hold it).
    const record = readRecord(v, slot, this.record);
    record.version += 1;
    if ((flags & SET_NAME) !== 0) record.nameRev += 1;
    record.lastUpdated = this.now(slot);
    if ((flags & SET_PRICE) !== 0) record.price = c.price[r] as number;
    const name =
      (flags & SET_NAME) !== 0
        ? encodeName(strings[c.str[r] as number] ?? '', this.name)
        : undefined;
    const offset = this.takeOffsets(1);
    publishRecord(v, slot, record, name);
    c.price[r] = record.price;
    this.result(c, r, record, offset);
  }

  private remove(c: BatchColumns, r: number, slot: number): void {
    const v = this.v;
    if (!this.check(c, r, slot)) return;
    const record = readRecord(v, slot, this.record);
    record.state = STATE_FREE;
    record.lastUpdated = this.now(slot);
    const offset = this.takeOffsets(1);
    publishRecord(v, slot, record);
    this.result(c, r, record, offset);
  }

  private result(c: BatchColumns, r: number, record: typeof this.record, offset: number): void {
    c.resAvailable[r] = record.available;
    c.resVersion[r] = record.version;
    c.resLastUpdated[r] = record.lastUpdated;
    c.resOffset[r] = offset;
    c.status[r] = STATUS_APPLIED;
  }
}
