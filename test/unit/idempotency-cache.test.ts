import { describe, expect, it } from 'vitest';
import { IdempotencyCache, orderPayload, updatePayload } from '../../src/idempotency.js';
import type { UpdateCopy } from '../../src/requests.js';
import type { Applied, UpdateOutcome } from '../../src/types.js';

const applied = (offset: number): Applied => ({
  status: 'applied',
  productId: 'P',
  available: 10 - offset,
  version: offset + 1,
  lastUpdated: '2026-11-30T00:00:00.000Z',
  offset,
});
const request = (delta: number, expected = -1): UpdateCopy => ({
  productId: 'P',
  delta,
  expected,
  key: undefined,
});

describe('idempotency cache', () => {
  it('replays the outcome for the same payload and refuses another payload', () => {
    const cache = new IdempotencyCache(1_000, 10);
    cache.remember('k', updatePayload(request(-1)), applied(1));
    expect(cache.check('k', updatePayload(request(-1)))).toEqual(applied(1));
    expect(cache.check('k', updatePayload(request(-2)))).toBe('reused');
    expect(cache.check('k', updatePayload(request(-1, 3)))).toBe('reused');
    expect(cache.check('k', orderPayload([request(-1)]))).toBe('reused');
    expect(cache.check('other', updatePayload(request(-1)))).toBeUndefined();
    expect(cache.replays).toBe(1);
  });

  it('keeps outcomes other than applied as they are', () => {
    const cache = new IdempotencyCache(1_000, 10);
    const conflict: UpdateOutcome = {
      status: 'version_conflict',
      productId: 'P',
      version: 3,
      available: 1,
    };
    cache.remember('k', updatePayload(request(-1)), conflict);
    const replay = cache.check('k', updatePayload(request(-1)));
    expect(replay).toEqual(conflict);
    // A copy: a caller changing its outcome changes nobody else's.
    expect(replay).not.toBe(conflict);
  });

  it('shares the promise of a key in flight, and forgets an abandoned one', async () => {
    const cache = new IdempotencyCache(1_000, 10);
    const promise = Promise.resolve(applied(1));
    const flying = cache.begin('k', updatePayload(request(-1)), promise);
    await expect(cache.check('k', updatePayload(request(-1)))).resolves.toEqual(applied(1));
    expect(cache.check('k', updatePayload(request(-5)))).toBe('reused');
    cache.complete(flying, applied(1));
    expect(cache.check('k', updatePayload(request(-1)))).toEqual(applied(1));
    const lost = cache.begin('j', updatePayload(request(-1)), promise);
    cache.abandon(lost);
    expect(cache.check('j', updatePayload(request(-1)))).toBeUndefined();
  });

  it('expires keys after ttlMs', () => {
    let now = 0;
    const cache = new IdempotencyCache(100, 10, () => now);
    cache.remember('k', updatePayload(request(-1)), applied(1));
    now = 99;
    expect(cache.check('k', updatePayload(request(-1)))).toEqual(applied(1));
    now = 100;
    expect(cache.check('k', updatePayload(request(-1)))).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('evicts the oldest first, through growth and wrap-around of its ring', () => {
    const max = 3000;
    const cache = new IdempotencyCache(1_000_000, max);
    for (let i = 0; i < 10_000; i++)
      cache.remember(`k${i}`, updatePayload(request(-1)), applied(i));
    expect(cache.size).toBe(max);
    for (let i = 0; i < 10_000 - max; i++) {
      expect(cache.check(`k${i}`, updatePayload(request(-1)))).toBeUndefined();
    }
    for (let i = 10_000 - max; i < 10_000; i++) {
      expect(cache.check(`k${i}`, updatePayload(request(-1)))).toEqual(applied(i));
    }
  });
});
