import { describe, expect, it } from 'vitest';
import { catalog, open } from '../helpers.js';

/**
 * In memory the feed is a window of the last `retainChanges` changes. An initial
 * catalog larger than the window: its creations are offsets 1…n, the window holds the
 * last `retainChanges` of them, the older ones read as expired, and the first change
 * after open follows them.
 */
describe('an initial catalog larger than the feed window', () => {
  it('keeps the last retainChanges creations, in order, and expires the rest', async () => {
    const products = catalog(250, 9);
    const inv = await open({ products, retainChanges: 100 });
    try {
      await expect(inv.changes({ after: 0 })).rejects.toMatchObject({
        code: 'OFFSET_EXPIRED',
        oldest: 151,
      });
      const page = await inv.changes({ after: 150, limit: 1000 });
      expect(page.hasMore).toBe(false);
      expect(page.items.map((c) => c.offset)).toEqual(
        Array.from({ length: 100 }, (_, i) => 151 + i),
      );
      for (const c of page.items) {
        const p = products[c.offset - 1];
        expect(c).toMatchObject({
          type: 'product_created',
          productId: p?.productId,
          name: p?.name,
          available: 9,
          version: 1,
        });
      }
      const outcome = await inv.update({ productId: 'SKU-0000', delta: -1 });
      expect(outcome).toMatchObject({ status: 'applied', offset: 251 });
      const next = await inv.changes({ after: 250 });
      expect(next.items).toMatchObject([
        { offset: 251, type: 'inventory_updated', productId: 'SKU-0000', delta: -1 },
      ]);
    } finally {
      await inv.close();
    }
  });
});
