/**
 * The one-task-per-update peer (bench/naive.ts) when its task fails: like lockstock, it
 * records nothing under the request's key, so the same request sent again applies.
 * Runs against the compiled worker in dist/: `npm run build` first.
 */
import { describe, expect, it } from 'vitest';
import { NaiveInventory } from '../../bench/naive.js';
import { until } from '../helpers.js';

describe('one task per update: a keyed request whose task failed', () => {
  it('leaves its key free, so that a retry applies once', async () => {
    // Each change holds the lock 300 ms; a second change to the same product, on the
    // other thread, waits at most 50 ms.
    const naive = new NaiveInventory({
      products: [{ productId: 'SKU-1', available: 10 }],
      workers: 2,
      holdUs: 300_000,
      lockTimeoutMs: 50,
    });
    try {
      const first = naive.update({ productId: 'SKU-1', delta: -1 });
      await until('the first change to take the lock', () => naive.lockAcquisitions('SKU-1') > 0);
      const keyed = { productId: 'SKU-1', delta: -2, idempotencyKey: 'retry-me' };
      await expect(naive.update(keyed)).rejects.toMatchObject({
        name: 'InventoryError',
        code: 'LOCK_TIMEOUT',
      });
      expect(await first).toMatchObject({ status: 'applied', available: 9, version: 2 });
      // Had the key kept the failure, this would reject again.
      const retried = await naive.update(keyed);
      expect(retried).toMatchObject({ status: 'applied', available: 7, version: 3 });
      expect(await naive.update(keyed)).toStrictEqual(retried);
      expect(naive.get('SKU-1')).toMatchObject({ available: 7, version: 3 });
    } finally {
      await naive.close();
    }
  });

  it('fails an order whose lock was not taken in time, and frees its key too', async () => {
    const naive = new NaiveInventory({
      products: [
        { productId: 'SKU-1', available: 10 },
        { productId: 'SKU-2', available: 10 },
      ],
      workers: 2,
      holdUs: 300_000,
      lockTimeoutMs: 50,
    });
    try {
      const first = naive.update({ productId: 'SKU-2', delta: -1 });
      await until('the first change to take the lock', () => naive.lockAcquisitions('SKU-2') > 0);
      const order = {
        items: [
          { productId: 'SKU-1', delta: -1 },
          { productId: 'SKU-2', delta: -1 },
        ],
        idempotencyKey: 'cart',
      };
      await expect(naive.order(order)).rejects.toMatchObject({ code: 'LOCK_TIMEOUT' });
      await first;
      // Nothing of the failed order was applied, and its SKU-1 lock was released.
      expect(naive.get('SKU-1')).toMatchObject({ available: 10, version: 1 });
      const retried = await naive.order(order);
      expect(retried).toMatchObject({
        status: 'applied',
        items: [
          { productId: 'SKU-1', available: 9, version: 2 },
          { productId: 'SKU-2', available: 8, version: 3 },
        ],
      });
    } finally {
      await naive.close();
    }
  });
});
