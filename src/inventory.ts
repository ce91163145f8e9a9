/**
 * The engine as the caller sees it: a thin facade. Each call reads its request once
 * (requests.ts), then hands the copy to the part that does the work:
 *
 *   startup.ts       logger, buffer, initial catalog, pool
 *   stock-calls.ts   update, updateMany, order → rows
 *   admin-calls.ts   createProducts, setProduct, deleteProduct → rows
 *   router.ts        rows → batches on the pool's threads
 *   settle.ts        batches back → outcomes, idempotency, catalog
 *   reads.ts         get (never waits), list (a consistent cut)
 *   durable.ts       answers held until their changes are durable
 *   feed.ts          changes, checkpoint, snapshot (the journal thread's side)
 *   thread-death.ts  what a dead pool thread held, repaired and freed
 *   stats.ts         lockStats, stats, from shared memory
 *
 * Everything here runs on the caller's thread and never blocks it. A call that
 * returns a promise never throws: misuse rejects.
 */
import os from 'node:os';
import type { Logger } from 'pino';
import type { Piscina } from 'piscina';
import type { SharedViews } from '../memory/layout.js';
import { Activity } from './activity.js';
import { AdminCalls } from './admin-calls.js';
import type { Catalog } from './catalog.js';
import { DurableGate } from './durable.js';
import { InventoryError } from './errors.js';
import { Feed } from './feed.js';
import { IdempotencyCache } from './idempotency.js';
import type { JournalClient, JournalStats } from './journal/client.js';
import { LIST_LIMIT, MAX_ORDER_ITEMS, type ResolvedOptions, resolveOptions } from './options.js';
import { queueFull } from './outcomes.js';
import { NameCache, Reads } from './reads.js';
import {
  type ProductCopy,
  readArray,
  readDelete,
  readListOptions,
  readOrder,
  readProduct,
  readSet,
  readUpdate,
  type UpdateCopy,
} from './requests.js';
import { restoreKeys } from './restore-keys.js';
import { Router } from './router.js';
import { RowWriter } from './rows.js';
import { Settler } from './settle.js';
import { recording, type Started, start } from './startup.js';
import { engineStats, LockCounterReader } from './stats.js';
import { FULL, StockCalls } from './stock-calls.js';
import { ThreadDeaths } from './thread-death.js';
import type {
  ChangesOptions,
  ChangesPage,
  Checkpoint,
  CreatedProduct,
  DeleteOptions,
  DeleteOutcome,
  EngineStats,
  InvalidRequest,
  InventoryOptions,
  ListOptions,
  ListPage,
  LockStats,
  OrderOutcome,
  OrderRequest,
  Product,
  ProductInput,
  QueueFull,
  SetOutcome,
  SetProductRequest,
  Snapshot,
  UpdateOutcome,
  UpdateRequest,
} from './types.js';

function closedError(): InventoryError {
  return new InventoryError('CLOSED', 'the inventory is closed');
}

export class Inventory {
  private readonly router: Router;
  private readonly idem: IdempotencyCache;
  /** Idempotency keys brought back from the data directory at open. */
  private readonly restoredKeys: number;
  private readonly activity: Activity;
  private readonly stock: StockCalls;
  private readonly admin: AdminCalls;
  private readonly reads: Reads;
  private readonly locks: LockCounterReader;
  private readonly maxOrderItems: number;
  private readonly openedAt = performance.now();
  private closing = false;
  private closed: Promise<void> | null = null;
  private queueFullCount = 0;
  private readonly views: SharedViews;
  private readonly catalog: Catalog;
  private readonly pool: Piscina;
  private readonly log: Logger;
  private readonly gate: DurableGate;
  private readonly feed: Feed;
  private readonly journal: JournalClient;
  private readonly deaths: ThreadDeaths;

  private readonly options: ResolvedOptions;

