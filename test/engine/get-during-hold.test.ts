import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/index.js';
import { open, until } from '../helpers.js';

describe('get while a worker holds the product', () => {
  let inv: Inventory;

  beforeAll(async () => {
    // Each change holds the product's write lock for 300 ms.
    inv = await open({
      workers: 1,
      products: [{ productId: 'SKU-001', name: 'Widget', available: 10, price: 2 }],
      simulate: { holdUs: 300_000 },
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
    // The worker has taken the batch (it left the queue) and now sits in the hold.
    await until('the worker to start the change', () => inv.stats().queued === 0);
    for (let i = 0; i < 1_000; i++) {
      // Synchronous: if get waited for the writer, this loop would take 300 ms per call.
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
