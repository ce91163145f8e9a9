/**
 * The engine as the caller sees it. Everything here runs on the caller's thread and
 * never blocks it: writes go to the pool in batches (router.ts), reads use the
 * records' latch (memory/records.ts) and never wait for a writer.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import { Piscina } from 'piscina';
import {
  counter64,
  createBuffer,
  GLOBAL_ACQUIRED,
  GLOBAL_CONTENDED,
  GLOBAL_WAIT_US,
  HDR_BUSY_US,
  HDR_GLOBAL_LOCK,
  HDR_OFFSET,
  LOCK_ACQUIRED,
  LOCK_CONTENDED,
  LOCK_WAIT_US,
  type SharedViews,
  SLOT_LOCK,
  STATE_LIVE,
  slotBase,
} from '../memory/layout.js';
import {
  ANY_VERSION,
  type BatchTask,
  batchBytes,
  KIND_CREATE,
  KIND_DELETE,
  KIND_ORDER,
  KIND_ORDER_ITEM,
  KIND_SET,
  KIND_UPDATE,
  type ListResult,
  type ListTask,
  SET_NAME,
  SET_PRICE,
  STATUS_APPLIED,
  type WorkerSettings,
} from '../memory/protocol.js';
import {
  decodeName,
  emptyRecord,
  type NameScratch,
  nameScratch,
  readRecord,
} from '../memory/records.js';
import { Catalog } from './catalog.js';
import { isoTime } from './clock.js';
import { InventoryError } from './errors.js';
import {
  type Cached,
  IdempotencyCache,
  KEYS_FULL,
  orderPayload,
  type Payload,
  updatePayload,
} from './idempotency.js';
import { loadInitial } from './initial.js';
import { MAX_ORDER_ITEMS, type ResolvedOptions, resolveOptions } from './options.js';
import { notFound, orderOutcome, queueFull, rowError, rowOutcome } from './outcomes.js';
import {
  describe,
  expectedVersionProblem,
  idProblem,
  invalid,
  nameProblem,
  objectProblem,
  priceProblem,
  readOrder,
  readProduct,
  readUpdate,
} from './requests.js';
import { type Batch, Router } from './router.js';
import { Deferred, follow, ManyCall, openPromise, type Sink, takeResolve } from './sinks.js';
import type {
  CreatedProduct,
  DeleteOptions,
  DeleteOutcome,
  EngineStats,
  HotProduct,
  InventoryOptions,
  ListOptions,
  ListPage,
  LockCounters,
  LockStats,
  LoggerOptions,
  OrderOutcome,
  OrderRequest,
  Product,
  ProductInput,
  QueueFull,
  SetOutcome,
  SetProductRequest,
  UpdateOutcome,
  UpdateRequest,
} from './types.js';

const MAX_LIST_LIMIT = 10_000;
const DEFAULT_LIST_LIMIT = 100;
const HOTTEST = 10;

/** admit*() results: the queue had no room (nothing done) / the row was written. */
const FULL = Symbol('full');
const ADMITTED = Symbol('admitted');

function ignore(): void {}

/** The product a create or set row left behind, as its result columns tell. */
function rowProduct(b: Batch, r: number, name: string): Product {
  const c = b.columns;
  return {
    productId: b.ids[r] as string,
    name,
    available: c.resAvailable[r] as number,
    price: c.price[r] as number,
    version: (c.resVersion[r] as number) >>> 0,
    lastUpdated: isoTime(c.resLastUpdated[r] as number),
  };
}

function round3(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 1000) / 1000 : 0;
}

/** Where the compiled worker is: beside this file in dist/, or in dist/ when run from source. */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  const dir = path.dirname(here);
  const file = here.endsWith('.ts')
    ? path.resolve(dir, '../dist/workers/apply.js')
    : path.resolve(dir, '../workers/apply.js');
  if (!existsSync(file)) {
    throw new InventoryError(
      'WORKER_NOT_BUILT',
      `the compiled worker ${file} is missing: run \`npm run build\` first`,
    );
  }
  return file;
}

function closedError(): InventoryError {
  return new InventoryError('CLOSED', 'the inventory is closed');
}

