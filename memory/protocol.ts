/**
 * What the caller's thread and the pool threads say to each other.
 *
 * Updates travel in batches: one SharedArrayBuffer per batch, laid out as columns
 * (one typed array per field, struct-of-arrays), written by the caller's thread,
 * applied by one worker, answered in the result columns of the same buffer. Only the
 * buffer's handle crosses postMessage; the rows are never copied.
 *
 * An order is a header row (KIND_ORDER, AUX = item count) followed by its item rows
 * (KIND_ORDER_ITEM). The header's STATUS is the order's outcome and RES_AUX the index
 * of the item that failed; each item row carries that item's figures.
 *
 * Items are checked in item order, so an order that names an unknown product after
 * other items is sent as a probe (header AMOUNT = ORDER_PROBE) of the items before it:
 * the worker checks them under their locks, applies nothing, and answers the first
 * that fails — or, when all pass, STATUS_NOT_FOUND with RES_AUX = AUX (the unknown
 * item, whose id the caller's thread keeps).
 */

// --- Row kinds (column KIND) ---
export const KIND_UPDATE = 1;
export const KIND_ORDER = 2;
export const KIND_ORDER_ITEM = 3;
export const KIND_CREATE = 4;
export const KIND_SET = 5;
export const KIND_DELETE = 6;

// --- Row outcomes (column STATUS). The worker writes STATUS last for each row, so a
// --- row still at STATUS_PENDING after a worker failure was never applied.
export const STATUS_PENDING = 0;
export const STATUS_APPLIED = 1;
export const STATUS_VERSION_CONFLICT = 2;
export const STATUS_INSUFFICIENT = 3;
export const STATUS_NOT_FOUND = 4;
/** The change would take stock past Number.MAX_SAFE_INTEGER. */
export const STATUS_OUT_OF_RANGE = 5;
/** A lock was not acquired within its bound; the row was not applied. */
export const STATUS_LOCK_TIMEOUT = 6;
/** An order item not examined because an earlier item failed. */
export const STATUS_SKIPPED = 7;

/** Header AMOUNT of an order sent only to check the items before an unknown product. */
export const ORDER_PROBE = 1;

// --- Flags in AUX for KIND_SET ---
export const SET_PRICE = 1;
export const SET_NAME = 2;
/** A stock take: AMOUNT is the absolute count to set. */
export const SET_AVAILABLE = 4;

/** EXPECTED value meaning "whatever version is current". */
export const ANY_VERSION = -1;

/** Float64 columns, in buffer order. */
export const F64_COLUMNS = [
  'amount', // delta for updates and order items; initial stock for creates
  'price', // price for creates and sets
  'expected', // expected version, or ANY_VERSION
  'resAvailable',
  'resLastUpdated',
  'resOffset',
] as const;

/** Int32 columns, in buffer order. */
export const I32_COLUMNS = [
  'kind',
  'slot',
  'generation', // the product's generation when the row was written: a deleted and reused slot fails the check
  'aux', // order: item count; set: SET_* flags
  'str', // index into the task's strings: create: id, then name; set: name
  'status',
  'resVersion',
  'resAux', // order: index of the failed item, else -1
  'unit', // the lane the row was dealt to (router.ts): a dispatch's unit of work
  'key', // index into the task's strings of the row's idempotency key (an order's: on its header), or -1
] as const;

export type F64Column = (typeof F64_COLUMNS)[number];
export type I32Column = (typeof I32_COLUMNS)[number];

export type BatchColumns = { readonly [K in F64Column]: Float64Array } & {
  readonly [K in I32Column]: Int32Array;
} & { readonly meta: Int32Array };

export const BATCH_ROW_BYTES =
  F64_COLUMNS.length * Float64Array.BYTES_PER_ELEMENT +
  I32_COLUMNS.length * Int32Array.BYTES_PER_ELEMENT;

/**
 * A few words after the columns. META_STARTED is set by the worker when it takes the
 * batch (and takes its rows off the shared queue count), so that the caller can tell,
 * if the task fails, whether those rows still count as queued. In a dispatch's first
 * batch, META_CLAIMED is the next unit its tasks may claim (BatchTask.units) and
 * META_APPLIED the number of units applied.
 */
export const META_STARTED = 0;
export const META_CLAIMED = 1;
export const META_APPLIED = 2;
export const META_WORDS = 4;

