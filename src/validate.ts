/**
 * Request validation on the caller's thread: a bad request is answered
 * `invalid_request`, naming the field, before anything is queued or changed.
 *
 * Each `*Problem` function returns what is wrong with a value, or null; they
 * allocate nothing when the value is good, which is the hot path.
 */
import { ID_MAX_BYTES, NAME_MAX_BYTES } from '../memory/layout.js';
import type { InvalidRequest } from './types.js';

export const MAX_KEY_LENGTH = 255;

export function invalid(field: string, problem: string): InvalidRequest {
  return { status: 'invalid_request', field, message: `${field} ${problem}` };
}

/** Whether `s` fits `max` bytes of UTF-8, measuring only when its length cannot tell. */
function fitsBytes(s: string, max: number): boolean {
  // A UTF-16 code unit takes at least 1 and at most 3 bytes of UTF-8.
  if (s.length * 3 <= max) return true;
  if (s.length > max) return false;
  return Buffer.byteLength(s, 'utf8') <= max;
}

export function idProblem(id: unknown): string | null {
  if (typeof id !== 'string' || id.length === 0) {
    return `must be a non-empty string, got ${describe(id)}`;
  }
  return fitsBytes(id, ID_MAX_BYTES) ? null : `must be at most ${ID_MAX_BYTES} bytes of UTF-8`;
}

export function nameProblem(name: unknown): string | null {
  if (typeof name !== 'string') return `must be a string, got ${describe(name)}`;
  return fitsBytes(name, NAME_MAX_BYTES)
    ? null
    : `must be at most ${NAME_MAX_BYTES} bytes of UTF-8`;
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

/**
 * Checks an update, or an order item when `prefix` names it ("items[2].").
 * `idempotencyKey` is checked by the caller: order items have none.
 */
export function checkUpdate(request: unknown, prefix = ''): InvalidRequest | null {
  let problem = objectProblem(request);
  if (problem !== null) return invalid(prefix === '' ? 'request' : prefix.slice(0, -1), problem);
  const r = request as Record<string, unknown>;
  problem = idProblem(r.productId);
  if (problem !== null) return invalid(`${prefix}productId`, problem);
  problem = deltaProblem(r.delta);
  if (problem !== null) return invalid(`${prefix}delta`, problem);
  problem = expectedVersionProblem(r.expectedVersion);
  if (problem !== null) return invalid(`${prefix}expectedVersion`, problem);
  return null;
}

export function describe(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}