export class Inventory {
  private readonly catalog: Catalog;
  private readonly router: Router;
  private readonly idem: IdempotencyCache;
  private readonly full: QueueFull;
  private closing = false;
  private closed: Promise<void> | null = null;
  /** Bulk calls still feeding rows, and listings in flight: close waits for them. */
  private feeders = 0;
  private lists = 0;
  private idleWaiters: (() => void)[] = [];
  private queueFullCount = 0;
  private readonly openedAt = performance.now();
  /** Counters of deleted products' locks, so totals never go down. */
  private readonly retired: LockCounters = { acquisitions: 0, contended: 0, waitMs: 0 };
  // Reused by get(); names are cached per slot by (generation, name revision).
  private readonly record = emptyRecord();
  private readonly name: NameScratch = nameScratch();
  private readonly nameGeneration: Int32Array;
  private readonly nameRev: Int32Array;
  private readonly names: string[];

  private constructor(
    private readonly views: SharedViews,
    private readonly pool: Piscina,
    private readonly options: ResolvedOptions,
    private readonly log: Logger,
    catalog: Catalog,
  ) {
    this.catalog = catalog;
    this.idem = new IdempotencyCache(options.idempotency.ttlMs, options.idempotency.maxKeys);
    this.full = queueFull(options.queueSize);
    this.router = new Router(pool, views, options.workers, options.maxBatch, options.queueSize, {
      done: (batch) => this.settle(batch, null),
      failed: (batch, error) => this.settle(batch, error),
    });
    this.nameGeneration = new Int32Array(views.capacity);
    this.nameRev = new Int32Array(views.capacity);
    this.names = new Array<string>(views.capacity).fill('');
  }

  /** Opens an engine: allocates the shared buffer, loads `products`, starts the pool. */
  static async open(options: InventoryOptions = {}): Promise<Inventory> {
    const o = resolveOptions(options);
    const log = makeLogger(o);
    const views = createBuffer(o.capacity);
    const catalog = new Catalog(o.capacity);
    loadInitial(views, catalog, o.products);
    const settings: WorkerSettings = {
      buffer: views.buffer,
      lockMode: o.lockMode,
      workUs: o.simulate.workUs,
      holdUs: o.simulate.holdUs,
      lockTimeoutMs: o.lockTimeoutMs,
      logLevel: log.level,
      logDestination: isLoggerOptions(o.logger) ? (o.logger.destination ?? 1) : 1,
    };
    const filename = workerFile();
    const pool = new Piscina({
      filename,
      minThreads: o.workers,
      maxThreads: o.workers,
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: 1,
      workerData: settings,
    });
    pool.on('error', (error: unknown) => log.error({ err: error }, 'lockstock worker error'));
    const inventory = new Inventory(views, pool, o, log, catalog);
    try {
      await inventory.warmUp();
    } catch (error) {
      await pool.destroy();
      throw new InventoryError(
        'WORKER_FAILED',
        `lockstock workers failed to start: ${String(error)}`,
        {
          cause: error,
        },
      );
    }
    log.info(
      {
        workers: o.workers,
        queueSize: o.queueSize,
        capacity: o.capacity,
        lockMode: o.lockMode,
        products: o.products.length,
        idempotency: o.idempotency,
        simulate: o.simulate,
        lockTimeoutMs: o.lockTimeoutMs,
        maxBatch: o.maxBatch,
        cores: os.availableParallelism(),
      },
      'lockstock opened',
    );
    return inventory;
  }

  /** Runs an empty batch on every thread, so that open fails if a worker cannot start. */
  private async warmUp(): Promise<void> {
    // An empty batch exercises the whole path (module load, buffer attach) and applies nothing.
    const task: BatchTask = {
      type: 'batch',
      batches: [
        { id: 0, buffer: new SharedArrayBuffer(batchBytes(1)), capacity: 1, rows: 0, strings: [] },
      ],
    };
    await Promise.all(Array.from({ length: this.options.workers }, () => this.pool.run(task)));
  }

  // ---------------------------------------------------------------------------
  // Stock updates
  // ---------------------------------------------------------------------------

  /** Applies one stock change. Resolves to its outcome; rejects only on misuse or failure. */
  update(request: UpdateRequest): Promise<UpdateOutcome> {
    if (this.closing) return Promise.reject(closedError());
    const result = this.admitUpdate(request, null, 0);
    if (result instanceof Promise) return result;
    if (result === FULL) return this.turnAway();
    return Promise.resolve(result as UpdateOutcome);
  }

