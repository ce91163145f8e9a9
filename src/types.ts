/** The public types of lockstock's programmatic API. */
import type { Logger } from 'pino';

export type LockMode = 'fine' | 'global';

/** When a change is acknowledged: on disk (`fsync`), or written to the OS (`write`). */
export type Durability = 'fsync' | 'write';

/** Where `simulate.crash` makes a pool thread die while it holds a product lock. */
export type CrashPoint = 'locked' | 'publishing';

/** A product as given to `Inventory.open({ products })` and `createProducts`. */
export interface ProductInput {
  productId: string;
  name?: string;
  /** Units in stock: a safe integer ≥ 0. */
  available: number;
  /** A finite number ≥ 0. */
  price?: number;
}

/** A product's committed state. */
export interface Product {
  productId: string;
  name: string;
  available: number;
  price: number;
  /** 1 when created; +1 for every change applied to it. */
  version: number;
  /** When the last change was applied (ISO-8601). */
  lastUpdated: string;
}

/** A product just created, with the change offset its creation took. */
export interface CreatedProduct extends Product {
  offset: number;
}

export interface UpdateRequest {
  productId: string;
  /** A non-zero safe integer: units added (> 0) or taken (< 0). */
  delta: number;
  /** Apply only if the product is at this version (optimistic concurrency). */
  expectedVersion?: number;
  /** Same key, same payload: the first outcome again, applied once. */
  idempotencyKey?: string;
}

export interface OrderItem {
  productId: string;
  delta: number;
  expectedVersion?: number;
}

export interface OrderRequest {
  items: OrderItem[];
  idempotencyKey?: string;
}

export interface SetProductRequest {
  productId: string;
  expectedVersion?: number;
  name?: string;
  price?: number;
  /** A stock take: the absolute count in stock (a safe integer ≥ 0). */
  available?: number;
}

export interface DeleteOptions {
  expectedVersion?: number;
}

// --- Outcomes: a discriminated union on `status` ---

export interface Applied {
  status: 'applied';
  productId: string;
  available: number;
  version: number;
  lastUpdated: string;
  /** This change's place in the engine-wide, gap-free sequence of changes. */
  offset: number;
}

export interface VersionConflict {
  status: 'version_conflict';
  productId: string;
  /** The product's current version and stock. */
  version: number;
  available: number;
}

export interface InsufficientInventory {
  status: 'insufficient_inventory';
  productId: string;
  available: number;
  version: number;
}

export interface ProductNotFound {
  status: 'product_not_found';
  productId: string;
}

export interface InvalidRequest {
  status: 'invalid_request';
  /** Names the field and what is wrong with it. */
  message: string;
  field: string;
}

export interface IdempotencyKeyReused {
  status: 'idempotency_key_reused';
  idempotencyKey: string;
}

/**
 * Added by lockstock: `queueSize` updates already wait for a worker. Nothing was
 * applied and the idempotency key (if any) was not recorded: retry later.
 */
export interface QueueFull {
  status: 'queue_full';
  queueSize: number;
  retryable: true;
}

export type UpdateOutcome =
  | Applied
  | VersionConflict
  | InsufficientInventory
  | ProductNotFound
  | InvalidRequest
  | IdempotencyKeyReused
  | QueueFull;

export interface OrderApplied {
  status: 'applied';
  /** Every item's new state, in the order's item order. */
  items: Omit<Applied, 'status'>[];
}

/** The first item (by index) that failed, and why; nothing was applied. */
export type OrderFailed =
  | (VersionConflict & { failedItem: number })
  | (InsufficientInventory & { failedItem: number })
  | (ProductNotFound & { failedItem: number });

export type OrderOutcome =
  | OrderApplied
  | OrderFailed
  | InvalidRequest
  | IdempotencyKeyReused
  | QueueFull;

export interface SetApplied {
  status: 'applied';
  product: Product;
  offset: number;
}

export type SetOutcome =
  | SetApplied
  | VersionConflict
  | ProductNotFound
  | InvalidRequest
  | QueueFull;

export interface DeleteApplied {
  status: 'applied';
  productId: string;
  /** The version the product had when deleted. */
  version: number;
  offset: number;
}

export type DeleteOutcome =
  | DeleteApplied
  | VersionConflict
  | ProductNotFound
  | InvalidRequest
  | QueueFull;

export interface ListOptions {
  /** Products per page, 1–10000 (default 100). */
  limit?: number;
  /** Start after this product id: the `next` of the previous page. */
  after?: string;
}

export interface ListPage {
  /** Products in ascending productId order, all from one consistent cut. */
  items: Product[];
  /** Pass as `after` for the next page; null on the last page. */
  next: string | null;
  /** The change offset the page's cut was taken at: every change up to it shows, none after. */
  asOf: number;
}

/** A change in the feed (`changes`), as the original service names its event types. */
export type { Change } from '../memory/change-log.js';

import type { Change } from '../memory/change-log.js';

