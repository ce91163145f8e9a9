import { describe, expect, it } from 'vitest';
import { open, until } from '../helpers.js';

describe('lock timeouts in the engine', () => {
  it('fails a request loudly when its product lock is held past lockTimeoutMs', async () => {
    // Each change holds the lock 300 ms; a second change to the same product from
    // another batch (another thread) waits at most 50 ms.
    const inv = await open({
      workers: 2,
      lockTimeoutMs: 50,
      simulate: { holdUs: 300_000 },
      products: [{ productId: 'SKU-001', available: 10 }],
    });
    const first = inv.update({ productId: 'SKU-001', delta: -1 });
    await until('the first change to take the lock', () => inv.lockStats().acquisitions > 0);
    const second = inv.update({ productId: 'SKU-001', delta: -1 });
    await expect(second).rejects.toMatchObject({
      name: 'InventoryError',
      code: 'LOCK_TIMEOUT',
      message: expect.stringContaining('product "SKU-001"'),
    });
    expect(await first).toMatchObject({ status: 'applied', available: 9 });
    // Nothing of the failed request was applied.
    expect(inv.get('SKU-001')).toMatchObject({ available: 9, version: 2 });
    // The wait shows in the lock statistics, with the product named as the hottest.
    const stats = inv.lockStats();
    expect(stats.contended).toBeGreaterThanOrEqual(1);
    expect(stats.waitMs).toBeGreaterThan(0);
    expect(stats.hottest[0]).toMatchObject({ productId: 'SKU-001' });
    await inv.close();
  });
});
