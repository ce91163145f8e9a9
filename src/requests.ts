/**
 * Requests as they enter the engine: every field a call uses is read exactly once,
 * here, into a copy, and checked; everything after works from the copy.
 *
 * Reading a field twice would let it change in between: a getter, a Proxy, or a caller
 * that mutates its object in the same tick could pass the check with one value and be
 * applied with another. So each reader takes every field into a local first, checks the
 * locals, and returns them. A field whose read throws makes the reader throw an
 * InventoryError('INVALID_ARGUMENT') naming it; the public calls turn that into a
 * rejection with nothing applied.
 *
 * A value that reads fine but is wrong is a business outcome, not an error:
 * `invalid_request`, naming the field. The `*Problem` checks allocate nothing for a
 * good value, which is the hot path.
 */
import { ID_MAX_BYTES, NAME_MAX_BYTES } from '../memory/layout.js';
import { ANY_VERSION } from '../memory/protocol.js';
import { InventoryError } from './errors.js';
import type { InvalidRequest } from './types.js';

declare global {
  interface String {
    /** ES2024; present in Node.js 20. */
    isWellFormed(): boolean;
  }
}

export const MAX_KEY_LENGTH = 255;

export function invalid(field: string, problem: string): InvalidRequest {
  return { status: 'invalid_request', field, message: `${field} ${problem}` };
}

/** A field could not be read (its getter threw): the call rejects, nothing applied. */
export function unreadable(path: string, cause: unknown): InventoryError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new InventoryError('INVALID_ARGUMENT', `${path} could not be read: ${reason}`, {
    cause,
  });
}

// ---------------------------------------------------------------------------
// Checks of single values
// ---------------------------------------------------------------------------

/** Whether `s` fits `max` bytes of UTF-8, measuring only when its length cannot tell. */
function fitsBytes(s: string, max: number): boolean {
  // A UTF-16 code unit takes at least 1 and at most 3 bytes of UTF-8.
  if (s.length * 3 <= max) return true;
  if (s.length > max) return false;
  return Buffer.byteLength(s, 'utf8') <= max;
}

/** A product id named by a request: any id of a product that could exist. */
export function idProblem(id: unknown): string | null {
  if (typeof id !== 'string' || id.length === 0) {
    return `must be a non-empty string, got ${describe(id)}`;
  }
  return fitsBytes(id, ID_MAX_BYTES) ? null : `must be at most ${ID_MAX_BYTES} bytes of UTF-8`;
}

/**
 * A product id or name to store. A lone surrogate has no UTF-8 form: stored, it would
 * come back as U+FFFD from one read and as itself from another, so it is refused.
 */
function storedTextProblem(text: string): string | null {
  return text.isWellFormed() ? null : 'must be well-formed Unicode (no lone surrogates)';
}

export function newIdProblem(id: unknown): string | null {
  return idProblem(id) ?? storedTextProblem(id as string);
}

export function nameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return `must be a string, got ${describe(name)}`;
  if (!fitsBytes(name, NAME_MAX_BYTES)) return `must be at most ${NAME_MAX_BYTES} bytes of UTF-8`;
  return storedTextProblem(name);
}

export function deltaProblem(delta: unknown): string | null {
  if (typeof delta === 'number' && Number.isSafeInteger(delta) && delta !== 0) return null;
  return `must be a non-zero safe integer, got ${describe(delta)}`;
}

export function expectedVersionProblem(version: unknown): string | null {
  if (version === undefined) return null;
  if (typeof version === 'number' && Number.isSafeInteger(version) && version >= 1) return null;
  return `must be a safe integer ≥ 1 when given, got ${describe(version)}`;
}

export function keyProblem(key: unknown): string | null {
  if (key === undefined) return null;
  if (typeof key === 'string' && key.length > 0 && key.length <= MAX_KEY_LENGTH) return null;
  return `must be a string of 1 to ${MAX_KEY_LENGTH} characters when given, got ${describe(key)}`;
}

export function stockProblem(available: unknown): string | null {
  if (typeof available === 'number' && Number.isSafeInteger(available) && available >= 0) {
    return null;
  }
  return `must be a safe integer ≥ 0, got ${describe(available)}`;
}

