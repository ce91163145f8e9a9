import { afterEach, describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/index.js';
import { open, until } from '../helpers.js';

describe('idempotency at its edges', () => {
  let inv: Inventory;
  afterEach(() => inv?.close());

  it('an order fingerprint cannot be forged with NUL characters in ids', async () => {
    // With items joined by NUL, these two orders used to read as the same payload.
    const forged = 'x\u00001\u0000\u0000y';
    inv = await open({
      products: [
        { productId: 'x', available: 10 },
        { productId: 'y', available: 10 },
        { productId: forged, available: 10 },
      ],
    });
    const first = await inv.order({
      items: [
        { productId: 'x', delta: 1 },
        { productId: 'y', delta: 2 },
      ],
      idempotencyKey: 'cart',
    });
    expect(first.status).toBe('applied');
    const other = await inv.order({
      items: [{ productId: forged, delta: 2 }],
      idempotencyKey: 'cart',
    });
    expect(other).toEqual({ status: 'idempotency_key_reused', idempotencyKey: 'cart' });
    expect(inv.get(forged)).toMatchObject({ available: 10, version: 1 });
  });

  it('a delta past MAX_SAFE_INTEGER records nothing under its key: a retry can apply', async () => {
    const max = Number.MAX_SAFE_INTEGER;
    inv = await open({ products: [{ productId: 'BIG', available: max - 5 }] });
    const request = { productId: 'BIG', delta: 10, idempotencyKey: 'restock' };
    expect(await inv.update(request)).toMatchObject({ status: 'invalid_request', field: 'delta' });
    expect(await inv.update({ productId: 'BIG', delta: -100 })).toMatchObject({
      status: 'applied',
    });
    expect(await inv.update(request)).toMatchObject({
      status: 'applied',
      available: max - 95,
    });
    const order = { items: [{ productId: 'BIG', delta: 200 }], idempotencyKey: 'o' };
    expect(await inv.order(order)).toMatchObject({
      status: 'invalid_request',
      field: 'items[0].delta',
    });
    await inv.update({ productId: 'BIG', delta: -300 });
    expect(await inv.order(order)).toMatchObject({ status: 'applied' });
  });

  it('maxKeys counts keys in flight', async () => {
    inv = await open({
      products: [{ productId: 'A', available: 1000 }],
      idempotency: { maxKeys: 10 },
      simulate: { holdUs: 500 },
    });
    const calls = Array.from({ length: 30 }, (_, i) =>
      inv.update({ productId: 'A', delta: -1, idempotencyKey: `k${i}` }),
    );
    expect(inv.stats().idempotencyKeys).toBeLessThanOrEqual(10);
    const outcomes = await Promise.all(calls);
    const applied = outcomes.filter((o) => o.status === 'applied').length;
    expect(applied).toBe(10);
    expect(outcomes.filter((o) => o.status === 'queue_full')).toHaveLength(20);
    expect(inv.stats().idempotencyKeys).toBe(10);
    expect(inv.get('A')).toMatchObject({ available: 990 });
  });

  it('expired keys stop counting when they expire, without another keyed call', async () => {
    inv = await open({
      products: [{ productId: 'A', available: 100 }],
      idempotency: { ttlMs: 50 },
    });
    await inv.updateMany(
      Array.from({ length: 5 }, (_, i) => ({ productId: 'A', delta: -1, idempotencyKey: `k${i}` })),
    );
    expect(inv.stats().idempotencyKeys).toBe(5);
    await until('the keys expire', () => inv.stats().idempotencyKeys === 0, 5_000);
  });
});
