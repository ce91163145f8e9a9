/** Turns the result columns of a batch row into the outcome a caller receives. */
import type { BatchColumns } from '../memory/protocol.js';
import {
  STATUS_APPLIED,
  STATUS_INSUFFICIENT,
  STATUS_LOCK_TIMEOUT,
  STATUS_NOT_FOUND,
  STATUS_OUT_OF_RANGE,
  STATUS_PENDING,
  STATUS_VERSION_CONFLICT,
} from '../memory/protocol.js';
import { isoTime } from './clock.js';
import { InventoryError } from './errors.js';
import type {
  Applied,
  InsufficientInventory,
  InvalidRequest,
  OrderOutcome,
  ProductNotFound,
  QueueFull,
  VersionConflict,
} from './types.js';
import { invalid } from './validate.js';

export function notFound(productId: string): ProductNotFound {
  return { status: 'product_not_found', productId };
}

export function queueFull(queueSize: number): QueueFull {
  return Object.freeze({ status: 'queue_full', queueSize, retryable: true } as const);
}

/**
 * A row that was not applied and has no business outcome: the call fails.
 * `subject` names what the row was about ("product \"SKU-1\"", "the order of …").
 */
export function rowError(status: number, subject: string): InventoryError {
  if (status === STATUS_LOCK_TIMEOUT) {
    return new InventoryError(
      'LOCK_TIMEOUT',
      `a lock for ${subject} was not acquired within lockTimeoutMs; nothing was applied`,
    );
  }
  if (status === STATUS_PENDING) {
    return new InventoryError(
      'WORKER_FAILED',
      `the worker applying ${subject} failed before reaching it; nothing was applied`,
    );
  }
  return new InventoryError('WORKER_FAILED', `unexpected row status ${status} for ${subject}`);
}

type StockOutcome =
  | Applied
  | VersionConflict
  | InsufficientInventory
  | ProductNotFound
  | InvalidRequest;

/** The outcome of an update row or an order item row; null if the row failed. */
export function stockOutcome(
  c: BatchColumns,
  r: number,
  productId: string,
  deltaField = 'delta',
): StockOutcome | null {
  switch (c.status[r]) {
    case STATUS_APPLIED:
      return {
        status: 'applied',
        productId,
        available: c.resAvailable[r] as number,
        version: (c.resVersion[r] as number) >>> 0,
        lastUpdated: isoTime(c.resLastUpdated[r] as number),
        offset: c.resOffset[r] as number,
      };
    case STATUS_VERSION_CONFLICT:
      return {
        status: 'version_conflict',
        productId,
        version: (c.resVersion[r] as number) >>> 0,
        available: c.resAvailable[r] as number,
      };
    case STATUS_INSUFFICIENT:
      return {
        status: 'insufficient_inventory',
        productId,
        available: c.resAvailable[r] as number,
        version: (c.resVersion[r] as number) >>> 0,
      };
    case STATUS_NOT_FOUND:
      return notFound(productId);
    case STATUS_OUT_OF_RANGE:
      return invalid(deltaField, 'would take available stock past Number.MAX_SAFE_INTEGER');
    default:
      return null;
  }
}

/** The outcome of the order whose header row is `h`; null if the order failed. */
export function orderOutcome(
  c: BatchColumns,
  h: number,
  ids: readonly string[],
): OrderOutcome | null {
  const count = c.aux[h] as number;
  if (c.status[h] === STATUS_APPLIED) {
    const items: Omit<Applied, 'status'>[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const r = h + 1 + i;
      items[i] = {
        productId: ids[r] as string,
        available: c.resAvailable[r] as number,
        version: (c.resVersion[r] as number) >>> 0,
        lastUpdated: isoTime(c.resLastUpdated[r] as number),
        offset: c.resOffset[r] as number,
      };
    }
    return { status: 'applied', items };
  }
  const status = c.status[h];
  if (status === STATUS_PENDING || status === STATUS_LOCK_TIMEOUT) return null;
  const failedItem = c.resAux[h] as number;
  if (failedItem < 0 || failedItem >= count) return null;
  const r = h + 1 + failedItem;
  const item = stockOutcome(c, r, ids[r] as string, `items[${failedItem}].delta`);
  if (item === null || item.status === 'applied') return null;
  if (item.status === 'invalid_request') return item;
  return { ...item, failedItem };
}