export function priceProblem(price: unknown): string | null {
  if (typeof price === 'number' && Number.isFinite(price) && price >= 0) return null;
  return `must be a finite number ≥ 0, got ${describe(price)}`;
}

export function objectProblem(value: unknown): string | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? null
    : `must be an object, got ${describe(value)}`;
}

/** `-0` passes every check and would be stored as `-0`: store `0`. */
function positiveZero(x: number): number {
  return x === 0 ? 0 : x;
}

/** A short description of a value for a message; never runs the value's own code. */
export function describe(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return Object.is(value, -0) ? '-0' : String(value);
  }
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

// ---------------------------------------------------------------------------
// Readers: one read of each field, then checks of the copies
// ---------------------------------------------------------------------------

/** A stock change as read: an update, or an item of an order. */
export interface UpdateCopy {
  readonly productId: string;
  readonly delta: number;
  /** The expected version, or ANY_VERSION. */
  readonly expected: number;
  /** The idempotency key, checked; undefined when none (always for order items). */
  readonly key: string | undefined;
}

/**
 * Reads an update (with `withKey`) or an order item. `prefix` starts the field names
 * of an invalid outcome ('' or 'items[2].'); `path` names the request in an error
 * ('request.', 'requests[3].').
 */
export function readUpdate(
  value: unknown,
  prefix: string,
  path: string,
  withKey: boolean,
): UpdateCopy | InvalidRequest {
  let productId: unknown;
  let delta: unknown;
  let expected: unknown;
  let key: unknown;
  let field = '';
  try {
    const problem = objectProblem(value);
    if (problem !== null) return invalid(prefix === '' ? 'request' : prefix.slice(0, -1), problem);
    const r = value as Record<string, unknown>;
    field = 'productId';
    productId = r.productId;
    field = 'delta';
    delta = r.delta;
    field = 'expectedVersion';
    expected = r.expectedVersion;
    if (withKey) {
      field = 'idempotencyKey';
      key = r.idempotencyKey;
    }
  } catch (error) {
    throw unreadable(field === '' ? path.slice(0, -1) : `${path}${field}`, error);
  }
  let problem = idProblem(productId);
  if (problem !== null) return invalid(`${prefix}productId`, problem);
  problem = deltaProblem(delta);
  if (problem !== null) return invalid(`${prefix}delta`, problem);
  problem = expectedVersionProblem(expected);
  if (problem !== null) return invalid(`${prefix}expectedVersion`, problem);
  problem = keyProblem(key);
  if (problem !== null) return invalid('idempotencyKey', problem);
  return {
    productId: productId as string,
    delta: delta as number,
    expected: expected === undefined ? ANY_VERSION : (expected as number),
    key: key as string | undefined,
  };
}

export interface OrderCopy {
  readonly items: readonly UpdateCopy[];
  readonly key: string | undefined;
}

/** Reads an order: its items (each once), no product twice, and its key. */
export function readOrder(value: unknown, maxItems: number): OrderCopy | InvalidRequest {
  let items: unknown;
  let key: unknown;
  let list: unknown[];
  let field = 'request';
  try {
    const problem = objectProblem(value);
    if (problem !== null) return invalid('request', problem);
    const r = value as Record<string, unknown>;
    field = 'request.items';
    items = r.items;
    field = 'request.idempotencyKey';
    key = r.idempotencyKey;
    field = 'request.items';
    if (!Array.isArray(items)) {
      return invalid('items', `must be an array of 1 to ${maxItems} items, got ${describe(items)}`);
    }
    const length = items.length;
    if (length === 0 || length > maxItems) {
      return invalid('items', `must be an array of 1 to ${maxItems} items, got ${length}`);
    }
    list = new Array<unknown>(length);
    for (let i = 0; i < length; i++) {
      field = `items[${i}]`;
      list[i] = items[i];
    }
  } catch (error) {
    throw unreadable(field, error);
  }
  const copies: UpdateCopy[] = new Array(list.length);
  const seen = new Set<string>();
  for (let i = 0; i < list.length; i++) {
    const item = readUpdate(list[i], `items[${i}].`, `items[${i}].`, false);
    if ('status' in item) return item;
    if (seen.has(item.productId)) {
      return invalid(`items[${i}].productId`, `repeats ${JSON.stringify(item.productId)}`);
    }
    seen.add(item.productId);
    copies[i] = item;
  }
  const problem = keyProblem(key);
  if (problem !== null) return invalid('idempotencyKey', problem);
  return { items: copies, key: key as string | undefined };
}

