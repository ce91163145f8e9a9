import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Change, Inventory, InventoryOptions, Product } from '../../src/index.js';
import { catalog, open, random } from '../helpers.js';

/**
 * close → open on the same data directory brings back everything exactly: products,
 * versions, offsets, the feed, and keys (a replay answers the same, applies nothing).
 */
const dirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lockstock-restart-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function everything(inv: Inventory): Promise<Product[]> {
  const all: Product[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await inv.list({ limit: 1000, after });
    all.push(...page.items);
    if (page.next === null) return all;
    after = page.next;
  }
}

async function feed(inv: Inventory): Promise<Change[]> {
  const all: Change[] = [];
  let after = 0;
  for (;;) {
    const page = await inv.changes({ after, limit: 500 });
    all.push(...page.items);
    if (!page.hasMore) return all;
    after = page.next;
  }
}

describe.each(['fsync', 'write'] as const)('restart (%s)', (durability) => {
  it('a keyed, mixed workload comes back exactly', async () => {
    const dir = dataDir();
    const options: InventoryOptions = { dataDir: dir, durability, workers: 2 };
    const products = catalog(20, 500);
    let inv = await open({ ...options, products });
    const next = random(7);
    const pick = () => (products[Math.floor(next() * products.length)] as Product).productId;
    const keyed: { key: string; request: () => Promise<unknown>; first: unknown }[] = [];
    for (let round = 0; round < 5; round++) {
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < 200; i++) {
        const key = `r${round}-k${i}`;
        const roll = next();
        let request: () => Promise<unknown>;
        if (roll < 0.7) {
          const u = { productId: pick(), delta: next() < 0.7 ? -1 : 2, idempotencyKey: key };
          request = () => inv.update(u);
        } else if (roll < 0.85) {
          const o = {
            items: [
              { productId: pick(), delta: -1 },
              { productId: pick(), delta: -2 },
            ],
            idempotencyKey: key,
          };
          request = () => inv.order(o);
        } else if (roll < 0.9) {
          const id = `NEW-${round}-${i}`;
          request = () => inv.createProducts([{ productId: id, name: `New ${i}`, available: 7 }]);
        } else if (roll < 0.97) {
          const s = { productId: pick(), price: round + i / 100, available: 300 + i };
          request = () => inv.setProduct(s);
        } else {
          const id = `NEW-${round - 1}-${i}`;
          request = () => inv.deleteProduct(id);
        }
        const entry = { key, request, first: undefined as unknown };
        if (roll < 0.85) keyed.push(entry);
        calls.push(request().then((o) => (entry.first = o)));
      }
      await Promise.all(calls);
    }
    const before = { products: await everything(inv), feed: await feed(inv), stats: inv.stats() };
    expect(before.feed.length).toBeGreaterThan(500);
    await inv.close();

    inv = await open({ ...options, products: catalog(3, 1, 'IGNORED-') });
    try {
      expect(await everything(inv)).toEqual(before.products);
      expect(await feed(inv)).toEqual(before.feed);
      expect(inv.stats().offset).toBe(before.stats.offset);
      // Replays: the same outcome, nothing applied.
      const applied = keyed.filter((k) => (k.first as { status: string }).status === 'applied');
      for (const k of applied) expect(await k.request()).toEqual(k.first);
      expect(inv.stats().offset).toBe(before.stats.offset);
      // The next change takes the next offset.
      const u = await inv.update({ productId: products[0]?.productId as string, delta: 1 });
      expect(u).toMatchObject({ status: 'applied', offset: before.stats.offset + 1 });
    } finally {
      await inv.close();
    }
  });
});
