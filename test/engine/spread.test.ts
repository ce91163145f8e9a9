import { afterEach, describe, expect, it } from 'vitest';
import type { Inventory, UpdateOutcome } from '../../src/index.js';
import { catalog, open, until } from '../helpers.js';

/**
 * A handful of slow rows in flight: they spread over every free thread (issue 7),
 * while one product's rows of one tick still apply in call order.
 */
describe('few rows in flight', () => {
  let inv: Inventory;

  afterEach(async () => {
    await inv.close();
  });

  it('applies each product’s rows of a tick in call order, tick after tick, over four threads', async () => {
    // Four products carry chains of expectedVersion updates; their rows are written
    // interleaved with each other and with rows for twenty other products, so that a
    // lane split in the wrong place would apply a chain out of order (a conflict).
    // Three rows per batch: each product's rows of a tick span several batches.
    const products = catalog(24, 1_000_000);
    inv = await open({ workers: 4, maxBatch: 3, products, simulate: { holdUs: 200 } });
    const chains = products.slice(0, 4).map((p) => p.productId);
    const others = products.slice(4).map((p) => p.productId);
    const links = 3;
    const ticks = 40;
    for (let tick = 0; tick < ticks; tick++) {
      const pending: Promise<UpdateOutcome>[] = [];
      const expected: string[] = [];
      for (let link = 0; link < links; link++) {
        for (const productId of chains) {
          // Versions start at 1: link k of tick t expects 1 + t * links + k.
          const expectedVersion = 1 + tick * links + link;
          pending.push(inv.update({ productId, delta: link === 1 ? 2 : -1, expectedVersion }));
          expected.push(productId);
        }
        const other = others[(tick * links + link) % others.length] as string;
        pending.push(inv.update({ productId: other, delta: -1 }));
        expected.push(other);
      }
      const outcomes = await Promise.all(pending);
      outcomes.forEach((o, i) => {
        expect(o, `tick ${tick}, call ${i} (${expected[i]})`).toMatchObject({
          status: 'applied',
        });
      });
    }
    for (const productId of chains) {
      expect(inv.get(productId)).toMatchObject({
        version: 1 + ticks * links,
        available: 1_000_000,
      });
    }
  });

  it('applies rows for different products on several threads at once', async () => {
    // With four threads, slots 0, 4, 8 and 12 all fall in partition 0 of a
    // slot % threads split: the rows that once queued behind each other on one thread.
    // Each row holds its lock for 1 s. A thread holds one product at a time and
    // publishes a row before it takes the next lock, so four acquisitions while no
    // row has published yet mean four rows held at once, on four threads.
    const products = catalog(16);
    inv = await open({ workers: 4, products, simulate: { holdUs: 1_000_000 } });
    const ids = [0, 4, 8, 12].map((i) => (products[i] as { productId: string }).productId);
    const before = inv.lockStats().acquisitions;
    const pending = Promise.all(ids.map((productId) => inv.update({ productId, delta: -1 })));
    await until(
      'four product locks taken',
      () => inv.lockStats().acquisitions >= before + ids.length,
    );
    // Read after the acquisitions were seen: a row applied before another on the same
    // thread would have published its new version by now.
    expect(ids.map((id) => inv.get(id)?.version)).toEqual([1, 1, 1, 1]);
    const outcomes = await pending;
    expect(outcomes.map((o) => o.status)).toEqual(['applied', 'applied', 'applied', 'applied']);
  });
});
