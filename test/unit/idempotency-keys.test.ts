/**
 * The idempotency cache's keys: each string its own key, however close to another;
 * maxKeys counting keys remembered and in flight; the oldest evicted first; expiry
 * after ttlMs — through the table's growth, wrap-around and hash collisions.
 */
import { describe, expect, it } from 'vitest';
import { rng } from '../../src/cli/workload.js';
import {
  type Cached,
  IdempotencyCache,
  KEYS_FULL,
  type Payload,
  updatePayload,
} from '../../src/idempotency.js';
import type { UpdateCopy } from '../../src/requests.js';
import type { Applied } from '../../src/types.js';

const request = (delta = -1): UpdateCopy => ({
  productId: 'P',
  delta,
  expected: -1,
  key: undefined,
});
const payload = updatePayload(request());
const applied = (offset: number): Applied => ({
  status: 'applied',
  productId: 'P',
  available: 1,
  version: offset + 1,
  lastUpdated: '2026-11-30T00:00:00.000Z',
  offset,
});
const offsetOf = (hit: unknown) => (hit as Applied | undefined)?.offset;

describe('idempotency keys', () => {
  it('keeps keys that differ only in NUL, accents, surrogates or length apart', () => {
    const keys = [
      'k',
      'k\u0000',
      '\u0000k',
      'é',
      'e\u0301',
      '😀',
      '\ud83d',
      '\ude00',
      '\ude00\ud83d',
      '\ufffd',
      'x'.repeat(255),
      '😀'.repeat(127),
    ];
    const cache = new IdempotencyCache(1_000, 100);
    keys.forEach((k, i) => {
      cache.remember(k, payload, applied(i));
    });
    keys.forEach((k, i) => {
      expect(offsetOf(cache.check(k, payload)), JSON.stringify(k)).toBe(i);
    });
    expect(cache.check('x'.repeat(254), payload)).toBeUndefined();
  });

  it('shares a key in flight with its duplicates, each with its own copy', async () => {
    const cache = new IdempotencyCache(1_000, 10);
    let resolve: (o: Cached) => void = () => {};
    const promise = new Promise<Cached>((r) => {
      resolve = r;
    });
    const flying = cache.begin('k', payload, promise);
    const a = cache.lookup('k', payload) as Promise<Cached>;
    const b = cache.lookup('k', payload) as Promise<Cached>;
    expect(cache.lookup('k', updatePayload(request(-2)))).toEqual({
      status: 'idempotency_key_reused',
      idempotencyKey: 'k',
    });
    resolve(applied(5));
    cache.complete(flying, applied(5));
    const [x, y] = await Promise.all([a, b]);
    expect(x).toStrictEqual(applied(5));
    expect(x).not.toBe(y);
    expect(cache.check('k', payload)).toStrictEqual(applied(5));
    expect(cache.replays).toBe(3);
  });

  it('turns a new key away while maxKeys keys are in flight, and not after', () => {
    const cache = new IdempotencyCache(1_000, 3);
    const never = new Promise<Cached>(() => {});
    const flying = ['a', 'b', 'c'].map((k) => cache.begin(k, payload, never));
    expect(cache.lookup('d', payload)).toBe(KEYS_FULL);
    cache.complete(flying[0] as never, applied(1));
    expect(cache.lookup('d', payload)).toBeUndefined();
    // Remembered keys make room for keys in flight: 'a' goes first.
    cache.begin('d', payload, never);
    expect(cache.check('a', payload)).toBeUndefined();
    expect(cache.size).toBe(3);
  });

  it('stops counting and answering keys when they expire, oldest first', () => {
    let now = 1_000;
    const cache = new IdempotencyCache(100, 10_000, () => now);
    for (let i = 0; i < 5000; i++) {
      if (i % 1000 === 0) now += 10;
      cache.remember(`k${i}`, payload, applied(i));
    }
    expect(cache.size).toBe(5000);
    now = 1_000 + 10 + 100; // the first thousand were remembered at 1010
    expect(cache.size).toBe(4000);
    expect(cache.check('k999', payload)).toBeUndefined();
    expect(offsetOf(cache.check('k1000', payload))).toBe(1000);
    now += 1_000;
    expect(cache.check('k4999', payload)).toBeUndefined();
    expect(cache.size).toBe(0);
    // A key that expired may be used again, for another payload too.
    cache.remember('k1', updatePayload(request(-7)), applied(77));
    expect(offsetOf(cache.check('k1', updatePayload(request(-7))))).toBe(77);
  });

  it('evicts the oldest at maxKeys, keys of any length, through arena growth', () => {
    const max = 16;
    const cache = new IdempotencyCache(1_000_000, max);
    const key = (i: number) => `${i}:${'€'.repeat(i % 3 === 0 ? 250 : 3)}`;
    for (let i = 0; i < 500; i++) cache.remember(key(i), payload, applied(i));
    expect(cache.size).toBe(max);
    for (let i = 0; i < 500 - max; i++) expect(cache.check(key(i), payload)).toBeUndefined();
    for (let i = 500 - max; i < 500; i++) expect(offsetOf(cache.check(key(i), payload))).toBe(i);
  });

  it('agrees with a model through random churn in a tiny cache', () => {
    const next = rng(3);
    let now = 0;
    const ttl = 50;
    const max = 5;
    const cache = new IdempotencyCache(ttl, max, () => now);
    /** The model: key → [offset, expires, payload], in the order remembered. */
    const model = new Map<string, [number, number, Payload]>();
    for (let step = 0; step < 20_000; step++) {
      now += Math.floor(next() * 4);
      for (const [k, [, expires]] of model) if (expires <= now) model.delete(k);
      const key = `k${Math.floor(next() * 9)}`;
      const p = updatePayload(request(next() < 0.8 ? -1 : -2));
      const hit = cache.lookup(key, p);
      const known = model.get(key);
      if (known === undefined) {
        expect(hit, `${key} at step ${step}`).toBeUndefined();
        while (model.size >= max) model.delete(model.keys().next().value as string);
        model.set(key, [step, now + ttl, p]);
        cache.remember(key, p, applied(step));
      } else if (known[2].delta !== p.delta) {
        expect(hit).toEqual({ status: 'idempotency_key_reused', idempotencyKey: key });
      } else {
        expect(offsetOf(hit)).toBe(known[0]);
      }
      expect(cache.size).toBe(model.size);
    }
  });
});
