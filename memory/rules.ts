/**
 * The rules of a change, written once. Every engine decides with these functions: the
 * pool threads under a product's lock, the single-thread baseline on its records, the
 * one-task-per-update peer in its worker; the Redis peer's Lua script follows the same
 * table (bench/peers/redis.ts says so beside it). A rule that changes here changes for
 * all of them, and the conformance test (test/engines/conformance.test.ts) holds them
 * to one answer.
 *
 * The checks, in order, each on the committed record:
 *
 *   | check                                   | status                   |
 *   | --------------------------------------- | ------------------------ |
 *   | the record is not the product named     | STATUS_NOT_FOUND         |
 *   | expected version given and not current  | STATUS_VERSION_CONFLICT  |
 *   | available + delta < 0                   | STATUS_INSUFFICIENT      |
 *   | available + delta > MAX_STOCK           | STATUS_OUT_OF_RANGE      |
 *   | otherwise                               | STATUS_APPLIED           |
 *
 * Pure functions of numbers: imported by both sides of the thread boundary, they
 * allocate nothing and touch no shared memory.
 */
import {
  ANY_VERSION,
  STATUS_APPLIED,
  STATUS_INSUFFICIENT,
  STATUS_NOT_FOUND,
  STATUS_OUT_OF_RANGE,
  STATUS_VERSION_CONFLICT,
} from './protocol.js';

/** The most units a product may hold: past it, stock would no longer count exactly. */
export const MAX_STOCK = Number.MAX_SAFE_INTEGER;

/**
 * Decides a stock change of `delta` (an update, or one item of an order) on a record
 * at `version` with `available` units; `live` says whether the record is the product
 * the request names. `expected` is the version the request requires, or ANY_VERSION.
 */
export function decideStock(
  live: boolean,
  version: number,
  available: number,
  delta: number,
  expected: number,
): number {
  if (!live) return STATUS_NOT_FOUND;
  if (expected !== ANY_VERSION && expected !== version) return STATUS_VERSION_CONFLICT;
  const next = available + delta;
  if (next < 0) return STATUS_INSUFFICIENT;
  if (next > MAX_STOCK) return STATUS_OUT_OF_RANGE;
  return STATUS_APPLIED;
}

/**
 * Decides a change that does not move stock (setting a name or price, deleting): only
 * the product and the expected version are checked.
 */
export function decideAdmin(live: boolean, version: number, expected: number): number {
  if (!live) return STATUS_NOT_FOUND;
  if (expected !== ANY_VERSION && expected !== version) return STATUS_VERSION_CONFLICT;
  return STATUS_APPLIED;
}
