/**
 * Outcomes, built in one place: from a rule's status (memory/rules.ts) and a record's
 * figures to the object a caller receives. The engine decodes its batch columns with
 * these; the single-thread baseline and the peers call the same functions, so every
 * engine answers in the same shapes.
 */
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
import { MAX_STOCK } from '../memory/rules.js';
import { isoTime } from './clock.js';
import { InventoryError } from './errors.js';
import { invalid } from './requests.js';
import type {
  Applied,
  InsufficientInventory,
  InvalidRequest,
  OrderOutcome,
  ProductNotFound,
  QueueFull,
  VersionConflict,
} from './types.js';

export function notFound(productId: string): ProductNotFound {
  return { status: 'product_not_found', productId };
}

/** A new object each time: every caller gets an outcome of its own. */
export function queueFull(queueSize: number): QueueFull {
  return { status: 'queue_full', queueSize, retryable: true };
}

/**
 * A copy of an outcome for another caller: its own object, and its own items for an
 * order (the only outcome that nests objects a caller could change).
 */
export function copyOutcome<O extends object>(outcome: O): O {
  const copy = { ...outcome };
  const items = (outcome as { items?: unknown }).items;
  if (Array.isArray(items)) {
    (copy as { items: unknown[] }).items = items.map((item: object) => ({ ...item }));
  }
  return copy;
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

export type StockOutcome =
  | Applied
  | VersionConflict
  | InsufficientInventory
  | ProductNotFound
  | InvalidRequest;

/**
 * The outcome of a stock change (an update, or an order item) decided `status`, with
 * the record's figures: after the change when applied, as found otherwise. Null for a
 * status that is no outcome (the row was not applied: the call fails).
 */
export function stockOutcome(
  status: number,
  productId: string,
  available: number,
  version: number,
  lastUpdated: number,
  offset: number,
  deltaField = 'delta',
): StockOutcome | null {
  switch (status) {
    case STATUS_APPLIED:
      return {
        status: 'applied',
        productId,
        available,
        version,
        lastUpdated: isoTime(lastUpdated),
        offset,
      };
    case STATUS_VERSION_CONFLICT:
      return { status: 'version_conflict', productId, version, available };
    case STATUS_INSUFFICIENT:
      return { status: 'insufficient_inventory', productId, available, version };
    case STATUS_NOT_FOUND:
      return notFound(productId);
    case STATUS_OUT_OF_RANGE:
      return invalid(
        deltaField,
        `would take available stock past ${MAX_STOCK} (Number.MAX_SAFE_INTEGER)`,
      );
    default:
      return null;
  }
}

/** The outcome of batch row `r` (an update, or an order item); null if the row failed. */
export function rowOutcome(
  c: BatchColumns,
  r: number,
  productId: string,
  deltaField = 'delta',
): StockOutcome | null {
  return stockOutcome(
    c.status[r] as number,
    productId,
    c.resAvailable[r] as number,
    (c.resVersion[r] as number) >>> 0,
    c.resLastUpdated[r] as number,
    c.resOffset[r] as number,
    deltaField,
  );
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
  // A probe's items all passed: the unknown product after them fails (protocol.ts).
  if (status === STATUS_NOT_FOUND && failedItem === count) {
    return { ...notFound(ids[h] as string), failedItem };
  }
  if (failedItem < 0 || failedItem >= count) return null;
  const r = h + 1 + failedItem;
  const item = rowOutcome(c, r, ids[r] as string, `items[${failedItem}].delta`);
  if (item === null || item.status === 'applied') return null;
  return failedOrder(item, failedItem);
}

/** An order whose item `failedItem` was refused with `item`: nothing was applied. */
export function failedOrder(
  item: Exclude<StockOutcome, Applied>,
  failedItem: number,
): OrderOutcome {
  // A malformed item (a delta past the stock bound) makes the whole order malformed.
  if (item.status === 'invalid_request') return item;
  return { ...item, failedItem };
}
