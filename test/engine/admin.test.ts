import { afterEach, describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/index.js';
import { catalog, open, until } from '../helpers.js';

describe('admin calls', () => {
  let inv: Inventory;

  afterEach(async () => {
    await inv.close();
  });

  it('creates products, all or none', async () => {
    inv = await open({ capacity: 4, products: catalog(1) });
    const created = await inv.createProducts([
      { productId: 'SKU-002', name: 'Gadget', available: 5, price: 3.5 },
      { productId: 'SKU-003', available: 0 },
    ]);
    expect(created.map((p) => [p.productId, p.name, p.available, p.price, p.version])).toEqual([
      ['SKU-002', 'Gadget', 5, 3.5, 1],
      ['SKU-003', '', 0, 0, 1],
    ]);
    expect(inv.get('SKU-002')).toMatchObject({
      name: 'Gadget',
      available: 5,
      price: 3.5,
      version: 1,
    });

    await expect(
      inv.createProducts([
        { productId: 'SKU-004', available: 1 },
        { productId: 'SKU-002', available: 1 },
      ]),
    ).rejects.toMatchObject({ code: 'PRODUCT_EXISTS' });
    await expect(
      inv.createProducts([{ productId: 'SKU-004', available: -1 }]),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('products[0].available'),
    });
    await expect(
      inv.createProducts([
        { productId: 'SKU-004', available: 1 },
        { productId: 'SKU-005', available: 1 },
      ]),
    ).rejects.toMatchObject({ code: 'CAPACITY_EXHAUSTED' });
    // None of the refused calls created anything.
    expect(inv.get('SKU-004')).toBeUndefined();
    expect(inv.stats().products).toBe(3);
  });

  it('creates what it checked, even if the caller changes its array meanwhile', async () => {
    inv = await open({
      workers: 1,
      queueSize: 2,
      simulate: { holdUs: 5_000 },
      products: catalog(1),
    });
    const busy = inv.updateMany([
      { productId: 'SKU-0000', delta: 1 },
      { productId: 'SKU-0000', delta: 1 },
    ]);
    const products = Array.from({ length: 5 }, (_, i) => ({ productId: `NEW-${i}`, available: i }));
    // The queue is full, so the creates wait for room; the caller reuses its objects.
    const created = inv.createProducts(products);
    for (const p of products) {
      p.productId = 'CHANGED';
      p.available = -1;
    }
    expect((await created).map((p) => [p.productId, p.available])).toEqual(
      Array.from({ length: 5 }, (_, i) => [`NEW-${i}`, i]),
    );
    await busy;
    expect(inv.get('NEW-3')).toMatchObject({ productId: 'NEW-3', available: 3 });
    expect(inv.get('CHANGED')).toBeUndefined();
  });

  it('sets name and price with optimistic concurrency', async () => {
    inv = await open({
      products: [{ productId: 'SKU-001', name: 'Widget', available: 5, price: 9.99 }],
    });
    const priced = await inv.setProduct({ productId: 'SKU-001', expectedVersion: 1, price: 10.5 });
    expect(priced).toMatchObject({
      status: 'applied',
      product: { productId: 'SKU-001', name: 'Widget', price: 10.5, available: 5, version: 2 },
    });
    const named = await inv.setProduct({ productId: 'SKU-001', name: 'Widget Pro' });
    expect(named).toMatchObject({
      status: 'applied',
      product: { name: 'Widget Pro', price: 10.5, version: 3 },
    });
    expect(inv.get('SKU-001')).toMatchObject({ name: 'Widget Pro', price: 10.5, version: 3 });
    expect(await inv.setProduct({ productId: 'SKU-001', expectedVersion: 1, price: 1 })).toEqual({
      status: 'version_conflict',
      productId: 'SKU-001',
      version: 3,
      available: 5,
    });
    expect(await inv.setProduct({ productId: 'SKU-404', price: 1 })).toMatchObject({
      status: 'product_not_found',
    });
    expect(await inv.setProduct({ productId: 'SKU-001' })).toMatchObject({
      status: 'invalid_request',
      field: 'request',
    });
    expect(await inv.setProduct({ productId: 'SKU-001', price: -1 })).toMatchObject({
      status: 'invalid_request',
      field: 'price',
    });
    expect(await inv.setProduct({ productId: 'SKU-001', name: 'n'.repeat(200) })).toMatchObject({
      status: 'invalid_request',
      field: 'name',
    });
    expect(inv.get('SKU-001')).toMatchObject({ name: 'Widget Pro', price: 10.5, version: 3 });
  });

  it('deletes a product, freeing its slot and lock for reuse', async () => {
    inv = await open({ capacity: 2, products: catalog(2, 10) });
    expect(await inv.deleteProduct('SKU-0000', { expectedVersion: 2 })).toMatchObject({
      status: 'version_conflict',
    });
    const deleted = await inv.deleteProduct('SKU-0000', { expectedVersion: 1 });
    expect(deleted).toMatchObject({ status: 'applied', productId: 'SKU-0000', version: 1 });
    expect(inv.get('SKU-0000')).toBeUndefined();
    expect(await inv.update({ productId: 'SKU-0000', delta: 1 })).toMatchObject({
      status: 'product_not_found',
    });
    expect(await inv.deleteProduct('SKU-0000')).toMatchObject({ status: 'product_not_found' });
    expect(inv.lockStats().total_product_locks).toBe(1);
    // The engine was full; the freed slot takes a new product with a fresh record.
    await inv.createProducts([{ productId: 'SKU-NEW', available: 3 }]);
    expect(inv.get('SKU-NEW')).toMatchObject({ available: 3, version: 1, name: '' });
    expect(await inv.update({ productId: 'SKU-NEW', delta: -1 })).toMatchObject({
      status: 'applied',
      version: 2,
    });
    expect(inv.get('SKU-0000')).toBeUndefined();
  });

  it('a change in flight when its product is deleted and the slot reused finds nothing', async () => {
    inv = await open({
      capacity: 1,
      workers: 2,
      simulate: { holdUs: 20_000 },
      products: catalog(1, 10),
    });
    const acquired = inv.lockStats().acquisitions;
    const deletion = inv.deleteProduct('SKU-0000');
    // Requests in flight together apply in no set order: wait until the deletion holds
    // the product's lock, so that the update queues behind it on another thread.
    await until('the deletion to take the lock', () => inv.lockStats().acquisitions > acquired);
    const late = inv.update({ productId: 'SKU-0000', delta: -1 });
    expect((await deletion).status).toBe('applied');
    await inv.createProducts([{ productId: 'OTHER', available: 50 }]);
    expect(await late).toMatchObject({ status: 'product_not_found' });
    expect(inv.get('OTHER')).toMatchObject({ available: 50, version: 1 });
  });

  it('lists products in id order, a page at a time', async () => {
    const products = catalog(250, 7);
    inv = await open({ products: [...products].reverse() });
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await inv.list({ limit: 100, ...(after === undefined ? {} : { after }) });
      seen.push(...page.items.map((p) => p.productId));
      after = page.next ?? undefined;
      pages++;
    } while (after !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual(products.map((p) => p.productId));
    const first = (await inv.list({ limit: 1 })).items[0];
    expect(first).toEqual(inv.get('SKU-0000'));
    await expect(inv.list({ limit: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(inv.list({ limit: 1.5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
