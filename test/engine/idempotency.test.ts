import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Inventory } from '../../src/index.js';
import { open } from '../helpers.js';

const products = [
  { productId: 'SKU-001', name: 'Widget', available: 100, price: 1 },
  { productId: 'SKU-002', name: 'Gadget', available: 100, price: 1 },
];

describe('idempotency keys', () => {
  let inv: Inventory;

  afterEach(async () => {
    vi.useRealTimers();
    await inv.close();
  });

  it('replays the first outcome, with the same offset, and applies once', async () => {
    inv = await open({ products });
    const request = { productId: 'SKU-001', delta: -2, idempotencyKey: 'order-77' };
    const first = await inv.update(request);
    const again = await inv.update({ ...request });
    expect(first.status).toBe('applied');
    expect(again).toEqual(first);
    expect(inv.get('SKU-001')).toMatchObject({ available: 98, version: 2 });
    expect(inv.stats().replays).toBe(1);
  });

  it('keeps the first outcome whatever it was', async () => {
    inv = await open({ products });
    const request = { productId: 'SKU-001', delta: -500, idempotencyKey: 'too-much' };
    const first = await inv.update(request);
    expect(first.status).toBe('insufficient_inventory');
    await inv.update({ productId: 'SKU-001', delta: 1000 });
    // Stock now suffices, but the key answers what it answered the first time.
    expect(await inv.update(request)).toEqual(first);
  });

  it('answers idempotency_key_reused for the same key with another payload, applying nothing', async () => {
    inv = await open({ products });
    await inv.update({ productId: 'SKU-001', delta: -2, idempotencyKey: 'k1' });
    for (const other of [
      { productId: 'SKU-001', delta: -3, idempotencyKey: 'k1' },
      { productId: 'SKU-002', delta: -2, idempotencyKey: 'k1' },
      { productId: 'SKU-001', delta: -2, expectedVersion: 2, idempotencyKey: 'k1' },
    ]) {
      expect(await inv.update(other)).toEqual({
        status: 'idempotency_key_reused',
        idempotencyKey: 'k1',
      });
    }
    // An order is another payload too.
    expect(
      await inv.order({ items: [{ productId: 'SKU-001', delta: -2 }], idempotencyKey: 'k1' }),
    ).toEqual({ status: 'idempotency_key_reused', idempotencyKey: 'k1' });
    expect(inv.get('SKU-001')).toMatchObject({ available: 98, version: 2 });
    expect(inv.get('SKU-002')).toMatchObject({ available: 100, version: 1 });
  });

  it('applies duplicates that arrive while the first is in flight once, sharing its outcome', async () => {
    // A slow critical section keeps the first request in flight while duplicates arrive.
    inv = await open({ products, simulate: { holdUs: 20_000 } });
    const request = { productId: 'SKU-001', delta: -1, idempotencyKey: 'retry-me' };
    const sameTick = Array.from({ length: 10 }, () => inv.update({ ...request }));
    await new Promise((resolve) => setImmediate(resolve));
    const laterTick = Array.from({ length: 10 }, () => inv.update({ ...request }));
    const viaMany = inv.updateMany([request, request, { ...request, delta: -5 }]);
    const outcomes = [
      ...(await Promise.all([...sameTick, ...laterTick])),
      ...(await viaMany).slice(0, 2),
    ];
    expect(new Set(outcomes.map((o) => JSON.stringify(o))).size).toBe(1);
    expect(outcomes[0]?.status).toBe('applied');
    expect((await viaMany)[2]?.status).toBe('idempotency_key_reused');
    expect(inv.get('SKU-001')).toMatchObject({ available: 99, version: 2 });
  });

  it('forgets a key after ttlMs, and the same request then applies again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    inv = await open({ products, idempotency: { ttlMs: 1_000 } });
    const request = { productId: 'SKU-001', delta: -1, idempotencyKey: 'ttl' };
    const first = await inv.update(request);
    vi.setSystemTime(Date.now() + 999);
    expect(await inv.update(request)).toEqual(first);
    vi.setSystemTime(Date.now() + 2);
    const later = await inv.update(request);
    expect(later.status).toBe('applied');
    expect(
      later.status === 'applied' && first.status === 'applied' && later.offset > first.offset,
    ).toBe(true);
    expect(inv.get('SKU-001')).toMatchObject({ available: 98 });
  });

  it('keeps at most maxKeys keys, evicting the oldest first', async () => {
    inv = await open({ products, idempotency: { maxKeys: 3 } });
    for (const key of ['a', 'b', 'c', 'd']) {
      await inv.update({ productId: 'SKU-001', delta: -1, idempotencyKey: key });
    }
    expect(inv.stats().idempotencyKeys).toBe(3);
    // 'd' is remembered; 'a', the oldest, was evicted and applies again.
    const d = await inv.update({ productId: 'SKU-001', delta: -1, idempotencyKey: 'd' });
    expect(d.status === 'applied' && d.version).toBe(5);
    const a = await inv.update({ productId: 'SKU-001', delta: -1, idempotencyKey: 'a' });
    expect(a.status === 'applied' && a.version).toBe(6);
  });

  it('does not remember a key whose request found the queue full, nor an invalid one', async () => {
    inv = await open({ products, queueSize: 2, simulate: { holdUs: 5_000 }, workers: 1 });
    const busy = [
      inv.update({ productId: 'SKU-002', delta: -1 }),
      inv.update({ productId: 'SKU-002', delta: -1 }),
    ];
    const full = await inv.update({ productId: 'SKU-001', delta: -1, idempotencyKey: 'later' });
    expect(full.status).toBe('queue_full');
    const bad = await inv.update({ productId: 'SKU-001', delta: 0, idempotencyKey: 'fixme' });
    expect(bad.status).toBe('invalid_request');
    await Promise.all(busy);
    expect(
      (await inv.update({ productId: 'SKU-001', delta: -1, idempotencyKey: 'later' })).status,
    ).toBe('applied');
    expect(
      (await inv.update({ productId: 'SKU-001', delta: -1, idempotencyKey: 'fixme' })).status,
    ).toBe('applied');
  });

  it('replays orders too', async () => {
    inv = await open({ products });
    const order = {
      items: [
        { productId: 'SKU-001', delta: -1 },
        { productId: 'SKU-002', delta: -3 },
      ],
      idempotencyKey: 'cart-9',
    };
    const first = await inv.order(order);
    expect(first.status).toBe('applied');
    expect(await inv.order(order)).toEqual(first);
    expect(inv.get('SKU-002')).toMatchObject({ available: 97, version: 2 });
  });
});
