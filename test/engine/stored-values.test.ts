import { afterEach, describe, expect, it } from 'vitest';
import type { Inventory, ListOptions } from '../../src/index.js';
import { open } from '../helpers.js';

describe('what is stored is what every read returns', () => {
  let inv: Inventory;
  afterEach(() => inv?.close());

  it('a price-only set reports the name it kept, even when a rename follows in the same tick', async () => {
    inv = await open({ products: [{ productId: 'A', name: 'Old', available: 1, price: 1 }] });
    const [priced, renamed] = await Promise.all([
      inv.setProduct({ productId: 'A', price: 2 }),
      inv.setProduct({ productId: 'A', name: 'New' }),
    ]);
    expect(priced).toMatchObject({ status: 'applied', product: { name: 'Old', price: 2 } });
    expect(renamed).toMatchObject({ status: 'applied', product: { name: 'New', price: 2 } });
  });

  it('refuses lone surrogates in stored ids and names', async () => {
    inv = await open({ products: [{ productId: 'A', available: 1 }] });
    await expect(
      inv.createProducts([{ productId: 'B', name: 'x\uD800y', available: 1 }]),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('products[0].name must be well-formed'),
    });
    await expect(
      inv.createProducts([{ productId: 'x\uDC00', available: 1 }]),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await inv.setProduct({ productId: 'A', name: '\uD800' })).toMatchObject({
      status: 'invalid_request',
      field: 'name',
    });
    // The initial catalog is checked as it loads, by open.
    await expect(open({ products: [{ productId: '\uD800', available: 1 }] })).rejects.toMatchObject(
      { code: 'INVALID_OPTION' },
    );
    // A well-formed name comes back the same from get and from list.
    await inv.setProduct({ productId: 'A', name: 'x\uD83D\uDE00y' });
    expect(inv.get('A')?.name).toBe('x\uD83D\uDE00y');
    expect((await inv.list()).items[0]?.name).toBe('x\uD83D\uDE00y');
  });

  it('stores -0 stock and price as 0', async () => {
    inv = await open({ products: [{ productId: 'A', available: -0, price: -0 }] });
    await inv.createProducts([{ productId: 'B', available: -0, price: -0 }]);
    await inv.setProduct({ productId: 'A', price: -0 });
    for (const id of ['A', 'B']) {
      const p = inv.get(id);
      expect(Object.is(p?.available, 0), `${id} available`).toBe(true);
      expect(Object.is(p?.price, 0), `${id} price`).toBe(true);
    }
  });

  it('list refuses a limit of null', async () => {
    inv = await open({ products: [{ productId: 'A', available: 1 }] });
    await expect(inv.list({ limit: null } as unknown as ListOptions)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('limit'),
    });
  });
});
