/**
 * Misuse of the engine throws an InventoryError with a stable `code`. Business
 * outcomes (a version conflict, too little stock, …) are results, never errors.
 */
export type InventoryErrorCode =
  /** The engine is closed or closing. */
  | 'CLOSED'
  /** An option passed to Inventory.open is out of range or of the wrong type. */
  | 'INVALID_OPTION'
  /** An environment variable the engine reads holds an invalid value. */
  | 'INVALID_ENV'
  /** An argument to an admin call (createProducts, list, …) is invalid. */
  | 'INVALID_ARGUMENT'
  /** createProducts named a product that already exists. */
  | 'PRODUCT_EXISTS'
  /** Every slot is taken: the capacity fixed at open is reached. */
  | 'CAPACITY_EXHAUSTED'
  /** A lock was not acquired within lockTimeoutMs; the request was not applied. */
  | 'LOCK_TIMEOUT'
  /** A pool thread failed; requests it had not applied were not applied. */
  | 'WORKER_FAILED'
  /** The compiled worker module is missing: run `npm run build`. */
  | 'WORKER_NOT_BUILT'
  /** Another process (or engine) has the data directory open. */
  | 'DATA_DIR_LOCKED'
  /** A journal or snapshot file has a bad record before good ones (names file and byte). */
  | 'CORRUPT_JOURNAL'
  /** changes() asked for offsets older than the oldest retained (named in the message and `oldest`). */
  | 'OFFSET_EXPIRED';

export class InventoryError extends Error {
  readonly code: InventoryErrorCode;
  /** For OFFSET_EXPIRED: the oldest offset the feed still holds. */
  readonly oldest?: number;

  constructor(
    code: InventoryErrorCode,
    message: string,
    options?: { cause?: unknown; oldest?: number },
  ) {
    super(message, options);
    this.name = 'InventoryError';
    this.code = code;
    if (options?.oldest !== undefined) this.oldest = options.oldest;
  }
}
