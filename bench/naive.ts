/**
 * The naive routing a user might try first: one Piscina task per update, and one per
 * order. Same request reading, rule, outcomes, idempotency, shared records and locks
 * as lockstock; every call pays a whole task round trip.
 */
import { Piscina } from 'piscina';
import {
  createBuffer,
  LOCK_ACQUIRED,
  type SharedViews,
  SLOT_LOCK,
  STATE_LIVE,
  slotBase,
} from '../memory/layout.js';
import { STATUS_APPLIED } from '../memory/protocol.js';
import { decodeName, emptyRecord, nameScratch, readRecord } from '../memory/records.js';
import { Catalog } from '../src/catalog.js';
import { isoTime } from '../src/clock.js';
import {
  type Cached,
  IdempotencyCache,
  type InFlight,
  KEYS_FULL,
  orderPayload,
  type Payload,
  updatePayload,
} from '../src/idempotency.js';
import { loadInitialNow } from '../src/initial.js';
import { MAX_ORDER_ITEMS, resolveOptions } from '../src/options.js';
import {
  failedOrder,
  notFound,
  queueFull,
  rowError,
  type StockOutcome,
  stockOutcome,
} from '../src/outcomes.js';
import { readOrder, readUpdate, type UpdateCopy } from '../src/requests.js';
import type {
  Applied,
  OrderOutcome,
  OrderRequest,
  Product,
  ProductInput,
  UpdateOutcome,
  UpdateRequest,
} from '../src/types.js';
import { compiledFile } from '../src/worker-file.js';
import {
  type NaiveOrderResult,
  type NaiveOrderTask,
  type NaiveResult,
  type NaiveTask,
  type NaiveWorkerData,
  NO_SLOT,
} from './naive-protocol.js';

const LOCK_TIMEOUT_MS = 10_000;
const TTL_MS = 120_000;

/** The compiled one-task-per-update worker. */
function workerFile(): string {
  return compiledFile('bench/naive-worker.js', 'worker');
}

export class NaiveInventory {
  private readonly views: SharedViews;
  private readonly catalog: Catalog;
  private readonly pool: Piscina;
  private readonly idem: IdempotencyCache;
  private readonly maxKeys: number;
  private readonly record = emptyRecord();
  private readonly name = nameScratch();

  constructor(options: {
    products: ProductInput[];
    workers: number;
    workUs?: number;
    holdUs?: number;
    maxKeys?: number;
    /** Bound on every lock wait, as lockstock's lockTimeoutMs. */
    lockTimeoutMs?: number;
  }) {
    this.maxKeys = options.maxKeys ?? 1_000_000;
    this.idem = new IdempotencyCache(TTL_MS, this.maxKeys);
    this.views = createBuffer(Math.max(1, options.products.length));
    this.catalog = new Catalog(this.views.capacity);
    // Each initial product takes one offset, as in lockstock.
    loadInitialNow(
      this.views,
      this.catalog,
      resolveOptions({ products: options.products }, {}).products,
    );
    this.pool = new Piscina({
      filename: workerFile(),
      minThreads: options.workers,
      maxThreads: options.workers,
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData: {
        buffer: this.views.buffer,
        workUs: options.workUs ?? 0,
        holdUs: options.holdUs ?? 0,
        lockTimeoutMs: options.lockTimeoutMs ?? LOCK_TIMEOUT_MS,
      } satisfies NaiveWorkerData,
    });
  }

  async update(request: UpdateRequest): Promise<UpdateOutcome> {
    const copy = readUpdate(request, '', 'request.', true);
    if ('status' in copy) return copy;
    const key = copy.key;
    const payload = key === undefined ? null : updatePayload(copy);
    if (key !== undefined) {
      const hit = this.idem.lookup(key, payload as Payload);
      if (hit === KEYS_FULL) return this.keysFull();
      if (hit !== undefined) return hit as UpdateOutcome | Promise<UpdateOutcome>;
    }
    const slot = this.catalog.slotOf(copy.productId);
    if (slot === undefined) {
      const outcome = notFound(copy.productId);
      if (key !== undefined) this.idem.remember(key, payload as Payload, outcome);
      return outcome;
    }
    const task: NaiveTask = {
      kind: 'update',
      slot,
      generation: this.catalog.generations[slot] as number,
      delta: copy.delta,
      expected: copy.expected,
    };
    const pending = this.pool.run(task).then((r: NaiveResult) => updateOutcome(copy.productId, r));
    if (key === undefined) return pending;
    return this.keyed(key, payload as Payload, pending);
  }

