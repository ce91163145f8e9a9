import { describe, expect, it } from 'vitest';
import {
  type Applied,
  type Inventory,
  InventoryError,
  type OrderOutcome,
  type UpdateOutcome,
} from '../../src/index.js';
import { catalog, open } from '../helpers.js';

/**
 * A pool thread that dies holding a product lock (the test hook simulate.crash): the
 * caller's thread repairs and frees what it held. The lock timeout is a minute, so a
 * product left locked would hang the calls after the death far past the test's own
 * timeout; conservation and the feed prove the outcomes truthful.
 */
const modes = ['fine', 'global'] as const;
const points = ['locked', 'publishing'] as const;

async function settle<T>(p: Promise<T>): Promise<T | InventoryError> {
  try {
    return await p;
  } catch (error) {
    if (error instanceof InventoryError) return error;
    throw error;
  }
}

describe.each(modes)('a thread that dies inside a lock (%s)', (lockMode) => {
  it.each(points)('at %s: the product is usable again and outcomes are truthful', async (at) => {
    const products = catalog(4, 100);
    const inv: Inventory = await open({
      workers: 2,
      lockMode,
      products,
      lockTimeoutMs: 60_000,
      simulate: { crash: { after: 7, at } },
    });
    try {
      const ids = products.map((p) => p.productId);
      const calls: Promise<UpdateOutcome | OrderOutcome | InventoryError>[] = [];
      const deltas: number[][] = [];
      for (let i = 0; i < 24; i++) {
        const id = ids[i % ids.length] as string;
        if (i % 6 === 5) {
          calls.push(
            settle(
              inv.order({
                items: [
                  { productId: ids[0] as string, delta: -1 },
                  { productId: ids[3] as string, delta: -1 },
                ],
              }),
            ),
          );
          deltas.push([-1, 0, 0, -1]);
        } else {
          calls.push(settle(inv.update({ productId: id, delta: -1 })));
          const d = [0, 0, 0, 0];
          d[i % ids.length] = -1;
          deltas.push(d);
        }
      }
      const results = await Promise.all(calls);
      const failed = results.filter((r) => r instanceof InventoryError) as InventoryError[];
      expect(inv.stats().threadDeaths).toBe(1);
      // Died before touching the record: its row was not applied, and says so.
      if (at === 'locked') expect(failed.length).toBeGreaterThan(0);
      for (const e of failed) expect(e.code).toBe('WORKER_FAILED');

      // Every product takes a write at once, and a listing (the global lock) works.
      const after = await Promise.all(ids.map((productId) => inv.update({ productId, delta: 1 })));
      for (const a of after) expect(a.status).toBe('applied');
      await inv.list();

      // Conservation: the stock moved by exactly the applied changes.
      const expected = [100, 100, 100, 100];
      results.forEach((r, i) => {
        if (r instanceof InventoryError || r.status !== 'applied') return;
        (deltas[i] as number[]).forEach((d, p) => {
          expected[p] = (expected[p] as number) + d;
        });
      });
      ids.forEach((id, p) => {
        expect(inv.get(id)?.available).toBe((expected[p] as number) + 1);
      });

      // The feed agrees: gap-free offsets, each applied outcome's change in it.
      const feed = await inv.changes({ after: 0, limit: 1000 });
      const offsets = feed.items.map((c) => c.offset);
      expect(offsets).toEqual(offsets.map((_, i) => (offsets[0] as number) + i));
      const byOffset = new Map(feed.items.map((c) => [c.offset, c]));
      for (const r of results) {
        if (r instanceof InventoryError || r.status !== 'applied') continue;
        const applied = 'items' in r ? r.items : [r as Applied];
        for (const item of applied) {
          expect(byOffset.get(item.offset)).toMatchObject({
            productId: item.productId,
            available: item.available,
            version: item.version,
          });
        }
      }
      const moved = new Map<string, number>();
      for (const c of feed.items) {
        if (c.type === 'inventory_updated') {
          moved.set(c.productId, (moved.get(c.productId) ?? 0) + (c.delta as number));
        }
      }
      ids.forEach((id) => {
        expect(100 + (moved.get(id) ?? 0)).toBe(inv.get(id)?.available);
      });
    } finally {
      await inv.close();
    }
  });
});
