import { afterEach, describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/index.js';
import { open } from '../helpers.js';

describe('every caller gets an outcome object of its own', () => {
  let inv: Inventory;
  afterEach(() => inv?.close());

  it('duplicates in flight share the outcome, not the object', async () => {
    inv = await open({ products: [{ productId: 'A', available: 10 }] });
    const request = { productId: 'A', delta: -1, idempotencyKey: 'dup' };
    const [first, second, [third]] = await Promise.all([
      inv.update(request),
      inv.update({ ...request }),
      inv.updateMany([{ ...request }]),
    ]);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(second).not.toBe(first);
    expect(third).not.toBe(first);
    (first as { available: number }).available = -999;
    expect(second).toMatchObject({ available: 9 });
    const replay = await inv.update({ ...request });
    expect(replay).toMatchObject({ available: 9 });
    expect(inv.get('A')).toMatchObject({ available: 9, version: 2 });
  });

  it('order duplicates get their own items', async () => {
    inv = await open({ products: [{ productId: 'A', available: 10 }] });
    const order = { items: [{ productId: 'A', delta: -1 }], idempotencyKey: 'o' };
    const [a, b] = await Promise.all([inv.order(order), inv.order(order)]);
    expect(b).toEqual(a);
    if (a.status !== 'applied' || b.status !== 'applied') throw new Error('not applied');
    expect(b.items).not.toBe(a.items);
    expect(b.items[0]).not.toBe(a.items[0]);
    (a.items[0] as { available: number }).available = -1;
    const replay = await inv.order(order);
    expect(replay).toMatchObject({ items: [{ available: 9 }] });
  });

  it('queue_full is a plain, changeable object for each caller', async () => {
    inv = await open({ queueSize: 1, products: [{ productId: 'A', available: 10 }] });
    const calls = [1, 2, 3].map(() => inv.update({ productId: 'A', delta: 1 }));
    const [, full1, full2] = await Promise.all(calls);
    expect(full1).toEqual({ status: 'queue_full', queueSize: 1, retryable: true });
    expect(full2).not.toBe(full1);
    expect(Object.isFrozen(full1)).toBe(false);
  });
});