export function batchBytes(capacity: number): number {
  return capacity * BATCH_ROW_BYTES + META_WORDS * Int32Array.BYTES_PER_ELEMENT;
}

/** Views over a batch buffer of `capacity` rows. Both sides build the same ones. */
export function batchColumns(buffer: SharedArrayBuffer, capacity: number): BatchColumns {
  const columns: Record<string, Float64Array | Int32Array> = {};
  let offset = 0;
  for (const name of F64_COLUMNS) {
    columns[name] = new Float64Array(buffer, offset, capacity);
    offset += capacity * Float64Array.BYTES_PER_ELEMENT;
  }
  for (const name of I32_COLUMNS) {
    columns[name] = new Int32Array(buffer, offset, capacity);
    offset += capacity * Int32Array.BYTES_PER_ELEMENT;
  }
  columns.meta = new Int32Array(buffer, offset, META_WORDS);
  return columns as unknown as BatchColumns;
}

/** One batch buffer and how many of its rows to apply. */
export interface BatchRef {
  /** Stable for the buffer's life: workers cache their views of it by this. */
  readonly id: number;
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
  readonly rows: number;
  /** Ids and names for create and set rows, by index (column STR). */
  readonly strings: readonly string[];
  /** Idempotency keys of keyed rows, by index (column KEY). */
  readonly keys: readonly string[];
}

/**
 * A dispatch: batches whose rows are dealt into units (column UNIT), and one such task
 * sent to each of several threads. Each task claims the next unclaimed unit
 * (META_CLAIMED of the first batch) and applies that unit's rows in row order, then
 * claims again until none is left: a unit's rows are applied by one thread in order,
 * and whichever thread is free takes the next unit.
 */
export interface BatchTask {
  readonly type: 'batch';
  readonly batches: readonly BatchRef[];
  /**
   * Triples (unit, first batch, end batch): unit i is the rows whose UNIT column is
   * units[3i], in batches[units[3i + 1]] up to batches[units[3i + 2]]. Absent: every
   * row of every batch, as one unit.
   */
  readonly units?: readonly number[];
}

/** UNIT value of a unit that takes every row of its batches, whatever the column says. */
export const EVERY_UNIT = -1;

/** What a batch task answers. */
export interface BatchResult {
  /** This task applied the dispatch's last unit: every row of it has its result. */
  readonly last: boolean;
  /**
   * The names of the applied price-only set rows it applied, by batch id and row (a
   * set that changed only the price reports the name the product had when it was
   * applied, which only the worker saw), or null when none.
   */
  readonly names: (readonly [batchId: number, row: number, name: string])[] | null;
}

/** Copy a consistent cut of the given slots, under the global lock in S mode. */
export interface ListTask {
  readonly type: 'list';
  readonly slots: Int32Array;
  readonly generations: Int32Array;
}

/** One entry per requested slot; `live[i] === 0` if that product is gone. */
export interface ListResult {
  readonly live: Uint8Array;
  readonly version: Float64Array;
  readonly available: Float64Array;
  readonly lastUpdated: Float64Array;
  readonly price: Float64Array;
  readonly names: string[];
  /** The last change offset taken when the cut was made: the cut is the state as of it. */
  offset: number;
}

export type Task = BatchTask | ListTask;

/** Settings every worker reads from workerData at start. */
export interface WorkerSettings {
  readonly buffer: SharedArrayBuffer;
  readonly lockMode: 'fine' | 'global';
  readonly workUs: number;
  readonly holdUs: number;
  readonly lockTimeoutMs: number;
  readonly logLevel: string;
  /** File descriptor or path for worker log lines (pino cannot cross threads). */
  readonly logDestination: number | string;
  /**
   * The change log's rings (memory/change-log.ts): each thread claims one, also when
   * it records nothing (it is how a dead thread's locks are found).
   */
  readonly changeBuffer: SharedArrayBuffer;
  /**
   * Whether changes are recorded in the rings. Off only in memory with no feed
   * (`retainChanges: 0`): the rings then serve only to find a dead thread's locks.
   */
  readonly recordChanges: boolean;
  /** The test hook simulate.crash, or null. */
  readonly crash: { readonly after: number; readonly at: 'locked' | 'publishing' } | null;
}
