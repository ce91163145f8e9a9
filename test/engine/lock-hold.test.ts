import { afterEach, describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/index.js';
import { open } from '../helpers.js';

/**
 * Hold times, as the original service logs lock duration. `simulate.holdUs` waits in
 * Atomics.wait, which never returns before its timeout: each hold lasts at least that
 * long, so these are relations the clock guarantees, not timings of this machine.
 */
describe('lock hold times', () => {
  let inv: Inventory;
  afterEach(() => inv?.close());

  it('counts each product lock held, in total and at most, and names the longest held', async () => {
    inv = await open({
      products: [
        { productId: 'A', available: 100 },
        { productId: 'B', available: 100 },
      ],
      simulate: { holdUs: 5_000 },
    });
    await inv.updateMany(Array.from({ length: 4 }, () => ({ productId: 'A', delta: -1 })));
    await inv.update({ productId: 'B', delta: -1 });
    const stats = inv.lockStats();
    const [first, second] = stats.hottestByHold;
    expect(first).toMatchObject({ productId: 'A' });
    expect(second).toMatchObject({ productId: 'B' });
    expect(first?.holdMs).toBeGreaterThanOrEqual(4 * 5);
    expect(first?.maxHoldMs).toBeGreaterThanOrEqual(5);
    expect(first?.holdMs).toBeGreaterThanOrEqual(first?.maxHoldMs ?? Infinity);
    expect(second?.holdMs).toBeGreaterThanOrEqual(5);
    expect(stats.holdMs).toBeGreaterThanOrEqual(
      (first?.holdMs ?? 0) + (second?.holdMs ?? 0) - 0.01,
    );
    expect(stats.maxHoldMs).toBe(Math.max(first?.maxHoldMs ?? 0, second?.maxHoldMs ?? 0));
  });

  it('counts the global lock held in X mode in global mode', async () => {
    inv = await open({
      lockMode: 'global',
      products: [{ productId: 'A', available: 100 }],
      simulate: { holdUs: 5_000 },
    });
    await inv.update({ productId: 'A', delta: -1 });
    await inv.order({ items: [{ productId: 'A', delta: -1 }] });
    const stats = inv.lockStats();
    expect(stats.global.holdMs).toBeGreaterThanOrEqual(2 * 5);
    expect(stats.global.maxHoldMs).toBeGreaterThanOrEqual(5);
    expect(stats.hottestByHold).toEqual([]);
  });
});