  /**
   * Applies many stock changes, each on its own; resolves to one outcome per request,
   * in input order. Rather than answering queue_full, it waits for room in the queue
   * and feeds its requests as workers take them.
   */
  updateMany(requests: readonly UpdateRequest[]): Promise<UpdateOutcome[]> {
    if (this.closing) return Promise.reject(closedError());
    if (!Array.isArray(requests)) {
      return Promise.reject(
        new InventoryError(
          'INVALID_ARGUMENT',
          `updateMany takes an array, got ${describe(requests)}`,
        ),
      );
    }
    const many = new ManyCall<UpdateOutcome>(requests.length);
    this.feed(requests.length, (i) => {
      const result = this.admitUpdate(requests[i] as UpdateRequest, many, i);
      if (result === FULL) return false;
      if (result instanceof Promise) follow(result, many, i);
      else if (result !== ADMITTED) many.deliver(i, result as UpdateOutcome);
      return true;
    });
    return many.promise;
  }

  /**
   * Validates an update, then answers it at once (an outcome: invalid, unknown
   * product, an idempotency hit), or shares a duplicate's promise, or writes its row.
   * A written row answers `into` at `index`, or, without `into`, a new promise that
   * is returned. FULL: the queue has no room and nothing was done.
   */
  private admitUpdate(
    request: UpdateRequest,
    into: Sink<UpdateOutcome> | null,
    index: number,
  ): UpdateOutcome | Promise<UpdateOutcome> | typeof FULL | typeof ADMITTED {
    const copy = readUpdate(request, '', 'request.', true);
    if ('status' in copy) return copy;
    const key = copy.key;
    let payload: Payload | null = null;
    if (key !== undefined) {
      payload = updatePayload(copy);
      const hit = this.idem.lookup(key, payload);
      if (hit === KEYS_FULL) return FULL;
      if (hit !== undefined) return hit as UpdateOutcome | Promise<UpdateOutcome>;
    }
    request = { productId: copy.productId, delta: copy.delta };
    if (copy.expected !== ANY_VERSION) request.expectedVersion = copy.expected;
    const slot = this.catalog.slotOf(request.productId);
    if (slot === undefined) {
      const outcome = notFound(request.productId);
      if (key !== undefined) this.idem.remember(key, payload as Payload, outcome);
      return outcome;
    }
    if (!this.router.hasRoom(1)) return FULL;
    // The hot path: the row, plus one promise whose resolve function goes beside it;
    // settle() decodes a whole batch in one pass and resolves each row's promise.
    const b = this.router.claim(slot, 1);
    const r = b.rows++;
    const c = b.columns;
    c.kind[r] = KIND_UPDATE;
    c.slot[r] = slot;
    c.generation[r] = this.catalog.generations[slot] as number;
    c.amount[r] = request.delta;
    c.expected[r] = request.expectedVersion ?? ANY_VERSION;
    b.ids[r] = request.productId;
    return this.answerRow(b, r, into, index, key, payload);
  }

  /**
   * Says where row `r`'s outcome goes: to `into` at `index`, or to a new promise that
   * is returned; with a key, also to the idempotency cache and to the duplicates that
   * arrive while the row is in flight.
   */
  private answerRow<O>(
    b: Batch,
    r: number,
    into: Sink<O> | null,
    index: number,
    key: string | undefined,
    payload: Payload | null,
  ): Promise<O> | typeof ADMITTED {
    let promise: Promise<O> | null = null;
    if (into === null || key !== undefined) {
      promise = openPromise<O>();
      b.resolvers[r] = takeResolve<O>();
    }
    if (into !== null) {
      b.sinks[r] = into as Sink<unknown>;
      b.sinkIndex[r] = index;
    }
    if (key !== undefined) {
      const shared = promise as Promise<O>;
      b.keyed[r] = this.idem.begin(key, payload as Payload, shared as Promise<Cached>);
      // With a sink, nobody need listen on the shared promise: never leave it unhandled.
      if (into !== null) shared.catch(ignore);
    }
    return into === null ? (promise as Promise<O>) : ADMITTED;
  }

  /**
   * Calls `admit(i)` for i in [start, count); when it reports no room, waits for a
   * batch to complete and carries on from there.
   */
  private feed(count: number, admit: (i: number) => boolean): void {
    this.feeders++;
    this.feedFrom(0, count, admit);
  }

  private feedFrom(start: number, count: number, admit: (i: number) => boolean): void {
    for (let i = start; i < count; i++) {
      if (!admit(i)) {
        this.router.waitForRoom().then(() => this.feedFrom(i, count, admit));
        return;
      }
    }
    this.feeders--;
    this.checkIdle();
  }