  /** Applies every item or none: one task, which locks the items in ascending slot order. */
  async order(request: OrderRequest): Promise<OrderOutcome> {
    const copy = readOrder(request, MAX_ORDER_ITEMS);
    if ('status' in copy) return copy;
    const key = copy.key;
    const payload = key === undefined ? null : orderPayload(copy.items);
    if (key !== undefined) {
      const hit = this.idem.lookup(key, payload as Payload);
      if (hit === KEYS_FULL) return this.keysFull();
      if (hit !== undefined) return hit as OrderOutcome | Promise<OrderOutcome>;
    }
    const items = copy.items;
    const slots = new Array<number>(items.length);
    const generations = new Array<number>(items.length);
    items.forEach((item, i) => {
      // An unknown product is checked in its place among the items, by the worker:
      // the order names the first item that fails, whatever the reason.
      const slot = this.catalog.slotOf(item.productId);
      slots[i] = slot ?? NO_SLOT;
      generations[i] = slot === undefined ? 0 : (this.catalog.generations[slot] as number);
    });
    const task: NaiveOrderTask = {
      kind: 'order',
      slots,
      generations,
      deltas: items.map((i) => i.delta),
      expected: items.map((i) => i.expected),
    };
    const pending = this.pool.run(task).then((r: NaiveOrderResult) => orderOutcome(items, r));
    if (key === undefined) return pending;
    return this.keyed(key, payload as Payload, pending);
  }

  /** The product's last committed state, read through the latch: never waits. */
  get(productId: string): Product | undefined {
    const slot = this.catalog.slotOf(productId);
    if (slot === undefined) return undefined;
    const rec = readRecord(this.views, slot, this.record, this.name);
    if (rec.state !== STATE_LIVE || rec.generation !== this.catalog.generations[slot]) {
      return undefined;
    }
    return {
      productId,
      name: decodeName(this.name),
      available: rec.available,
      price: rec.price,
      version: rec.version,
      lastUpdated: isoTime(rec.lastUpdated),
    };
  }

  /**
   * How many times the product's lock has been taken (lockstock's lockStats counts the
   * same words): lets a test wait for a change to hold the lock rather than sleep.
   */
  lockAcquisitions(productId: string): number {
    const slot = this.catalog.slotOf(productId);
    if (slot === undefined) return 0;
    return Atomics.load(this.views.i32, slotBase(slot) + SLOT_LOCK + LOCK_ACQUIRED);
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }

  /**
   * Runs a keyed request: its duplicates share `pending` while it flies; its outcome is
   * remembered (complete() leaves out invalid_request); if the task rejects (a lock
   * not taken in time, a worker that died), the key is abandoned so that a retry can
   * apply, and the call rejects.
   */
  private async keyed<O extends Cached>(key: string, payload: Payload, pending: Promise<O>) {
    const entry: InFlight = this.idem.begin(key, payload, pending);
    let outcome: O;
    try {
      outcome = await pending;
    } catch (error) {
      this.idem.abandon(entry);
      throw error;
    }
    this.idem.complete(entry, outcome);
    return outcome;
  }

  /**
   * maxKeys keys are in flight and a new one cannot be remembered: turned away as
   * lockstock turns it away, with the bound that was met.
   */
  private keysFull() {
    return queueFull(this.maxKeys);
  }
}

function updateOutcome(productId: string, r: NaiveResult): UpdateOutcome {
  const outcome = stockOutcome(
    r.status,
    productId,
    r.available,
    r.version,
    r.lastUpdated,
    r.offset,
  );
  if (outcome === null) throw rowError(r.status, `product ${JSON.stringify(productId)}`);
  return outcome;
}

function orderOutcome(items: readonly UpdateCopy[], r: NaiveOrderResult): OrderOutcome {
  if (r.status === STATUS_APPLIED) {
    return {
      status: 'applied',
      items: items.map((item, i) => ({
        productId: item.productId,
        available: r.available[i] as number,
        version: r.version[i] as number,
        lastUpdated: isoTime(r.lastUpdated[i] as number),
        offset: r.offset + i,
      })),
    };
  }
  const subject = `the order of ${items.map((i) => i.productId).join(', ')}`;
  // No item was examined (a lock was not taken in time): the call fails.
  if (r.failedItem < 0) throw rowError(r.status, subject);
  const failed = items[r.failedItem] as UpdateCopy;
  const item = stockOutcome(
    r.status,
    failed.productId,
    r.available[0] as number,
    r.version[0] as number,
    0,
    0,
    `items[${r.failedItem}].delta`,
  );
  if (item === null || item.status === 'applied') throw rowError(r.status, subject);
  return failedOrder(item as Exclude<StockOutcome, Applied>, r.failedItem);
}
