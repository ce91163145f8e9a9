import { afterEach, describe, expect, it } from 'vitest';
import type { Inventory, OrderRequest } from '../../src/index.js';
import { catalog, open, random } from '../helpers.js';

describe('orders', () => {
  let inv: Inventory;

  afterEach(async () => {
    await inv.close();
  });

  it('checks items in item order: an unknown product after a failing item is not the answer', async () => {
    inv = await open({ products: catalog(2, 10) });
    const unknownLast = {
      items: [
        { productId: 'SKU-0001', delta: -1 },
        { productId: 'SKU-0000', delta: -100 },
        { productId: 'NOPE', delta: -1 },
      ],
    };
    expect(await inv.order(unknownLast)).toEqual({
      status: 'insufficient_inventory',
      productId: 'SKU-0000',
      available: 10,
      version: 1,
      failedItem: 1,
    });
    // Every item before the unknown one passes: the unknown one is the answer.
    const passing = {
      items: [
        { productId: 'SKU-0000', delta: -1 },
        { productId: 'NOPE', delta: -1 },
      ],
    };
    expect(await inv.order({ ...passing, idempotencyKey: 'p' })).toEqual({
      status: 'product_not_found',
      productId: 'NOPE',
      failedItem: 1,
    });
    expect(await inv.order({ ...passing, idempotencyKey: 'p' })).toMatchObject({ failedItem: 1 });
    expect(inv.get('SKU-0000')).toMatchObject({ available: 10, version: 1 });
    expect(inv.get('SKU-0001')).toMatchObject({ available: 10, version: 1 });
  });

  it('applies every item or none, naming the first item that failed', async () => {
    inv = await open({ products: catalog(3, 10) });
    const ok = await inv.order({
      items: [
        { productId: 'SKU-0000', delta: -1 },
        { productId: 'SKU-0001', delta: -3 },
      ],
    });
    expect(ok).toMatchObject({ status: 'applied' });
    expect(
      ok.status === 'applied' && ok.items.map((i) => [i.productId, i.available, i.version]),
    ).toEqual([
      ['SKU-0000', 9, 2],
      ['SKU-0001', 7, 2],
    ]);
    // The order's changes take consecutive offsets.
    expect(ok.status === 'applied' && (ok.items[1]?.offset ?? 0) - (ok.items[0]?.offset ?? 0)).toBe(
      1,
    );

    const before = [inv.get('SKU-0000'), inv.get('SKU-0001'), inv.get('SKU-0002')];
    expect(
      await inv.order({
        items: [
          { productId: 'SKU-0000', delta: -1 },
          { productId: 'SKU-0001', delta: -100 },
          { productId: 'SKU-0002', delta: -1 },
        ],
      }),
    ).toEqual({
      status: 'insufficient_inventory',
      productId: 'SKU-0001',
      available: 7,
      version: 2,
      failedItem: 1,
    });
    expect(
      await inv.order({
        items: [
          { productId: 'SKU-0002', delta: -1 },
          { productId: 'SKU-0000', delta: -1, expectedVersion: 1 },
        ],
      }),
    ).toEqual({
      status: 'version_conflict',
      productId: 'SKU-0000',
      version: 2,
      available: 9,
      failedItem: 1,
    });
    expect(
      await inv.order({
        items: [
          { productId: 'SKU-0000', delta: -1 },
          { productId: 'SKU-9999', delta: -1 },
        ],
      }),
    ).toEqual({ status: 'product_not_found', productId: 'SKU-9999', failedItem: 1 });
    expect([inv.get('SKU-0000'), inv.get('SKU-0001'), inv.get('SKU-0002')]).toEqual(before);
  });

  it('answers invalid_request for a malformed order', async () => {
    inv = await open({ products: catalog(2) });
    const cases: [unknown, string][] = [
      [{ items: [] }, 'items'],
      [{ items: 'x' }, 'items'],
      [{}, 'items'],
      [{ items: [{ productId: 'SKU-0000', delta: 0 }] }, 'items[0].delta'],
      [
        {
          items: [
            { productId: 'SKU-0000', delta: 1 },
            { productId: 'SKU-0000', delta: 1 },
          ],
        },
        'items[1].productId',
      ],
      [{ items: [{ productId: 'SKU-0000', delta: 1 }], idempotencyKey: 5 }, 'idempotencyKey'],
    ];
    for (const [request, field] of cases) {
      expect(await inv.order(request as OrderRequest)).toMatchObject({
        status: 'invalid_request',
        field,
      });
    }
  });

  it('finishes streams of orders that take the same products in opposite orders', async () => {
    // One order per batch, so that orders run at once on different threads; and each
    // item holds its lock a little, widening the window a lock-order deadlock needs.
    inv = await open({
      workers: 4,
      products: catalog(2, 1_000_000),
      maxBatch: 3,
      simulate: { workUs: 20 },
      lockTimeoutMs: 5_000,
    });
    const ab: OrderRequest = {
      items: [
        { productId: 'SKU-0000', delta: -1 },
        { productId: 'SKU-0001', delta: -1 },
      ],
    };
    const ba: OrderRequest = {
      items: [
        { productId: 'SKU-0001', delta: -1 },
        { productId: 'SKU-0000', delta: -1 },
      ],
    };
    for (let round = 0; round < 20; round++) {
      const outcomes = await Promise.all(
        Array.from({ length: 100 }, (_, i) => inv.order(i % 2 ? ab : ba)),
      );
      for (const o of outcomes) expect(o.status).toBe('applied');
    }
    expect(inv.get('SKU-0000')?.available).toBe(1_000_000 - 2_000);
    expect(inv.get('SKU-0001')?.available).toBe(1_000_000 - 2_000);
  });

  it('shows the same total in every listing while transfers run', async () => {
    const products = catalog(10, 1_000);
    const total = 10 * 1_000;
    inv = await open({ workers: 3, products, simulate: { holdUs: 50 } });
    const next = random(7);
    const transfer = () => {
      const from = Math.floor(next() * 10);
      const to = (from + 1 + Math.floor(next() * 9)) % 10;
      const k = 1 + Math.floor(next() * 5);
      return inv.order({
        items: [
          { productId: `SKU-${String(from).padStart(4, '0')}`, delta: -k },
          { productId: `SKU-${String(to).padStart(4, '0')}`, delta: k },
        ],
      });
    };
    // Each round's listing is taken while that round's transfers are in flight: as
    // many cuts as rounds, whatever the machine's speed.
    const sums: number[] = [];
    for (let round = 0; round < 30; round++) {
      const transfers = Array.from({ length: 40 }, transfer);
      const page = await inv.list({ limit: 100 });
      sums.push(page.items.reduce((sum, p) => sum + p.available, 0));
      for (const o of await Promise.all(transfers)) expect(o.status).toBe('applied');
    }
    expect(sums).toHaveLength(30);
    expect(new Set(sums)).toEqual(new Set([total]));
  });
});
