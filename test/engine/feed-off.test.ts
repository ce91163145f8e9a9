import { describe, expect, it } from 'vitest';
import type { InventoryError } from '../../src/index.js';
import { catalog, open } from '../helpers.js';

/**
 * In memory with `retainChanges: 0` the feed is off: pool threads record nothing (the
 * change log's cost is gone), `changes` says so, and a thread that dies mid-publish is
 * still repaired — its change rolls back, since nothing recorded it.
 */
describe('the feed turned off (retainChanges: 0, no dataDir)', () => {
  it('applies changes, refuses the feed by name, and repairs a dead thread', async () => {
    const products = catalog(3, 50);
    const inv = await open({
      products,
      retainChanges: 0,
      lockTimeoutMs: 60_000,
      simulate: { crash: { after: 5, at: 'publishing' } },
    });
    try {
      const ids = products.map((p) => p.productId);
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          inv.update({ productId: ids[i % 3] as string, delta: -1 }),
        ),
      );
      expect(inv.stats().threadDeaths).toBe(1);
      let applied = 0;
      for (const r of results) {
        if (r.status === 'fulfilled') {
          expect(r.value.status).toBe('applied');
          applied++;
        } else {
          expect((r.reason as InventoryError).code).toBe('WORKER_FAILED');
        }
      }
      expect(applied).toBeLessThan(12);
      // Every product is usable at once, and stock moved by exactly what applied.
      const after = await Promise.all(ids.map((productId) => inv.update({ productId, delta: 1 })));
      for (const a of after) expect(a.status).toBe('applied');
      const total = ids.reduce((sum, id) => sum + (inv.get(id)?.available ?? 0), 0);
      expect(total).toBe(150 - applied + 3);

      const offset = inv.stats().offset;
      expect(inv.stats().durableOffset).toBe(offset);
      await expect(inv.changes({ after: 0 })).rejects.toMatchObject({
        code: 'OFFSET_EXPIRED',
        oldest: offset + 1,
        message: expect.stringContaining('the feed is off'),
      });
      expect(await inv.changes({ after: offset })).toEqual({
        items: [],
        next: offset,
        hasMore: false,
      });
    } finally {
      await inv.close();
    }
  });
});
