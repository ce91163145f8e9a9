/**
 * The idempotency cache keeps update outcomes as numbers in its table and orders'
 * outcomes as objects beside it: either way a replay is the first outcome exactly, in
 * an object of the caller's own.
 */
import { describe, expect, it } from 'vitest';
import { IdempotencyCache, orderPayload, updatePayload } from '../../src/idempotency.js';
import type { UpdateCopy } from '../../src/requests.js';
import type { OrderOutcome, UpdateOutcome } from '../../src/types.js';

const item = (productId: string, delta: number, expected = -1): UpdateCopy => ({
  productId,
  delta,
  expected,
  key: undefined,
});

const updates: [string, UpdateOutcome][] = [
  [
    'applied',
    {
      status: 'applied',
      productId: 'P',
      available: 2 ** 52,
      version: 2 ** 32 + 7,
      lastUpdated: '2026-11-30T12:34:56.789Z',
      offset: 2 ** 40,
    },
  ],
  ['version_conflict', { status: 'version_conflict', productId: 'P', version: 9, available: 0 }],
  ['insufficient', { status: 'insufficient_inventory', productId: 'P', available: 1, version: 3 }],
  ['not found', { status: 'product_not_found', productId: 'P' }],
  // A lastUpdated the engine's clock would not write: kept as it came.
  [
    'applied, odd time',
    {
      status: 'applied',
      productId: 'P',
      available: 1,
      version: 2,
      lastUpdated: '2026-11-30T12:34:56Z',
      offset: 3,
    },
  ],
];

describe('outcomes replayed from the table', () => {
  it.each(updates)('gives back %s exactly, a new object each time', (_, outcome) => {
    const cache = new IdempotencyCache(1_000, 10);
    const payload = updatePayload(item('P', -1, 4));
    cache.remember('k', payload, outcome);
    const first = cache.check('k', payload);
    const second = cache.check('k', payload);
    expect(first).toStrictEqual(outcome);
    expect(JSON.stringify(first)).toBe(JSON.stringify(outcome));
    expect(first).not.toBe(outcome);
    expect(first).not.toBe(second);
  });

  it('gives back a product id with NUL, multi-byte characters and a lone surrogate', () => {
    const cache = new IdempotencyCache(1_000, 10);
    for (const id of ['a\u0000b', 'é😀', '\ud800', '\udc00x']) {
      const payload = updatePayload(item(id, 1));
      cache.remember(`k-${id}`, payload, { status: 'product_not_found', productId: id });
      expect(cache.check(`k-${id}`, payload)).toStrictEqual({
        status: 'product_not_found',
        productId: id,
      });
      // A lone surrogate in plain UTF-8 would read as U+FFFD: that id is another payload.
      const lookalike = id.replace(/[\ud800-\udfff]/gu, '\ufffd');
      if (lookalike !== id) {
        expect(cache.check(`k-${id}`, updatePayload(item(lookalike, 1)))).toBe('reused');
      }
    }
  });

  it('keeps an order outcome with its items, and copies them for each caller', () => {
    const cache = new IdempotencyCache(1_000, 10);
    const payload = orderPayload([item('A', -1), item('B', -2, 3)]);
    const outcome: OrderOutcome = {
      status: 'applied',
      items: [
        {
          productId: 'A',
          available: 4,
          version: 2,
          lastUpdated: '2026-11-30T00:00:00.000Z',
          offset: 7,
        },
        {
          productId: 'B',
          available: 1,
          version: 4,
          lastUpdated: '2026-11-30T00:00:00.000Z',
          offset: 8,
        },
      ],
    };
    cache.remember('cart', payload, outcome);
    const replay = cache.check('cart', payload) as typeof outcome;
    expect(replay).toStrictEqual(outcome);
    expect(replay.items[0]).not.toBe(outcome.items[0]);
    (replay.items[0] as { available: number }).available = 0;
    expect(cache.check('cart', payload)).toStrictEqual(outcome);
    expect(cache.check('cart', orderPayload([item('A', -1), item('B', -2)]))).toBe('reused');
    expect(cache.check('cart', orderPayload([item('A', -1)]))).toBe('reused');
    expect(cache.check('cart', updatePayload(item('A', -1)))).toBe('reused');
  });

  it.each<[string, OrderOutcome]>([
    ['not found', { status: 'product_not_found', productId: 'X\u0000', failedItem: 1 }],
    [
      'version conflict',
      { status: 'version_conflict', productId: 'A', version: 2 ** 33, available: 3, failedItem: 0 },
    ],
    [
      'insufficient',
      { status: 'insufficient_inventory', productId: 'C', available: 0, version: 5, failedItem: 2 },
    ],
  ])('keeps a failed order (%s) under its key, failedItem included', (_, outcome) => {
    const cache = new IdempotencyCache(1_000, 10);
    const payload = orderPayload([item('A', -1, 7), item('X\u0000', -1), item('C', -4)]);
    cache.remember('o', payload, outcome);
    expect(cache.check('o', payload)).toStrictEqual(outcome);
    expect(JSON.stringify(cache.check('o', payload))).toBe(JSON.stringify(outcome));
  });

  it('keeps an order outcome that does not match its items as it came', () => {
    const cache = new IdempotencyCache(1_000, 10);
    const payload = orderPayload([item('A', -1)]);
    const odd: OrderOutcome = {
      status: 'applied',
      items: [{ productId: 'B', available: 1, version: 2, lastUpdated: 'then', offset: 3 }],
    };
    cache.remember('o', payload, odd);
    expect(cache.check('o', payload)).toStrictEqual(odd);
  });

  it('tells payloads apart by kind, product, delta and expected version', () => {
    const cache = new IdempotencyCache(1_000, 10);
    cache.remember('k', updatePayload(item('P', -1)), {
      status: 'product_not_found',
      productId: 'P',
    });
    expect(cache.check('k', updatePayload(item('Q', -1)))).toBe('reused');
    expect(cache.check('k', updatePayload(item('PP', -1)))).toBe('reused');
    expect(cache.check('k', updatePayload(item('P', 1)))).toBe('reused');
    expect(cache.check('k', updatePayload(item('P', -1, 1)))).toBe('reused');
    expect(cache.check('k', orderPayload([item('P', -1)]))).toBe('reused');
    expect(cache.check('k', updatePayload(item('P', -1)))).toStrictEqual({
      status: 'product_not_found',
      productId: 'P',
    });
  });
});
