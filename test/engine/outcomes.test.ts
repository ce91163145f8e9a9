import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Inventory, UpdateRequest } from '../../src/index.js';
import { open } from '../helpers.js';

describe('update outcomes', () => {
  let inv: Inventory;

  beforeAll(async () => {
    inv = await open({
      products: [
        { productId: 'SKU-001', name: 'Widget', available: 10, price: 9.99 },
        { productId: 'SKU-002', name: 'Gadget', available: 0, price: 3.5 },
      ],
    });
  });

  afterAll(async () => {
    await inv.close();
  });

  it('applies a change and reports the new state', async () => {
    const before = inv.get('SKU-001');
    const o = await inv.update({
      productId: 'SKU-001',
      delta: -3,
      expectedVersion: before?.version,
    });
    expect(o).toMatchObject({ status: 'applied', productId: 'SKU-001', available: 7, version: 2 });
    expect(o.status === 'applied' && new Date(o.lastUpdated).toISOString()).toBe(
      o.status === 'applied' && o.lastUpdated,
    );
    expect(inv.get('SKU-001')).toMatchObject({
      available: 7,
      version: 2,
      name: 'Widget',
      price: 9.99,
    });
  });

  it('answers version_conflict with the current version and stock, changing nothing', async () => {
    const o = await inv.update({ productId: 'SKU-001', delta: -1, expectedVersion: 1 });
    expect(o).toEqual({
      status: 'version_conflict',
      productId: 'SKU-001',
      version: 2,
      available: 7,
    });
    expect(inv.get('SKU-001')).toMatchObject({ available: 7, version: 2 });
  });

  it('answers insufficient_inventory rather than going below zero', async () => {
    const o = await inv.update({ productId: 'SKU-001', delta: -8 });
    expect(o).toEqual({
      status: 'insufficient_inventory',
      productId: 'SKU-001',
      available: 7,
      version: 2,
    });
    expect(await inv.update({ productId: 'SKU-002', delta: -1 })).toMatchObject({
      status: 'insufficient_inventory',
      available: 0,
    });
    expect(inv.get('SKU-001')).toMatchObject({ available: 7, version: 2 });
  });

  it('answers product_not_found', async () => {
    expect(await inv.update({ productId: 'SKU-404', delta: 1 })).toEqual({
      status: 'product_not_found',
      productId: 'SKU-404',
    });
  });

  const invalid: [string, unknown, string][] = [
    ['NaN delta', { productId: 'SKU-001', delta: Number.NaN }, 'delta'],
    ['zero delta', { productId: 'SKU-001', delta: 0 }, 'delta'],
    ['fractional delta', { productId: 'SKU-001', delta: 1.5 }, 'delta'],
    ['infinite delta', { productId: 'SKU-001', delta: Number.POSITIVE_INFINITY }, 'delta'],
    ['unsafe delta', { productId: 'SKU-001', delta: 2 ** 53 }, 'delta'],
    ['string delta', { productId: 'SKU-001', delta: '5' }, 'delta'],
    ['missing delta', { productId: 'SKU-001' }, 'delta'],
    ['missing id', { delta: 1 }, 'productId'],
    ['empty id', { productId: '', delta: 1 }, 'productId'],
    ['numeric id', { productId: 7, delta: 1 }, 'productId'],
    ['over-long id', { productId: 'x'.repeat(65), delta: 1 }, 'productId'],
    ['over-long multibyte id', { productId: 'é'.repeat(33), delta: 1 }, 'productId'],
    [
      'zero expectedVersion',
      { productId: 'SKU-001', delta: 1, expectedVersion: 0 },
      'expectedVersion',
    ],
    [
      'fractional expectedVersion',
      { productId: 'SKU-001', delta: 1, expectedVersion: 1.5 },
      'expectedVersion',
    ],
    ['empty key', { productId: 'SKU-001', delta: 1, idempotencyKey: '' }, 'idempotencyKey'],
    [
      'over-long key',
      { productId: 'SKU-001', delta: 1, idempotencyKey: 'k'.repeat(256) },
      'idempotencyKey',
    ],
    ['null request', null, 'request'],
    ['array request', [], 'request'],
  ];

  it.each(invalid)(
    'answers invalid_request for a %s, naming %s, and changes nothing',
    async (_, request, field) => {
      const before = inv.get('SKU-001');
      const offset = inv.stats().offset;
      const o = await inv.update(request as UpdateRequest);
      expect(o).toMatchObject({ status: 'invalid_request', field });
      expect(o.status === 'invalid_request' && o.message.startsWith(field)).toBe(true);
      expect(inv.get('SKU-001')).toEqual(before);
      expect(inv.stats().offset).toBe(offset);
    },
  );

  it('answers invalid_request when a change would pass the largest safe stock', async () => {
    await inv.update({ productId: 'SKU-002', delta: Number.MAX_SAFE_INTEGER });
    const before = inv.get('SKU-002');
    const o = await inv.update({ productId: 'SKU-002', delta: 1 });
    expect(o).toMatchObject({ status: 'invalid_request', field: 'delta' });
    expect(inv.get('SKU-002')).toEqual(before);
  });

  it('answers each request of updateMany on its own, in input order', async () => {
    const before = inv.get('SKU-001')?.version ?? 0;
    const outcomes = await inv.updateMany([
      { productId: 'SKU-001', delta: -1 },
      { productId: 'SKU-404', delta: -1 },
      { productId: 'SKU-001', delta: 0 },
      { productId: 'SKU-001', delta: -1000 },
      { productId: 'SKU-001', delta: 1, expectedVersion: before + 1 },
    ]);
    expect(outcomes.map((o) => o.status)).toEqual([
      'applied',
      'product_not_found',
      'invalid_request',
      'insufficient_inventory',
      'applied',
    ]);
    expect(await inv.updateMany([])).toEqual([]);
  });

  it('applies one tick’s changes to a product in order, however many batches they fill', async () => {
    // Eight rows per batch: 60 changes to one product fill eight batches in one tick.
    const chained = await open({
      workers: 2,
      maxBatch: 8,
      products: [{ productId: 'CHAIN', available: 0 }],
    });
    const chain = Array.from({ length: 60 }, (_, i) => ({
      productId: 'CHAIN',
      delta: i % 2 === 0 ? 5 : -5,
      expectedVersion: i + 1,
    }));
    const outcomes = await chained.updateMany(chain);
    expect(outcomes.map((o) => o.status)).toEqual(new Array(60).fill('applied'));
    expect(chained.get('CHAIN')).toMatchObject({ available: 0, version: 61 });
    await chained.close();
  });
});