  private constructor(
    private readonly started: Started,
    options: ResolvedOptions,
  ) {
    // The initial catalog is in the buffer now. Its array (options.ts's copy) would keep
    // every product object the caller passed alive for the engine's life: ~115 MB of
    // heap at a million products, after the caller has let go of its own.
    this.options = { ...options, products: [] };
    const o = this.options;
    const { views, catalog, pool, changes, journal } = started;
    this.views = views;
    this.catalog = catalog;
    this.pool = pool;
    this.log = started.log;
    this.journal = journal;
    this.idem = new IdempotencyCache(o.idempotency.ttlMs, o.idempotency.maxKeys);
    this.locks = new LockCounterReader(views, catalog, o.lockMode);
    this.gate = new DurableGate(views, changes, journal, o.dataDir !== null);
    journal.onFailure((error) =>
      this.log.fatal(
        { err: error },
        'lockstock journal failed: changes are no longer made durable; writes now fail with WORKER_FAILED',
      ),
    );
    this.deaths = new ThreadDeaths(views, changes, o.lockTimeoutMs, started.log);
    const names = new NameCache(views.capacity);
    const settler = new Settler(this.idem, catalog, names, this.locks, this.deaths);
    this.router = new Router(pool, views, o.workers, o.maxBatch, o.queueSize, {
      done: (batch, batchNames) => {
        settler.settle(batch, null, batchNames);
        this.activity.checkIdle();
      },
      failed: (batch, error) => {
        settler.settle(batch, error, null);
        this.activity.checkIdle();
      },
      drained: () => this.activity.checkIdle(),
      whenDurable: (answer) => this.gate.whenDurable(answer),
      notDurable: (batch, error) => {
        settler.notDurable(batch, error);
        this.activity.checkIdle();
      },
      taskFailed: () => this.repairDeadThreads(),
    });
    this.activity = new Activity(this.router);
    const rows = new RowWriter(this.router, catalog);
    this.stock = new StockCalls(this.router, catalog, rows, this.idem, this.activity);
    this.admin = new AdminCalls(this.router, catalog, rows, this.activity);
    this.reads = new Reads(views, catalog, this.router, names);
    this.feed = new Feed(journal, this.gate, this.reads, o.dataDir !== null, recording(o));
    this.maxOrderItems = Math.min(MAX_ORDER_ITEMS, o.queueSize - 1);
    this.restoredKeys =
      started.recovered === null ? 0 : restoreKeys(this.idem, started.recovered.keys);
  }

  /**
   * A task failed: if its thread died, free what it held (thread-death.ts) before its
   * rows are answered, so that they are answered truthfully.
   */
  private repairDeadThreads(): void {
    const alive = new Set(this.pool.threads.map((t) => t.threadId));
    this.deaths.repair(alive);
  }