export interface ChangesOptions {
  /** Changes with offsets above this one (default 0: from the start). */
  after?: number;
  /** At most this many, 1–10000 (default 100). */
  limit?: number;
  /** With nothing newer, wait up to this long for a change, 0–60000 ms (default 0). */
  waitMs?: number;
}

export interface ChangesPage {
  items: Change[];
  /** Pass as `after` for the next page: the last offset returned, else `after`. */
  next: number;
  hasMore: boolean;
}

/** One consistent cut of every product (`snapshot`). */
export interface Snapshot {
  /** Every change up to this offset is in it, none after; it is durable. */
  lastOffset: number;
  /** When the cut was taken (ISO-8601). */
  timestamp: string;
  total: number;
  /** The products in ascending id order. */
  products: Iterable<Product>;
}

/** What `checkpoint` wrote. */
export interface Checkpoint {
  /** The snapshot covers every change up to this offset. */
  offset: number;
  bytes: number;
  ms: number;
}

export interface LockCounters {
  acquisitions: number;
  /** Acquisitions that found the lock taken and had to wait or spin. */
  contended: number;
  waitMs: number;
  /** Time write holders held it (for the global lock: X holds only), in total and at most. */
  holdMs: number;
  maxHoldMs: number;
}

export interface HotProduct extends LockCounters {
  productId: string;
}

export interface LockStats extends LockCounters {
  /** Product locks in use (one per live product); 0 in global mode. */
  total_product_locks: number;
  lock_manager_type: 'fine_grained_per_product' | 'global';
  /** The most contended products (fine mode), most contended first. */
  hottest: HotProduct[];
  /** The products held longest in total (fine mode), longest first. */
  hottestByHold: HotProduct[];
  /** The global lock: IX/S holds in fine mode, every write in global mode. */
  global: LockCounters;
}

/** Engine counters (an addition to the contract), for load runners and dashboards. */
export interface EngineStats {
  products: number;
  capacity: number;
  workers: number;
  /** Updates waiting for a worker now (bounded by queueSize). */
  queued: number;
  queueSize: number;
  /** Worker tasks sent and not yet answered. */
  tasksInFlight: number;
  batches: number;
  rows: number;
  /** Requests answered from the idempotency cache, without touching a worker. */
  replays: number;
  /** Requests answered queue_full. */
  queueFull: number;
  idempotencyKeys: number;
  /** Last change offset taken. */
  offset: number;
  /** Every change up to this offset is durable (in memory: in the feed's window). */
  durableOffset: number;
  /** Pool threads that died and whose locks and records the caller's thread repaired. */
  threadDeaths: number;
  /** Share of the pool's thread time spent running tasks since open (0–1). */
  poolUtilization: number;
  /** How long batches waited for a free pool thread, in ms. */
  taskWaitMs: { p50: number; p99: number; max: number };
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LoggerOptions {
  level?: LogLevel;
  /** A file descriptor (default 1, stdout) or a file path. */
  destination?: number | string;
}

export interface InventoryOptions {
  /** Pool threads. Default: INVENTORY_WORKER_COUNT, else os.availableParallelism(). */
  workers?: number;
  /** Updates waiting for a worker at most. Default: INVENTORY_QUEUE_BUFFER_SIZE, else 65536. */
  queueSize?: number;
  /** Products at most, fixed at open. Default: INVENTORY_CAPACITY, else 65536. */
  capacity?: number;
  /** Default: INVENTORY_LOCK_MODE, else 'fine'. */
  lockMode?: LockMode;
  products?: ProductInput[];
  idempotency?: { ttlMs?: number; maxKeys?: number };
  /** Options for lockstock's own pino logger, or a pino logger to use. */
  logger?: LoggerOptions | Logger;
  /**
   * Benchmark knobs, inside each product's critical section; `crash` is a test hook:
   * the pool thread that takes the `after`-th product write lock since open exits while
   * holding it, before touching the record (`locked`) or halfway through publishing it.
   */
  simulate?: { workUs?: number; holdUs?: number; crash?: { after: number; at?: CrashPoint } };
  /** Bound on every lock wait; past it the request fails with LOCK_TIMEOUT. Default 10000. */
  lockTimeoutMs?: number;
  /** Rows per worker task at most. Default 4096. */
  maxBatch?: number;
  /**
   * Keep every acknowledged change in this directory (journal and snapshots) and
   * recover them on open. Default: INVENTORY_DATA_DIR, else none (in memory only).
   */
  dataDir?: string;
  /**
   * With a dataDir: `fsync` (default) acknowledges a change once it is on disk;
   * `write` once the OS has it (a power loss may take the last syncIntervalMs).
   * Default: INVENTORY_DURABILITY, else 'fsync'.
   */
  durability?: Durability;
  /** In `write` mode, how often the journal is synced to disk. Default 100 ms. */
  syncIntervalMs?: number;
  /** Changes the feed keeps in memory (without a dataDir, all it keeps). Default 100000. */
  retainChanges?: number;
  /** A snapshot every this many changes (and on close). Default 1000000. */
  snapshotEvery?: number;
  /** Open a journal with a bad record followed by good ones by cutting it there. */
  repair?: boolean;
}