  // ---------------------------------------------------------------------------
  // Orders
  // ---------------------------------------------------------------------------

  /** Applies every item or none. Locks are taken in ascending slot order. */
  order(request: OrderRequest): Promise<OrderOutcome> {
    if (this.closing) return Promise.reject(closedError());
    const result = this.admitOrder(request);
    if (result instanceof Promise) return result;
    if (result === FULL) return this.turnAway();
    return Promise.resolve(result);
  }

  private admitOrder(request: OrderRequest): OrderOutcome | Promise<OrderOutcome> | typeof FULL {
    const copy = readOrder(request, Math.min(MAX_ORDER_ITEMS, this.options.queueSize - 1));
    if ('status' in copy) return copy;
    const items = copy.items.map((i) =>
      i.expected === ANY_VERSION
        ? { productId: i.productId, delta: i.delta }
        : { productId: i.productId, delta: i.delta, expectedVersion: i.expected },
    );
    const key = copy.key;
    const payload = key === undefined ? null : orderPayload(copy.items);
    if (key !== undefined) {
      const hit = this.idem.lookup(key, payload as Payload);
      if (hit === KEYS_FULL) return FULL;
      if (hit !== undefined) return hit as OrderOutcome | Promise<OrderOutcome>;
    }
    let lowest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as UpdateRequest;
      const slot = this.catalog.slotOf(item.productId);
      if (slot === undefined) {
        const outcome: OrderOutcome = { ...notFound(item.productId), failedItem: i };
        if (key !== undefined) this.idem.remember(key, payload as Payload, outcome);
        return outcome;
      }
      if (slot < lowest) lowest = slot;
    }
    if (!this.router.hasRoom(items.length + 1)) return FULL;
    const b = this.router.claim(lowest, items.length + 1);
    const h = b.rows;
    b.rows += items.length + 1;
    const c = b.columns;
    c.kind[h] = KIND_ORDER;
    c.aux[h] = items.length;
    c.slot[h] = lowest;
    b.ids[h] = '';
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as UpdateRequest;
      const r = h + 1 + i;
      const slot = this.catalog.slotOf(item.productId) as number;
      c.kind[r] = KIND_ORDER_ITEM;
      c.slot[r] = slot;
      c.generation[r] = this.catalog.generations[slot] as number;
      c.amount[r] = item.delta;
      c.expected[r] = item.expectedVersion ?? ANY_VERSION;
      b.ids[r] = item.productId;
    }
    return this.answerRow<OrderOutcome>(b, h, null, 0, key, payload) as Promise<OrderOutcome>;
  }

  // ---------------------------------------------------------------------------
  // Reads
  // ---------------------------------------------------------------------------

  /**
   * The product's last committed state, or undefined. Synchronous and never waits,
   * even while a worker holds the product's write lock.
   */
  get(productId: string): Product | undefined {
    if (this.closing) throw closedError();
    if (typeof productId !== 'string') return undefined;
    const slot = this.catalog.slotOf(productId);
    if (slot === undefined) return undefined;
    const generation = this.catalog.generations[slot] as number;
    let rec = readRecord(this.views, slot, this.record);
    if (rec.state !== STATE_LIVE || rec.generation !== generation) return undefined;
    let name: string;
    if (this.nameGeneration[slot] === generation && this.nameRev[slot] === rec.nameRev) {
      name = this.names[slot] as string;
    } else {
      rec = readRecord(this.views, slot, this.record, this.name);
      if (rec.state !== STATE_LIVE || rec.generation !== generation) return undefined;
      name = decodeName(this.name);
      this.nameGeneration[slot] = generation;
      this.nameRev[slot] = rec.nameRev;
      this.names[slot] = name;
    }
    return {
      productId,
      name,
      available: rec.available,
      price: rec.price,
      version: rec.version,
      lastUpdated: isoTime(rec.lastUpdated),
    };
  }

  /**
   * A page of products in ascending id order, copied under the global lock in shared
   * mode: a consistent cut in which no order or other change shows half-applied.
   */
  async list(options: ListOptions = {}): Promise<ListPage> {
    if (this.closing) throw closedError();
    const problem = objectProblem(options);
    if (problem !== null) throw new InventoryError('INVALID_ARGUMENT', `list options ${problem}`);
    const limit = options.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new InventoryError(
        'INVALID_ARGUMENT',
        `list limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${describe(limit)}`,
      );
    }
    if (options.after !== undefined && typeof options.after !== 'string') {
      throw new InventoryError(
        'INVALID_ARGUMENT',
        `list after must be a product id, got ${describe(options.after)}`,
      );
    }
    const ids = this.catalog.sortedIds();
    const start = options.after === undefined ? 0 : this.catalog.indexAfter(options.after);
    const page = ids.slice(start, start + limit);
    const slots = new Int32Array(page.length);
    const generations = new Int32Array(page.length);
    page.forEach((id, i) => {
      const slot = this.catalog.slotOf(id) as number;
      slots[i] = slot;
      generations[i] = this.catalog.generations[slot] as number;
    });
    const task: ListTask = { type: 'list', slots, generations };
    this.lists++;
    let cut: ListResult;
    try {
      cut = await this.router.run<ListResult>(task);
    } catch (error) {
      // The worker's error arrives as a plain Error: name what went wrong.
      const message = error instanceof Error ? error.message : String(error);
      throw /not acquired within/.test(message)
        ? new InventoryError('LOCK_TIMEOUT', `list: ${message}`, { cause: error })
        : new InventoryError('WORKER_FAILED', `list: ${message}`, { cause: error });
    } finally {
      this.lists--;
      this.checkIdle();
    }
    const items: Product[] = [];
    for (let i = 0; i < page.length; i++) {
      if (cut.live[i] !== 1) continue;
      items.push({
        productId: page[i] as string,
        name: cut.names[i] as string,
        available: cut.available[i] as number,
        price: cut.price[i] as number,
        version: cut.version[i] as number,
        lastUpdated: isoTime(cut.lastUpdated[i] as number),
      });
    }
    const next = start + limit < ids.length ? (page[page.length - 1] ?? null) : null;
    return { items, next };
  }

  // ---------------------------------------------------------------------------
  // Admin
  // ---------------------------------------------------------------------------

  /**
   * Creates products, all or none: throws INVALID_ARGUMENT, PRODUCT_EXISTS or
   * CAPACITY_EXHAUSTED, creating nothing, if any cannot be created.
   */
  createProducts(products: readonly ProductInput[]): Promise<CreatedProduct[]> {
    if (this.closing) return Promise.reject(closedError());
    try {
      this.checkNewProducts(products);
    } catch (error) {
      return Promise.reject(error);
    }
    // What was checked is what gets written, even if the caller changes its array
    // while the rows wait for room. Slots are assigned now, so that later calls see
    // the ids as taken.
    const checked = products.map((p) => ({
      productId: p.productId,
      name: p.name ?? '',
      available: p.available,
      price: p.price ?? 0,
    }));
    const slots = checked.map((p) => this.catalog.assign(p.productId));
    const many = new ManyCall<CreatedProduct>(checked.length);
    this.feed(checked.length, (i) => {
      if (!this.router.hasRoom(1)) return false;
      const p = checked[i] as Required<ProductInput>;
      const slot = slots[i] as number;
      const b = this.router.claim(slot, 1);
      const r = b.rows++;
      const c = b.columns;
      c.kind[r] = KIND_CREATE;
      c.slot[r] = slot;
      c.generation[r] = this.catalog.generations[slot] as number;
      c.amount[r] = p.available;
      c.price[r] = p.price;
      c.str[r] = b.strings.length;
      b.strings.push(p.productId, p.name);
      b.sinks[r] = many as Sink<unknown>;
      b.sinkIndex[r] = i;
      b.ids[r] = p.productId;
      return true;
    });
    return many.promise;
  }

  private checkNewProducts(products: readonly ProductInput[]): void {
    if (!Array.isArray(products)) {
      throw new InventoryError(
        'INVALID_ARGUMENT',
        `createProducts takes an array, got ${describe(products)}`,
      );
    }
    const seen = new Set<string>();
    products.forEach((p, i) => {
      const problem = readProduct(p, `products[${i}]`);
      if (typeof problem === 'string') throw new InventoryError('INVALID_ARGUMENT', problem);
      if (seen.has(p.productId) || this.catalog.has(p.productId)) {
        throw new InventoryError(
          'PRODUCT_EXISTS',
          `product ${JSON.stringify(p.productId)} already exists`,
        );
      }
      seen.add(p.productId);
    });
    if (products.length > this.catalog.available) {
      throw new InventoryError(
        'CAPACITY_EXHAUSTED',
        `${products.length} products do not fit: ${this.catalog.available} of ${this.catalog.capacity} slots are free`,
      );
    }
  }

  /** Changes a product's name and/or price; bumps its version and takes an offset. */
  setProduct(request: SetProductRequest): Promise<SetOutcome> {
    if (this.closing) return Promise.reject(closedError());
    const bad = checkSet(request);
    if (bad !== null) return Promise.resolve(bad);
    const slot = this.catalog.slotOf(request.productId);
    if (slot === undefined) return Promise.resolve(notFound(request.productId));
    if (!this.router.hasRoom(1)) return this.turnAway();
    const d = new Deferred<SetOutcome>();
    const b = this.writeRow(KIND_SET, slot, request.productId, request.expectedVersion, d);
    const r = b.rows - 1;
    const c = b.columns;
    c.aux[r] =
      (request.price !== undefined ? SET_PRICE : 0) | (request.name !== undefined ? SET_NAME : 0);
    c.price[r] = request.price ?? 0;
    c.str[r] = b.strings.length;
    b.strings.push(request.name ?? '');
    return d.promise;
  }

  /** Deletes a product, freeing its slot and its lock for reuse. */
  deleteProduct(productId: string, options: DeleteOptions = {}): Promise<DeleteOutcome> {
    if (this.closing) return Promise.reject(closedError());
    const problem = idProblem(productId);
    if (problem !== null) return Promise.resolve(invalid('productId', problem));
    const optionsProblem = objectProblem(options);
    if (optionsProblem !== null) return Promise.resolve(invalid('options', optionsProblem));
    const versionProblem = expectedVersionProblem(options.expectedVersion);
    if (versionProblem !== null) return Promise.resolve(invalid('expectedVersion', versionProblem));
    const slot = this.catalog.slotOf(productId);
    if (slot === undefined) return Promise.resolve(notFound(productId));
    if (!this.router.hasRoom(1)) return this.turnAway();
    const d = new Deferred<DeleteOutcome>();
    this.writeRow(KIND_DELETE, slot, productId, options.expectedVersion, d);
    return d.promise;
  }

  /**
   * Writes the columns every single-product admin row has, answering `sink`; returns
   * the batch, whose last row it is.
   */
  private writeRow(
    kind: number,
    slot: number,
    productId: string,
    expectedVersion: number | undefined,
    sink: Sink<never>,
  ): Batch {
    const b = this.router.claim(slot, 1);
    const r = b.rows++;
    const c = b.columns;
    c.kind[r] = kind;
    c.slot[r] = slot;
    c.generation[r] = this.catalog.generations[slot] as number;
    c.expected[r] = expectedVersion ?? ANY_VERSION;
    b.sinks[r] = sink as Sink<unknown>;
    b.ids[r] = productId;
    return b;
  }

  /** The answer to a single call that found the queue full. */
  private turnAway(): Promise<QueueFull> {
    this.queueFullCount++;
    return Promise.resolve(queueFull(this.options.queueSize));
  }

  // ---------------------------------------------------------------------------
  // Results
  // ---------------------------------------------------------------------------

  /** Answers every row of a completed (or failed) batch, in one pass. */
  private settle(b: Batch, error: unknown): void {
    const c = b.columns;
    for (let r = 0; r < b.rows; ) {
      const kind = c.kind[r];
      let outcome: unknown;
      if (kind === KIND_UPDATE) outcome = rowOutcome(c, r, b.ids[r] as string);
      else if (kind === KIND_ORDER) outcome = orderOutcome(c, r, b.ids);
      else if (kind === KIND_CREATE) outcome = this.created(b, r);
      else if (kind === KIND_SET) outcome = this.setOutcome(b, r);
      else outcome = this.deleted(b, r);
      if (outcome !== null) this.answer(b, r, outcome);
      else this.fail(b, r, kind as number, this.failure(b, r, error));
      r += kind === KIND_ORDER ? (c.aux[r] as number) + 1 : 1;
    }
    this.checkIdle();
  }

  private answer(b: Batch, r: number, outcome: unknown): void {
    const entry = b.keyed[r];
    if (entry !== undefined) this.idem.complete(entry, outcome as Cached);
    const resolve = b.resolvers[r];
    if (resolve !== undefined) resolve(outcome as never);
    b.sinks[r]?.deliver(b.sinkIndex[r] as number, outcome);
  }

  /** Row `r` was not applied: nothing is cached under its key, so a retry can apply. */
  private fail(b: Batch, r: number, kind: number, error: InventoryError): void {
    const entry = b.keyed[r];
    if (entry !== undefined) this.idem.abandon(entry);
    const resolve = b.resolvers[r];
    if (resolve !== undefined) resolve(Promise.reject(error) as never);
    b.sinks[r]?.fail(b.sinkIndex[r] as number, error);
    if (kind === KIND_CREATE) this.catalog.release(b.columns.slot[r] as number);
  }

  /** The error for a row that was not applied. */
  private failure(b: Batch, r: number, cause: unknown): InventoryError {
    const c = b.columns;
    const subject =
      c.kind[r] === KIND_ORDER
        ? `the order of ${b.ids.slice(r + 1, r + 1 + (c.aux[r] as number)).join(', ')}`
        : `product ${JSON.stringify(b.ids[r])}`;
    const error = rowError(c.status[r] as number, subject);
    if (cause !== null) error.cause = cause;
    return error;
  }

  private created(b: Batch, r: number): CreatedProduct | null {
    const c = b.columns;
    if (c.status[r] !== STATUS_APPLIED) return null;
    const name = b.strings[(c.str[r] as number) + 1] as string;
    this.cacheName(c.slot[r] as number, c.generation[r] as number, 1, name);
    return { ...rowProduct(b, r, name), offset: c.resOffset[r] as number };
  }

  private setOutcome(b: Batch, r: number): SetOutcome | null {
    const c = b.columns;
    const productId = b.ids[r] as string;
    if (c.status[r] !== STATUS_APPLIED) return rowOutcome(c, r, productId) as SetOutcome | null;
    const slot = c.slot[r] as number;
    const generation = c.generation[r] as number;
    const named = ((c.aux[r] as number) & SET_NAME) !== 0;
    const name = named
      ? (b.strings[c.str[r] as number] as string)
      : this.currentName(slot, generation);
    return { status: 'applied', product: rowProduct(b, r, name), offset: c.resOffset[r] as number };
  }

  private deleted(b: Batch, r: number): DeleteOutcome | null {
    const c = b.columns;
    const productId = b.ids[r] as string;
    if (c.status[r] !== STATUS_APPLIED) return rowOutcome(c, r, productId) as DeleteOutcome | null;
    const slot = c.slot[r] as number;
    this.retire(slot);
    this.catalog.release(slot);
    return {
      status: 'applied',
      productId,
      version: (c.resVersion[r] as number) >>> 0,
      offset: c.resOffset[r] as number,
    };
  }

  private cacheName(slot: number, generation: number, rev: number, name: string): void {
    this.nameGeneration[slot] = generation;
    this.nameRev[slot] = rev;
    this.names[slot] = name;
  }

  private currentName(slot: number, generation: number): string {
    const rec = readRecord(this.views, slot, this.record, this.name);
    if (rec.generation !== generation) return '';
    const name = decodeName(this.name);
    this.cacheName(slot, generation, rec.nameRev, name);
    return name;
  }

  // ---------------------------------------------------------------------------
  // Statistics
  // ---------------------------------------------------------------------------

  /** Lock counters, read from shared memory; cheap enough to poll. */
  lockStats(): LockStats {
    if (this.closing) throw closedError();
    const i32 = this.views.i32;
    const i64 = this.views.i64;
    const g = HDR_GLOBAL_LOCK;
    const global: LockCounters = {
      acquisitions: i32[g + GLOBAL_ACQUIRED] as number,
      contended: i32[g + GLOBAL_CONTENDED] as number,
      waitMs: Number(i64[counter64(g + GLOBAL_WAIT_US)]) / 1000,
    };
    if (this.options.lockMode === 'global') {
      return {
        total_product_locks: 0,
        lock_manager_type: 'global',
        ...global,
        hottest: [],
        global,
      };
    }
    const totals: LockCounters = { ...this.retired };
    const hot: HotProduct[] = [];
    for (const [productId, slot] of this.catalog.entries()) {
      const counters = this.lockCounters(slot);
      totals.acquisitions += counters.acquisitions;
      totals.contended += counters.contended;
      totals.waitMs += counters.waitMs;
      if (counters.contended > 0) hot.push({ productId, ...counters });
    }
    hot.sort((a, b) => b.contended - a.contended || b.waitMs - a.waitMs);
    return {
      total_product_locks: this.catalog.size,
      lock_manager_type: 'fine_grained_per_product',
      ...totals,
      hottest: hot.slice(0, HOTTEST),
      global,
    };
  }

  private lockCounters(slot: number): LockCounters {
    const lock = slotBase(slot) + SLOT_LOCK;
    return {
      acquisitions: Atomics.load(this.views.i32, lock + LOCK_ACQUIRED),
      contended: Atomics.load(this.views.i32, lock + LOCK_CONTENDED),
      waitMs: Number(Atomics.load(this.views.i64, counter64(lock + LOCK_WAIT_US))) / 1000,
    };
  }

  /** Keeps a deleted product's lock counters in the totals. */
  private retire(slot: number): void {
    const counters = this.lockCounters(slot);
    this.retired.acquisitions += counters.acquisitions;
    this.retired.contended += counters.contended;
    this.retired.waitMs += counters.waitMs;
  }

  /** Engine counters (an addition to the documented contract). */
  stats(): EngineStats {
    if (this.closing) throw closedError();
    return this.counters();
  }

  private counters(): EngineStats {
    const wait = this.pool.histogram.waitTime;
    return {
      products: this.catalog.size,
      capacity: this.catalog.capacity,
      workers: this.options.workers,
      queued: this.router.queued(),
      queueSize: this.options.queueSize,
      tasksInFlight: this.router.tasksInFlight,
      batches: this.router.batches,
      rows: this.router.rows,
      replays: this.idem.replays,
      queueFull: this.queueFullCount,
      idempotencyKeys: this.idem.size,
      offset: Number(Atomics.load(this.views.i64, counter64(HDR_OFFSET))),
      poolUtilization: this.utilization(),
      taskWaitMs: {
        p50: round3(wait.p50),
        p99: round3(wait.p99),
        max: round3(wait.max),
      },
    };
  }

  /** Share of the pool threads' time spent applying batches since open. */
  private utilization(): number {
    const busyMs = Number(Atomics.load(this.views.i64, counter64(HDR_BUSY_US))) / 1000;
    const capacityMs = (performance.now() - this.openedAt) * this.options.workers;
    return capacityMs > 0 ? Math.min(1, busyMs / capacityMs) : 0;
  }

  // ---------------------------------------------------------------------------
  // Closing
  // ---------------------------------------------------------------------------

  /**
   * Stops taking calls, lets every call already made settle with its real outcome,
   * then stops the pool. Calls made after close begins throw CLOSED.
   */
  close(): Promise<void> {
    if (this.closed !== null) return this.closed;
    this.closing = true;
    this.closed = (async () => {
      this.router.flush(true);
      await new Promise<void>((resolve) => {
        this.idleWaiters.push(resolve);
        this.checkIdle();
      });
      const stats = this.counters();
      await this.pool.destroy();
      this.log.info(
        { batches: stats.batches, rows: stats.rows, offset: stats.offset, replays: stats.replays },
        'lockstock closed',
      );
      this.log.flush?.();
    })();
    return this.closed;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0) return;
    if (this.feeders > 0 || this.lists > 0 || this.router.tasksInFlight > 0) return;
    if (this.router.stagedRows > 0) {
      this.router.flush(true);
      return;
    }
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

function isLoggerOptions(l: ResolvedOptions['logger']): l is Required<LoggerOptions> {
  return typeof (l as Logger).child !== 'function';
}

function makeLogger(o: ResolvedOptions): Logger {
  if (!isLoggerOptions(o.logger)) return o.logger;
  return pino(
    { name: 'lockstock', level: o.logger.level ?? 'info' },
    pino.destination({ dest: o.logger.destination ?? 1, sync: true, mkdir: true, append: true }),
  );
}

function checkSet(request: SetProductRequest) {
  const problem = objectProblem(request);
  if (problem !== null) return invalid('request', problem);
  const checks: [string, string | null][] = [
    ['productId', idProblem(request.productId)],
    ['expectedVersion', expectedVersionProblem(request.expectedVersion)],
    ['name', request.name === undefined ? null : nameProblem(request.name)],
    ['price', request.price === undefined ? null : priceProblem(request.price)],
  ];
  for (const [field, p] of checks) if (p !== null) return invalid(field, p);
  if (request.name === undefined && request.price === undefined) {
    return invalid('request', 'must set name or price');
  }
  return null;
}
