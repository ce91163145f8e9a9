import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/index.js';
import { open, until } from '../helpers.js';

describe('get while a worker holds the product', () => {
  let inv: Inventory;

  beforeAll(async () => {
    // Each change holds the product's write lock for 1 s: the window in which the
    // test looks, opened by a handshake (the lock's acquisition counter), not a sleep.
    inv = await open({
      workers: 1,
      products: [{ productId: 'SKU-001', name: 'Widget', available: 10, price: 2 }],
      simulate: { holdUs: 1_000_000 },
    });
  });

  afterAll(async () => {
    await inv.close();
  });

  it('returns the last committed state at once, and the new one after the change', async () => {
    const before = inv.get('SKU-001');
    let settled = false;
    const pending = inv.update({ productId: 'SKU-001', delta: -4 }).then((o) => {
      settled = true;
      return o;
    });
    // The worker holds the product's write lock: the change is under way, unpublished.
    const acquired = inv.lockStats().acquisitions;
    await until(
      'the worker to take the lock',
      () => inv.lockStats().acquisitions > acquired,
      1_000,
    );
    for (let i = 0; i < 1_000; i++) {
      // Synchronous: a get that waited for the writer would return the new state.
      expect(inv.get('SKU-001')).toEqual(before);
    }
    expect(settled).toBe(false);
    const outcome = await pending;
    expect(outcome).toMatchObject({ status: 'applied', available: 6, version: 2 });
    expect(inv.get('SKU-001')).toMatchObject({
      available: 6,
      version: 2,
      name: 'Widget',
      price: 2,
    });
  });
});
