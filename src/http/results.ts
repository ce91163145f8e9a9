/**
 * Engine outcomes in the Go service's result shape: `{ productId, applied, newQuantity,
 * newVersion, lastUpdated, offset }`, and `errorType, errorMessage` when not applied.
 * The figures of a refusal (version_conflict, insufficient_inventory) are the product's
 * current ones, so a client can retry without another read.
 */
import type { OrderOutcome, UpdateOutcome } from '../types.js';

export interface UpdateResult {
  productId: string;
  applied: boolean;
  newQuantity?: number;
  newVersion?: number;
  lastUpdated?: string;
  offset?: number;
  errorType?: string;
  errorMessage?: string;
  /** invalid_request: the field at fault, as the request names it. */
  field?: string;
  /** A failed order: the index of the item that failed. */
  failedItem?: number;
}

/** The request's name for an engine field: the HTTP body says `version`. */
function httpField(field: string): string {
  return field.replace(/expectedVersion$/, 'version');
}

function invalidMessage(field: string, message: string): string {
  return message.startsWith(field) ? httpField(field) + message.slice(field.length) : message;
}

/** What went wrong, in words, for a refusal; undefined for applied. */
function refusal(o: UpdateOutcome | OrderOutcome, productId: string, delta?: number) {
  switch (o.status) {
    case 'applied':
      return undefined;
    case 'version_conflict':
      return `product ${productId} is at version ${o.version}, not the version expected`;
    case 'insufficient_inventory':
      return delta === undefined
        ? `product ${productId} has ${o.available} available: too few`
        : `product ${productId} has ${o.available} available: too few for a delta of ${delta}`;
    case 'product_not_found':
      return `product ${productId} not found`;
    case 'invalid_request':
      return invalidMessage(o.field, o.message);
    case 'idempotency_key_reused':
      return `idempotency key ${JSON.stringify(o.idempotencyKey)} was first used with another request`;
    case 'queue_full':
      return `${o.queueSize} updates already wait for a worker: retry later`;
  }
}

/** One update's result. `productId` and `delta` are the request's. */
export function updateResult(o: UpdateOutcome, productId: string, delta?: number): UpdateResult {
  switch (o.status) {
    case 'applied':
      return {
        productId: o.productId,
        applied: true,
        newQuantity: o.available,
        newVersion: o.version,
        lastUpdated: o.lastUpdated,
        offset: o.offset,
      };
    case 'version_conflict':
    case 'insufficient_inventory':
      return {
        productId: o.productId,
        applied: false,
        newQuantity: o.available,
        newVersion: o.version,
        errorType: o.status,
        errorMessage: refusal(o, o.productId, delta) as string,
      };
    case 'invalid_request':
      return {
        productId,
        applied: false,
        errorType: o.status,
        errorMessage: refusal(o, productId) as string,
        field: httpField(o.field),
      };
    default:
      return {
        productId,
        applied: false,
        errorType: o.status,
        errorMessage: refusal(o, productId) as string,
      };
  }
}

interface OrderResult {
  applied: boolean;
  items?: UpdateResult[];
  failedItem?: number;
  productId?: string;
  newQuantity?: number;
  newVersion?: number;
  errorType?: string;
  errorMessage?: string;
  field?: string;
}

/** An order's result: every item's new state, or the first item that failed. */
export function orderResult(o: OrderOutcome, deltas: readonly number[]): OrderResult {
  switch (o.status) {
    case 'applied':
      return {
        applied: true,
        items: o.items.map((item) => ({
          productId: item.productId,
          applied: true,
          newQuantity: item.available,
          newVersion: item.version,
          lastUpdated: item.lastUpdated,
          offset: item.offset,
        })),
      };
    case 'version_conflict':
    case 'insufficient_inventory':
      return {
        applied: false,
        failedItem: o.failedItem,
        productId: o.productId,
        newQuantity: o.available,
        newVersion: o.version,
        errorType: o.status,
        errorMessage: `items[${o.failedItem}]: ${refusal(o, o.productId, deltas[o.failedItem])}`,
      };
    case 'product_not_found':
      return {
        applied: false,
        failedItem: o.failedItem,
        productId: o.productId,
        errorType: o.status,
        errorMessage: `items[${o.failedItem}]: ${refusal(o, o.productId)}`,
      };
    case 'invalid_request':
      return {
        applied: false,
        errorType: o.status,
        errorMessage: refusal(o, '') as string,
        field: httpField(o.field),
      };
    default:
      return { applied: false, errorType: o.status, errorMessage: refusal(o, '') as string };
  }
}

/** `{ total, succeeded, failed }`, the Go service's batch summary. */
export function summary(results: readonly { applied: boolean }[]) {
  let succeeded = 0;
  for (const r of results) if (r.applied) succeeded++;
  return { total: results.length, succeeded, failed: results.length - succeeded };
}
