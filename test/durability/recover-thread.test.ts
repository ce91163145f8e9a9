import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InventoryError } from '../../src/errors.js';
import { recover } from '../../src/journal/recover.js';
import { catalog, open } from '../helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A data directory of `catalog(50)` and one non-ASCII product, one update each, closed. */
async function written(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lockstock-recover-thread-'));
  dirs.push(dir);
  const products = [
    ...catalog(50),
    { productId: 'SKU-é€', name: 'Café ☕', available: 7, price: 2 },
  ];
  const inv = await open({ dataDir: dir, products });
  await inv.updateMany(products.map((p) => ({ productId: p.productId, delta: -1 })));
  await inv.close();
  return dir;
}

describe('open recovers on a thread', () => {
  it('writes every product back, ids UTF-8 included, and refuses a capacity below them', async () => {
    const dir = await written();
    await expect(open({ dataDir: dir, capacity: 40 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: `option capacity 40 is below the 51 products in ${dir}`,
    });
    const inv = await open({ dataDir: dir, capacity: 64 });
    try {
      expect(inv.stats().products).toBe(51);
      expect(inv.get('SKU-é€')).toMatchObject({ name: 'Café ☕', available: 6, version: 2 });
      expect(inv.get('SKU-0049')).toMatchObject({ name: 'Product 49', available: 999 });
      expect((await inv.list({ limit: 2 })).items.map((p) => p.productId)).toEqual([
        'SKU-0000',
        'SKU-0001',
      ]);
      // A new product takes a fresh slot after the recovered ones.
      await inv.createProducts([{ productId: 'SKU-new', name: 'n', available: 1, price: 1 }]);
      expect(inv.get('SKU-new')?.available).toBe(1);
    } finally {
      await inv.close();
    }
  });

  it("rejects a corrupt snapshot with recover()'s own CORRUPT_JOURNAL code and message", async () => {
    const dir = await written();
    const name = readdirSync(dir).find((n) => n.startsWith('snapshot-')) as string;
    const file = path.join(dir, name);
    const bytes = readFileSync(file);
    const at = bytes.length - 20;
    bytes[at] = (bytes[at] as number) ^ 0x40;
    writeFileSync(file, bytes);
    let expected: unknown;
    try {
      recover(dir, { ttlMs: 0, log: { warn: () => {} } });
    } catch (error) {
      expected = error;
    }
    expect(expected).toBeInstanceOf(InventoryError);
    const e = expected as InventoryError;
    // Not only the same on both paths: the right code, naming the file.
    expect(e.code).toBe('CORRUPT_JOURNAL');
    expect(e.message).toContain(name);
    const opening = open({ dataDir: dir });
    await expect(opening).rejects.toBeInstanceOf(InventoryError);
    await expect(opening).rejects.toMatchObject({ code: e.code, message: e.message });
  });
});
