import { afterEach, describe, expect, it } from 'vitest';
import type { Inventory, UpdateRequest } from '../../src/index.js';
import { open } from '../helpers.js';

/** A request whose field `field` reads as each of `values` in turn (the last one after). */
function shifting<T extends object>(base: T, field: string, values: unknown[]): T {
  let n = 0;
  return Object.defineProperty({ ...base }, field, {
    enumerable: true,
    get: () => values[Math.min(n++, values.length - 1)],
  });
}

function throwing<T extends object>(base: T, field: string): T {
  return Object.defineProperty({ ...base }, field, {
    enumerable: true,
    get: () => {
      throw new Error('boom');
    },
  });
}

/** A proxy that counts the reads of each field. */
function counted<T extends object>(target: T): { proxy: T; reads: Map<PropertyKey, number> } {
  const reads = new Map<PropertyKey, number>();
  const proxy = new Proxy(target, {
    get(t, key, receiver) {
      reads.set(key, (reads.get(key) ?? 0) + 1);
      return Reflect.get(t, key, receiver);
    },
  });
  return { proxy, reads };
}

const rejectsNaming = (path: string) => ({
  code: 'INVALID_ARGUMENT',
  message: expect.stringContaining(`${path} could not be read: boom`),
});

describe('every request is read once', () => {
  let inv: Inventory;
  afterEach(() => inv?.close());

  const products = [
    { productId: 'A', name: 'Alpha', available: 10, price: 1 },
    { productId: 'B', name: 'Beta', available: 10, price: 2 },
  ];

  it('update applies the delta it checked, never a later read of it', async () => {
    inv = await open({ products });
    const nan = shifting({ productId: 'A' } as UpdateRequest, 'delta', [5, Number.NaN]);
    expect(await inv.update(nan)).toMatchObject({ status: 'applied', available: 15 });
    const half = shifting({ productId: 'A' } as UpdateRequest, 'delta', [5, 0.5]);
    expect(await inv.update(half)).toMatchObject({ status: 'applied', available: 20 });
    expect(inv.get('A')).toMatchObject({ available: 20, version: 3 });
  });

  it('update reads each field exactly once', async () => {
    inv = await open({ products });
    const { proxy, reads } = counted({ productId: 'A', delta: -1, idempotencyKey: 'k1' });
    expect(await inv.update(proxy)).toMatchObject({ status: 'applied' });
    for (const field of ['productId', 'delta', 'expectedVersion', 'idempotencyKey']) {
      expect(reads.get(field), field).toBe(1);
    }
  });

  it('a getter that throws rejects the call, applies nothing, and never throws synchronously', async () => {
    inv = await open({ products });
    const call = inv.update(throwing({ productId: 'A' } as UpdateRequest, 'delta'));
    expect(call).toBeInstanceOf(Promise);
    await expect(call).rejects.toMatchObject(rejectsNaming('request.delta'));
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    await expect(inv.update(revoked.proxy as UpdateRequest)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(inv.get('A')).toMatchObject({ available: 10, version: 1 });
  });

  it('updateMany reads every element before applying any; one that throws rejects the whole call', async () => {
    inv = await open({ products });
    const requests = [
      { productId: 'A', delta: -1 },
      throwing({ productId: 'B' } as UpdateRequest, 'delta'),
      { productId: 'B', delta: -1 },
    ];
    await expect(inv.updateMany(requests)).rejects.toMatchObject(
      rejectsNaming('requests[1].delta'),
    );
    const elementThrows = new Proxy([{ productId: 'A', delta: -1 }, {}], {
      get(t, key, receiver) {
        if (key === '1') throw new Error('boom');
        return Reflect.get(t, key, receiver);
      },
    }) as UpdateRequest[];
    await expect(inv.updateMany(elementThrows)).rejects.toMatchObject(rejectsNaming('requests[1]'));
    // Nothing of either call was applied, and close() settles.
    expect(inv.get('A')).toMatchObject({ available: 10, version: 1 });
    expect(inv.get('B')).toMatchObject({ available: 10, version: 1 });
    const changing = shifting({ productId: 'A' } as UpdateRequest, 'delta', [-2, Number.NaN]);
    expect(await inv.updateMany([changing, { productId: 'B', delta: 0 }])).toMatchObject([
      { status: 'applied', available: 8 },
      { status: 'invalid_request', field: 'delta' },
    ]);
    await inv.close();
  });

  it('updateMany that waits for queue room still answers from the copies it made', async () => {
    inv = await open({ products, queueSize: 2, simulate: { holdUs: 200 } });
    const requests: UpdateRequest[] = Array.from({ length: 20 }, () => ({
      productId: 'A',
      delta: 1,
    }));
    const pending = inv.updateMany(requests);
    // The caller's array changes while the rows wait for room: what was read is applied.
    for (const r of requests) r.delta = Number.NaN;
    const outcomes = await pending;
    expect(outcomes.every((o) => o.status === 'applied')).toBe(true);
    expect(inv.get('A')).toMatchObject({ available: 30, version: 21 });
  });

  it('order applies the items it checked', async () => {
    inv = await open({ products });
    const item = shifting({ productId: 'A' }, 'delta', [-3, Number.NaN]);
    expect(
      await inv.order({ items: [item as { productId: string; delta: number }] }),
    ).toMatchObject({
      status: 'applied',
      items: [{ available: 7 }],
    });
    const bad = throwing({ productId: 'B' }, 'delta') as { productId: string; delta: number };
    await expect(inv.order({ items: [{ productId: 'A', delta: -1 }, bad] })).rejects.toMatchObject(
      rejectsNaming('items[1].delta'),
    );
    expect(inv.get('A')).toMatchObject({ available: 7, version: 2 });
  });

  it('createProducts creates the id it checked, never replacing an existing product', async () => {
    inv = await open({ products });
    const sly = shifting({ available: 1 }, 'productId', ['NEW', 'A']) as {
      productId: string;
      available: number;
    };
    const [created] = await inv.createProducts([sly]);
    expect(created).toMatchObject({ productId: 'NEW', available: 1 });
    expect(inv.get('A')).toMatchObject({ name: 'Alpha', available: 10, version: 1 });
    expect(inv.get('NEW')).toMatchObject({ available: 1 });
    expect(inv.stats().products).toBe(3);
    const boom = throwing({ productId: 'X', available: 1 }, 'name');
    await expect(
      inv.createProducts([{ productId: 'Y', available: 1 }, boom]),
    ).rejects.toMatchObject(rejectsNaming('products[1].name'));
    expect(inv.get('Y')).toBeUndefined();
    expect(inv.stats().products).toBe(3);
  });

  it('setProduct, deleteProduct and list read their arguments once', async () => {
    inv = await open({ products });
    const renamed = shifting({ productId: 'A' }, 'name', ['Alpha 2', 42]);
    expect(await inv.setProduct(renamed)).toMatchObject({
      status: 'applied',
      product: { name: 'Alpha 2' },
    });
    expect(inv.get('A')?.name).toBe('Alpha 2');
    const version = shifting({}, 'expectedVersion', [1, 99]);
    expect(await inv.deleteProduct('B', version)).toMatchObject({ status: 'applied' });
    await expect(inv.deleteProduct('A', throwing({}, 'expectedVersion'))).rejects.toMatchObject(
      rejectsNaming('options.expectedVersion'),
    );
    const limit = shifting({}, 'limit', [1, 'all']);
    expect((await inv.list(limit)).items).toHaveLength(1);
    await expect(inv.list(throwing({}, 'after'))).rejects.toMatchObject(
      rejectsNaming('list options.after'),
    );
  });
});
