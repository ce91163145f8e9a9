import { afterEach, describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/index.js';
import { open } from '../helpers.js';

describe('bounded queue', () => {
  let inv: Inventory;

  afterEach(async () => {
    await inv.close();
  });

  it('answers queue_full beyond queueSize, losing nothing and applying nothing twice', async () => {
    inv = await open({
      workers: 1,
      queueSize: 4,
      simulate: { holdUs: 10_000 },
      products: [{ productId: 'SKU-001', available: 1_000 }],
    });
    // Thirty calls in one tick: four fit the queue, the rest are turned away at once.
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, () => inv.update({ productId: 'SKU-001', delta: -1 })),
    );
    const applied = outcomes.filter((o) => o.status === 'applied');
    const full = outcomes.filter((o) => o.status === 'queue_full');
    expect(applied).toHaveLength(4);
    expect(full).toHaveLength(26);
    expect(full[0]).toEqual({ status: 'queue_full', queueSize: 4, retryable: true });
    expect(inv.get('SKU-001')).toMatchObject({ available: 996, version: 5 });
    expect(inv.stats().queueFull).toBe(26);
    // Retrying once the queue drained applies.
    expect((await inv.update({ productId: 'SKU-001', delta: -1 })).status).toBe('applied');
  });

  it('turns away orders that do not fit, and orders larger than the queue are invalid', async () => {
    inv = await open({
      workers: 1,
      queueSize: 4,
      simulate: { holdUs: 10_000 },
      products: [
        { productId: 'A', available: 9 },
        { productId: 'B', available: 9 },
      ],
    });
    const items = [
      { productId: 'A', delta: -1 },
      { productId: 'B', delta: -1 },
    ];
    const outcomes = await Promise.all([inv.order({ items }), inv.order({ items })]);
    expect(outcomes.map((o) => o.status)).toEqual(['applied', 'queue_full']);
    const big = await inv.order({
      items: Array.from({ length: 4 }, (_, i) => ({ productId: `X${i}`, delta: 1 })),
    });
    expect(big).toMatchObject({ status: 'invalid_request', field: 'items' });
  });

  it('feeds updateMany through a small queue without turning any request away', async () => {
    inv = await open({
      workers: 2,
      queueSize: 3,
      simulate: { holdUs: 1_000 },
      products: [{ productId: 'SKU-001', available: 1_000 }],
    });
    const outcomes = await inv.updateMany(
      Array.from({ length: 40 }, () => ({ productId: 'SKU-001', delta: -1 })),
    );
    expect(outcomes.every((o) => o.status === 'applied')).toBe(true);
    expect(inv.get('SKU-001')).toMatchObject({ available: 960, version: 41 });
    expect(inv.stats().queued).toBe(0);
  });
});
