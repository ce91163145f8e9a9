import { describe, expect, it } from 'vitest';
import { InventoryError } from '../../src/index.js';
import { catalog, open } from '../helpers.js';

describe('close', () => {
  it('settles every call already made, then refuses new ones', async () => {
    const inv = await open({ products: catalog(5, 1_000), simulate: { holdUs: 200 } });
    const pending = Array.from({ length: 200 }, (_, i) =>
      inv.update({ productId: `SKU-000${i % 5}`, delta: -1 }),
    );
    const bulk = inv.updateMany(
      Array.from({ length: 50 }, () => ({ productId: 'SKU-0000', delta: 1 })),
    );
    const listing = inv.list();
    const closing = inv.close();
    expect(inv.close()).toBe(closing);
    const outcomes = await Promise.all(pending);
    expect(outcomes.every((o) => o.status === 'applied')).toBe(true);
    expect((await bulk).every((o) => o.status === 'applied')).toBe(true);
    expect((await listing).items).toHaveLength(5);
    await closing;

    const closed = { name: 'InventoryError', code: 'CLOSED' };
    await expect(inv.update({ productId: 'SKU-0000', delta: 1 })).rejects.toMatchObject(closed);
    await expect(inv.updateMany([])).rejects.toMatchObject(closed);
    await expect(inv.order({ items: [{ productId: 'SKU-0000', delta: 1 }] })).rejects.toMatchObject(
      closed,
    );
    await expect(inv.list()).rejects.toMatchObject(closed);
    await expect(inv.createProducts([])).rejects.toMatchObject(closed);
    await expect(inv.setProduct({ productId: 'SKU-0000', price: 1 })).rejects.toMatchObject(closed);
    await expect(inv.deleteProduct('SKU-0000')).rejects.toMatchObject(closed);
    expect(() => inv.get('SKU-0000')).toThrow(InventoryError);
    expect(() => inv.lockStats()).toThrow(/closed/);
  });
});