/**
 * Reads every element of an array once (and its length once). Elements are read, not
 * checked: a bulk call checks each copy on its own.
 */
export function readArray(value: unknown, what: string): unknown[] {
  // The index, not its name, is kept as the copy goes: a million-element catalog
  // builds no name unless a read throws.
  let at = -1;
  try {
    if (!Array.isArray(value)) {
      throw new InventoryError(
        'INVALID_ARGUMENT',
        `${what} must be an array, got ${describe(value)}`,
      );
    }
    const length = value.length;
    const copy = new Array<unknown>(length);
    for (at = 0; at < length; at++) copy[at] = value[at];
    return copy;
  } catch (error) {
    if (error instanceof InventoryError) throw error;
    throw unreadable(at < 0 ? what : `${what}[${at}]`, error);
  }
}

/**
 * Reads `names` of `value` once each. Returns the copies, or what is wrong when
 * `value` is no object; throws naming `path(field)` when a read throws. (The update
 * reader, the hot path, reads its four fields by hand instead: no record to build.)
 */
function readFields<K extends string>(
  value: unknown,
  names: readonly K[],
  path: (field: string) => string,
): Record<K, unknown> | string {
  let field = '';
  try {
    const problem = objectProblem(value);
    if (problem !== null) return problem;
    const source = value as Record<string, unknown>;
    const copy = {} as Record<K, unknown>;
    for (const name of names) {
      field = name;
      copy[name] = source[name];
    }
    return copy;
  } catch (error) {
    throw unreadable(path(field), error);
  }
}

const SET_FIELDS = ['productId', 'expectedVersion', 'name', 'price', 'available'] as const;

/** A product to create, as read. */
export interface ProductCopy {
  readonly productId: string;
  readonly name: string;
  readonly available: number;
  readonly price: number;
}

/**
 * Reads a product to create (`path` names it: 'products[3]', or a function that
 * builds the name only when it is needed: a million-product open builds none).
 * Returns the copy, or what is wrong with it; throws when a field cannot be read.
 * The fields are read by hand, not through readFields: no record per product.
 */
export function readProduct(value: unknown, path: string | (() => string)): ProductCopy | string {
  const at = () => (typeof path === 'string' ? path : path());
  const shape = objectProblem(value);
  if (shape !== null) return `${at()} ${shape}`;
  const source = value as Record<string, unknown>;
  let field = 'productId';
  let productId: unknown;
  let name: unknown;
  let available: unknown;
  let price: unknown;
  try {
    productId = source.productId;
    field = 'name';
    name = source.name;
    field = 'available';
    available = source.available;
    field = 'price';
    price = source.price;
  } catch (error) {
    throw unreadable(`${at()}.${field}`, error);
  }
  let problem = newIdProblem(productId);
  if (problem !== null) return `${at()}.productId ${problem}`;
  problem = name === undefined ? null : nameProblem(name);
  if (problem !== null) return `${at()}.name ${problem}`;
  problem = stockProblem(available);
  if (problem !== null) return `${at()}.available ${problem}`;
  problem = price === undefined ? null : priceProblem(price);
  if (problem !== null) return `${at()}.price ${problem}`;
  return {
    productId: productId as string,
    name: (name as string | undefined) ?? '',
    available: positiveZero(available as number),
    price: positiveZero((price as number | undefined) ?? 0),
  };
}

/** A change of name and/or price, as read. */
export interface SetCopy {
  readonly productId: string;
  readonly expected: number;
  readonly name: string | undefined;
  readonly price: number | undefined;
  /** A stock take: the absolute count. */
  readonly available: number | undefined;
}

