import { describe, expect, it } from 'vitest';
import type { Inventory, UpdateOutcome, UpdateRequest } from '../../src/index.js';
import { catalog, open, random } from '../helpers.js';

/**
 * The same workload in both lock modes. Requests for one product within one bulk
 * call apply in order, and different products are independent, so every outcome
 * but its offset and time is determined by the workload alone.
 */
async function run(inv: Inventory, waves: UpdateRequest[][]) {
  const outcomes: UpdateOutcome[] = [];
  for (const wave of waves) outcomes.push(...(await inv.updateMany(wave)));
  return outcomes.map((o) => {
    if (o.status !== 'applied') return o;
    const { offset: _offset, lastUpdated: _at, ...rest } = o;
    return rest;
  });
}

describe('global lock mode', () => {
  it('gives the same outcomes as fine mode on the same workload', async () => {
    const products = catalog(20, 50);
    const next = random(3);
    const waves = Array.from({ length: 10 }, () =>
      Array.from({ length: 500 }, (): UpdateRequest => {
        const p = products[Math.floor(next() * products.length)] as { productId: string };
        const roll = next();
        return {
          productId: roll < 0.02 ? 'SKU-MISSING' : p.productId,
          delta: roll < 0.8 ? -(1 + Math.floor(next() * 4)) : 1 + Math.floor(next() * 3),
          // Some requests name a version: a few of them will be stale.
          ...(roll > 0.9 ? { expectedVersion: 1 + Math.floor(next() * 40) } : {}),
        };
      }),
    );
    const results: Record<string, unknown> = {};
    for (const lockMode of ['fine', 'global'] as const) {
      const inv = await open({ workers: 3, products, lockMode });
      const outcomes = await run(inv, waves);
      const final = products.map((p) => inv.get(p.productId));
      const stats = inv.lockStats();
      expect(stats.lock_manager_type).toBe(
        lockMode === 'fine' ? 'fine_grained_per_product' : 'global',
      );
      expect(stats.acquisitions).toBeGreaterThan(0);
      await inv.close();
      results[lockMode] = { outcomes, final: final.map((p) => p && { ...p, lastUpdated: '' }) };
    }
    const statuses = new Set(
      (results.fine as { outcomes: UpdateOutcome[] }).outcomes.map((o) => o.status),
    );
    expect([...statuses].sort()).toEqual([
      'applied',
      'insufficient_inventory',
      'product_not_found',
      'version_conflict',
    ]);
    expect(results.global).toEqual(results.fine);
  });
});
