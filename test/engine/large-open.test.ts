/**
 * Opening with a large initial catalog: it loads in chunks that let the event loop
 * turn, a bad product late in the list still leaves nothing behind, and `list` walks
 * the ids in order as products come and go.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rng } from '../../src/cli/workload.js';
import { Inventory, type ProductInput } from '../../src/index.js';
import { compareIds } from '../../src/sorted-ids.js';

const COUNT = 200_000;

function products(count: number): ProductInput[] {
  return Array.from({ length: count }, (_, i) => ({
    productId: `P${String(i).padStart(6, '0')}`,
    name: `Item ${i}`,
    available: 10,
  }));
}

function threads(): number {
  return readdirSync('/proc/self/task').length;
}

const quiet = { level: 'silent' } as const;

describe('a large open', () => {
  // The refusals come first: before this file's first engine, whose threads would
  // still be exiting after its close, so that the thread count is exact.
  it.each<[string, (list: unknown[]) => void, string]>([
    [
      'an invalid product',
      (list) => {
        list[COUNT - 2] = { productId: 'bad', available: -1 };
      },
      `products[${COUNT - 2}].available`,
    ],
    [
      'a repeated id',
      (list) => {
        list[COUNT - 2] = { productId: 'P000007', available: 1 };
      },
      `products[${COUNT - 2}].productId repeats "P000007"`,
    ],
    [
      'a field whose read throws',
      (list) => {
        list[COUNT - 2] = {
          productId: 'P-getter',
          get available() {
            throw new Error('boom');
          },
        };
      },
      `products[${COUNT - 2}].available could not be read`,
    ],
  ])('refuses %s late in the list, starting no thread', async (_, spoil, message) => {
    const list: unknown[] = products(COUNT);
    spoil(list);
    const before = threads();
    const handles = process.getActiveResourcesInfo().length;
    await expect(
      Inventory.open({ products: list as ProductInput[], workers: 2, logger: quiet }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining(message) });
    // None started; one of the test runner's own may end during a long open (seen
    // here: its handles 5 → 4), so the counts may fall, never rise.
    expect(threads()).toBeLessThanOrEqual(before);
    expect(process.getActiveResourcesInfo().length).toBeLessThanOrEqual(handles);
  });

  it('lets a timer run while it loads the catalog', async () => {
    const list: ProductInput[] = products(COUNT);
    let fired = false;
    let firedBeforeLast: boolean | undefined;
    // The last product tells, when the load reads it, whether the timer has run.
    list[COUNT - 1] = {
      get productId() {
        firedBeforeLast ??= fired;
        return 'P-last';
      },
      available: 1,
    };
    const timer = setTimeout(() => {
      fired = true;
    }, 0);
    const inv = await Inventory.open({ products: list, workers: 1, logger: quiet });
    clearTimeout(timer);
    try {
      expect(firedBeforeLast).toBe(true);
      expect(inv.get('P-last')).toMatchObject({ available: 1 });
      expect(inv.get('P000000')).toMatchObject({ name: 'Item 0', available: 10, version: 1 });
      expect(inv.stats().products).toBe(COUNT);
    } finally {
      await inv.close();
    }
  });
});

describe('list keeps ids in order as products come and go', () => {
  it('walks every live id once, in order, after creates and deletes', async () => {
    const random = rng(3);
    // Ids in no order, so the open sorts them.
    const ids = Array.from({ length: 5_000 }, (_, i) => `K${Math.floor(random() * 1e9)}-${i}`);
    const inv = await Inventory.open({
      products: ids.map((productId) => ({ productId, available: 1 })),
      capacity: 6_000,
      workers: 1,
      logger: quiet,
    });
    try {
      const live = new Set(ids);
      for (let i = 0; i < 300; i++) {
        const created = `C${Math.floor(random() * 1e9)}-${i}`;
        await inv.createProducts([{ productId: created, available: 1 }]);
        live.add(created);
        const gone = ids[i * 7] as string;
        expect(await inv.deleteProduct(gone)).toMatchObject({ status: 'applied' });
        live.delete(gone);
      }
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await inv.list({ limit: 333, ...(after === undefined ? {} : { after }) });
        seen.push(...page.items.map((p) => p.productId));
        if (page.next === null) break;
        after = page.next;
      }
      expect(seen).toEqual([...live].sort(compareIds));
      // A cursor that names a deleted product still pages from the next id on.
      const sorted = [...live].sort(compareIds);
      const page = await inv.list({ limit: 2, after: ids[0] as string });
      const next = sorted.filter((id) => compareIds(id, ids[0] as string) > 0).slice(0, 2);
      expect(page.items.map((p) => p.productId)).toEqual(next);
    } finally {
      await inv.close();
    }
  });
});