export function readSet(value: unknown): SetCopy | InvalidRequest {
  const r = readFields(value, SET_FIELDS, (f) => (f === '' ? 'request' : `request.${f}`));
  if (typeof r === 'string') return invalid('request', r);
  const { productId, expectedVersion: expected, name, price, available } = r;
  const checks: [string, string | null][] = [
    ['productId', idProblem(productId)],
    ['expectedVersion', expectedVersionProblem(expected)],
    ['name', name === undefined ? null : nameProblem(name)],
    ['price', price === undefined ? null : priceProblem(price)],
    ['available', available === undefined ? null : stockProblem(available)],
  ];
  for (const [f, p] of checks) if (p !== null) return invalid(f, p);
  if (name === undefined && price === undefined && available === undefined) {
    return invalid('request', 'must set name, price or available');
  }
  return {
    productId: productId as string,
    expected: expected === undefined ? ANY_VERSION : (expected as number),
    name: name as string | undefined,
    price: price === undefined ? undefined : positiveZero(price as number),
    available: available === undefined ? undefined : positiveZero(available as number),
  };
}

/** deleteProduct's arguments, as read. */
export function readDelete(
  productId: unknown,
  options: unknown,
): { productId: string; expected: number } | InvalidRequest {
  const problem = idProblem(productId);
  if (problem !== null) return invalid('productId', problem);
  let expected: unknown;
  try {
    if (options !== undefined) {
      const p = objectProblem(options);
      if (p !== null) return invalid('options', p);
      expected = (options as Record<string, unknown>).expectedVersion;
    }
  } catch (error) {
    throw unreadable('options.expectedVersion', error);
  }
  const versionProblem = expectedVersionProblem(expected);
  if (versionProblem !== null) return invalid('expectedVersion', versionProblem);
  return {
    productId: productId as string,
    expected: expected === undefined ? ANY_VERSION : (expected as number),
  };
}

/** list()'s options, as read; a bad one throws INVALID_ARGUMENT. */
export function readListOptions(
  value: unknown,
  defaultLimit: number,
  maxLimit: number,
): { limit: number; after: string | undefined } {
  let limit: unknown;
  let after: unknown;
  let field = 'list options';
  try {
    if (value !== undefined) {
      const problem = objectProblem(value);
      if (problem !== null) {
        throw new InventoryError('INVALID_ARGUMENT', `list options ${problem}`);
      }
      const r = value as Record<string, unknown>;
      field = 'list options.limit';
      limit = r.limit;
      field = 'list options.after';
      after = r.after;
    }
  } catch (error) {
    if (error instanceof InventoryError) throw error;
    throw unreadable(field, error);
  }
  if (limit === undefined) limit = defaultLimit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
    throw new InventoryError(
      'INVALID_ARGUMENT',
      `list limit must be an integer from 1 to ${maxLimit}, got ${describe(limit)}`,
    );
  }
  if (after !== undefined && typeof after !== 'string') {
    throw new InventoryError(
      'INVALID_ARGUMENT',
      `list after must be a product id, got ${describe(after)}`,
    );
  }
  return { limit, after };
}

/** changes()'s options, as read: each field once, checked. */
export function readChangesOptions(value: unknown): {
  after: number;
  limit: number;
  waitMs: number;
} {
  const fields = ['after', 'limit', 'waitMs'] as const;
  const read =
    value === undefined
      ? {}
      : readFields(value, fields, (f) => (f === '' ? 'changes options' : `changes options.${f}`));
  if (typeof read === 'string') {
    throw new InventoryError('INVALID_ARGUMENT', `changes options ${read}`);
  }
  const bounded = (
    key: (typeof fields)[number],
    fallback: number,
    min: number,
    max: number,
  ): number => {
    const v = (read as Partial<Record<typeof key, unknown>>)[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new InventoryError(
        'INVALID_ARGUMENT',
        `changes ${key} must be an integer from ${min} to ${max}, got ${describe(v)}`,
      );
    }
    return v;
  };
  return {
    after: bounded('after', 0, 0, Number.MAX_SAFE_INTEGER),
    limit: bounded('limit', 100, 1, 10_000),
    waitMs: bounded('waitMs', 0, 0, 60_000),
  };
}
