/**
 * What the one-task-per-update peer's caller (naive.ts) and its worker
 * (naive-worker.ts) say to each other. A module of its own: the worker's module opens
 * the shared buffer when loaded, so the caller's thread must not import it.
 */

/** Settings the worker reads from workerData at start. */
export interface NaiveWorkerData {
  readonly buffer: SharedArrayBuffer;
  readonly workUs: number;
  readonly holdUs: number;
  readonly lockTimeoutMs: number;
}

/** A slot that holds no product the caller knows of: an order item naming none. */
export const NO_SLOT = -1;

export interface NaiveTask {
  readonly kind: 'update';
  readonly slot: number;
  readonly generation: number;
  readonly delta: number;
  /** The expected version, or ANY_VERSION. */
  readonly expected: number;
}

/** The record as the rule found it (refused), or as the change left it (applied). */
export interface NaiveResult {
  status: number;
  available: number;
  version: number;
  lastUpdated: number;
  offset: number;
}

/** An order's items, one entry per item in item order. */
export interface NaiveOrderTask {
  readonly kind: 'order';
  /** NO_SLOT for an item whose product the caller's catalog does not hold. */
  readonly slots: readonly number[];
  readonly generations: readonly number[];
  readonly deltas: readonly number[];
  readonly expected: readonly number[];
}

/**
 * Applied: every item's figures after the change, `offset` the first item's (the
 * others follow it). Refused: `failedItem`, and its figures as found in the first
 * entry of `available` and `version`.
 */
export interface NaiveOrderResult {
  status: number;
  failedItem: number;
  available: number[];
  version: number[];
  lastUpdated: number[];
  offset: number;
}