  /**
   * Opens an engine: reads and checks every option, opens the log destination,
   * allocates the shared buffer, loads `products`, starts the pool. A failing open
   * leaves nothing running.
   */
  static async open(options: InventoryOptions = {}): Promise<Inventory> {
    const o = resolveOptions(options);
    const started = await start(o);
    const { log, recovered } = started;
    const inventory = new Inventory(started, o);
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
        dataDir: o.dataDir,
        durability: o.dataDir === null ? 'memory' : o.durability,
        recovered:
          recovered === null
            ? null
            : {
                products: recovered.count,
                nextOffset: recovered.nextOffset,
                keys: inventory.restoredKeys,
              },
        cores: os.availableParallelism(),
      },
      'lockstock opened',
    );
    return inventory;
  }

  // --- Stock changes ---------------------------------------------------------

  /** Applies one stock change. Resolves to its outcome; rejects only on misuse or failure. */
  update(request: UpdateRequest): Promise<UpdateOutcome> {
    if (this.closing) return Promise.reject(closedError());
    let copy: UpdateCopy | InvalidRequest;
    try {
      copy = readUpdate(request, '', 'request.', true);
    } catch (error) {
      return Promise.reject(error);
    }
    if ('status' in copy) return Promise.resolve(copy);
    const result = this.stock.update(copy);
    if (result instanceof Promise) return result;
    if (result === FULL) return this.turnAway();
    return Promise.resolve(result);
  }

  /**
   * Applies many stock changes, each on its own; resolves to one outcome per request,
   * in input order. Every element is read before any is applied: one that cannot be
   * read rejects the call (INVALID_ARGUMENT, naming it) with nothing applied; one
   * that reads but is wrong answers invalid_request in its place. Rather than answer
   * queue_full, it waits for room in the queue.
   */
  updateMany(requests: readonly UpdateRequest[]): Promise<UpdateOutcome[]> {
    if (this.closing) return Promise.reject(closedError());
    let copies: (UpdateCopy | InvalidRequest)[];
    try {
      copies = readArray(requests, 'requests').map((r, i) =>
        readUpdate(r, '', `requests[${i}].`, true),
      );
    } catch (error) {
      return Promise.reject(error);
    }
    return this.stock.updateMany(copies);
  }

  /** Applies every item or none. Locks are taken in ascending slot order. */
  order(request: OrderRequest): Promise<OrderOutcome> {
    if (this.closing) return Promise.reject(closedError());
    let copy: ReturnType<typeof readOrder>;
    try {
      copy = readOrder(request, this.maxOrderItems);
    } catch (error) {
      return Promise.reject(error);
    }
    if ('status' in copy) return Promise.resolve(copy);
    const result = this.stock.order(copy);
    if (result instanceof Promise) return result;
    if (result === FULL) return this.turnAway();
    return Promise.resolve(result);
  }

  // --- Reads -------------------------------------------------------------------

  /**
   * The product's last committed state, or undefined. Synchronous and never waits,
   * even while a worker holds the product's write lock.
   */
  get(productId: string): Product | undefined {
    if (this.closing) throw closedError();
    return this.reads.get(productId);
  }

  /**
   * A page of products in ascending id order, copied under the global lock in shared
   * mode: a consistent cut in which no order or other change shows half-applied.
   */
  async list(options: ListOptions = {}): Promise<ListPage> {
    if (this.closing) throw closedError();
    const { limit, after } = readListOptions(options, LIST_LIMIT.default, LIST_LIMIT.max);
    return this.activity.listing(() => this.reads.list(limit, after));
  }

  // --- Admin -------------------------------------------------------------------

  /**
   * Creates products, all or none: rejects with INVALID_ARGUMENT, PRODUCT_EXISTS or
   * CAPACITY_EXHAUSTED, creating nothing, if any cannot be created.
   */
  createProducts(products: readonly ProductInput[]): Promise<CreatedProduct[]> {
    if (this.closing) return Promise.reject(closedError());
    try {
      const copies = readArray(products, 'products').map((p, i): ProductCopy => {
        const copy = readProduct(p, `products[${i}]`);
        if (typeof copy === 'string') throw new InventoryError('INVALID_ARGUMENT', copy);
        return copy;
      });
      return this.admin.createProducts(copies);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Changes a product's name and/or price; bumps its version and takes an offset. */
  setProduct(request: SetProductRequest): Promise<SetOutcome> {
    if (this.closing) return Promise.reject(closedError());
    let copy: ReturnType<typeof readSet>;
    try {
      copy = readSet(request);
    } catch (error) {
      return Promise.reject(error);
    }
    if ('status' in copy) return Promise.resolve(copy);
    const result = this.admin.setProduct(copy);
    if (result instanceof Promise) return result;
    return result === FULL ? this.turnAway() : Promise.resolve(result);
  }

  /** Deletes a product, freeing its slot and its lock for reuse. */
  deleteProduct(productId: string, options?: DeleteOptions): Promise<DeleteOutcome> {
    if (this.closing) return Promise.reject(closedError());
    let copy: ReturnType<typeof readDelete>;
    try {
      copy = readDelete(productId, options);
    } catch (error) {
      return Promise.reject(error);
    }
    if ('status' in copy) return Promise.resolve(copy);
    const result = this.admin.deleteProduct(copy.productId, copy.expected);
    if (result instanceof Promise) return result;
    return result === FULL ? this.turnAway() : Promise.resolve(result);
  }

  /** The answer to a single call that found no room: a new object for each caller. */
  private turnAway(): Promise<QueueFull> {
    this.queueFullCount++;
    return Promise.resolve(queueFull(this.options.queueSize));
  }

  // --- Durability ----------------------------------------------------------------

  /**
   * Changes with offsets above `after`, in offset order, durable ones only. With
   * `waitMs` and nothing newer, resolves as soon as a change arrives or at `waitMs`.
   * Rejects OFFSET_EXPIRED (with `oldest`) for offsets no longer retained.
   */
  changes(options?: ChangesOptions): Promise<ChangesPage> {
    if (this.closing) return Promise.reject(closedError());
    return this.feed.changes(options);
  }

  /** Writes a snapshot now (with a dataDir); old journal segments it covers may go. */
  checkpoint(): Promise<Checkpoint> {
    if (this.closing) return Promise.reject(closedError());
    return this.feed.checkpoint();
  }

  /**
   * The journal thread's counters: records and bytes written, group commits, fsync
   * latency (p50/p99/max), segments, the last snapshot, the oldest offset retained.
   */
  journalStats(): Promise<JournalStats> {
    if (this.closing) return Promise.reject(closedError());
    return this.journal.stats();
  }

  /** Every product in one consistent cut, with the offset it was taken at. */
  snapshot(): Promise<Snapshot> {
    if (this.closing) return Promise.reject(closedError());
    return this.activity.listing(() => this.feed.snapshot());
  }

  // --- Statistics --------------------------------------------------------------

  /** Lock counters, read from shared memory; cheap enough to poll. */
  lockStats(): LockStats {
    if (this.closing) throw closedError();
    return this.locks.lockStats();
  }

  /** Engine counters (an addition to the documented contract). */
  stats(): EngineStats {
    if (this.closing) throw closedError();
    return this.counters();
  }

  private counters(): EngineStats {
    return engineStats(this.views, this.catalog, this.pool, this.options.workers, this.openedAt, {
      queued: this.router.queued(),
      queueSize: this.options.queueSize,
      tasksInFlight: this.router.tasksInFlight,
      batches: this.router.batches,
      rows: this.router.rows,
      replays: this.idem.replays,
      queueFull: this.queueFullCount,
      idempotencyKeys: this.idem.size,
      // Without records there is nothing to wait for: every change is as durable as memory.
      durableOffset: recording(this.options) ? this.gate.durable : this.gate.taken,
      threadDeaths: this.deaths.deaths,
    });
  }

  // --- Closing -----------------------------------------------------------------

  /**
   * Stops taking calls, lets every call already made settle with its real outcome,
   * then stops the pool. Calls made after close begins reject (or throw) CLOSED.
   */
  close(): Promise<void> {
    if (this.closed !== null) return this.closed;
    this.closing = true;
    this.closed = (async () => {
      this.router.flush(true);
      this.gate.wakeReaders();
      await this.activity.idle();
      const stats = this.counters();
      await this.pool.destroy();
      try {
        // Drains what is left, syncs, and (with a dataDir) writes a snapshot.
        await this.journal.close();
      } catch (error) {
        // A journal that failed already said so (and answered every call waiting on it).
        this.log.error({ err: error }, 'lockstock journal did not close cleanly');
      } finally {
        this.started.releaseDir?.();
      }
      this.log.info(
        { batches: stats.batches, rows: stats.rows, offset: stats.offset, replays: stats.replays },
        'lockstock closed',
      );
      this.log.flush?.();
      this.started.closeLog();
    })();
    return this.closed;
  }
}
