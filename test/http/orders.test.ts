/** POST /v1/inventory/orders over real HTTP: all items or none. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { product, serve, type TestServer } from './serve.js';

let t: TestServer;

beforeAll(async () => {
  t = await serve();
  await t.call('POST', '/v1/admin/products/create', {
    body: { products: [product('O1', 5), product('O2', 1)] },
  });
});

afterAll(() => t.stop());

const order = (body: unknown, headers: Record<string, string> = {}) =>
  t.call('POST', '/v1/inventory/orders', { body, headers });
const stock = async (id: string) => (await t.call('GET', `/v1/inventory/${id}`)).body.available;

describe('an order', () => {
  it('applies every item: 200 with each new state', async () => {
    const r = await order({
      items: [
        { productId: 'O1', delta: -2 },
        { productId: 'O2', delta: -1 },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.applied).toBe(true);
    expect(r.body.items.map((i: { newQuantity: number }) => i.newQuantity)).toEqual([3, 0]);
  });

  it('applies none when one item cannot be: 409 naming the failed item', async () => {
    const r = await order({
      items: [
        { productId: 'O1', delta: -1 },
        { productId: 'O2', delta: -1 },
      ],
    });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({
      applied: false,
      failedItem: 1,
      productId: 'O2',
      errorType: 'insufficient_inventory',
      code: 'conflict',
    });
    expect(await stock('O1')).toBe(3);
  });

  it('an unknown product is a 404 naming it', async () => {
    const r = await order({ items: [{ productId: 'none', delta: -1 }] });
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ failedItem: 0, productId: 'none' });
  });

  it('is applied once under an Idempotency-Key, and the replay says so', async () => {
    const body = { items: [{ productId: 'O1', delta: -1 }] };
    const first = await order(body, { 'idempotency-key': 'order-1' });
    const again = await order(body, { 'idempotency-key': 'order-1' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await stock('O1')).toBe(2);
  });

  it('validates its items, naming the field', async () => {
    const r = await order({ items: [{ productId: 'O1', delta: 1.5 }] });
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('items[0].delta');
    const empty = await order({ items: [] });
    expect(empty.status).toBe(400);
  });
});
