/**
 * Which answers the idempotency cache marks as replays (isReplay: the HTTP service's
 * Idempotent-Replayed): those it gives from a key's first outcome, never a first
 * answer, a refusal of another payload, or a key it forgot.
 */
import { describe, expect, it } from 'vitest';
import { type Cached, IdempotencyCache, isReplay, updatePayload } from '../../src/idempotency.js';
import type { Applied } from '../../src/types.js';

const payload = updatePayload({ productId: 'P', delta: -1, expected: -1, key: undefined });
const other = updatePayload({ productId: 'P', delta: -2, expected: -1, key: undefined });
const applied: Applied = {
  status: 'applied',
  productId: 'P',
  available: 1,
  version: 2,
  lastUpdated: '2026-11-30T00:00:00.000Z',
  offset: 7,
};

describe('replays', () => {
  it('a key answered once is a replay the next time; its first answer is not', async () => {
    const idem = new IdempotencyCache(1000, 10);
    expect(idem.lookup('k', payload)).toBeUndefined();
    const first = Promise.resolve<Cached>(applied);
    const flying = idem.begin('k', payload, first);
    // A duplicate while the first is in flight shares its answer: a replay.
    const duplicate = idem.lookup('k', payload) as Promise<Cached>;
    idem.complete(flying, applied);
    expect(isReplay(applied)).toBe(false);
    const shared = await duplicate;
    expect(shared).toEqual(applied);
    expect(isReplay(shared)).toBe(true);
    const again = idem.lookup('k', payload) as Cached;
    expect(again).toEqual(applied);
    expect(isReplay(again)).toBe(true);
    // Each answer is its own object, marked on its own.
    expect(again).not.toBe(shared);
  });

  it('another payload under the key is refused, not replayed', () => {
    const idem = new IdempotencyCache(1000, 10);
    idem.remember('k', payload, applied);
    const reused = idem.lookup('k', other) as Cached;
    expect(reused.status).toBe('idempotency_key_reused');
    expect(isReplay(reused)).toBe(false);
  });

  it('a key restored at open replays; one forgotten after the TTL does not', () => {
    let now = 1_000;
    const idem = new IdempotencyCache(100, 10, () => now);
    expect(idem.restore('k', payload, applied, 950)).toBe(true);
    expect(idem.restore('k', payload, applied, 950)).toBe(false);
    expect(idem.restore('old', payload, applied, 800)).toBe(false);
    expect(isReplay(idem.lookup('k', payload) as Cached)).toBe(true);
    expect(idem.replays).toBe(1);
    now = 1_100;
    expect(idem.lookup('k', payload)).toBeUndefined();
  });
});
