/**
 * POST /v1/inventory/updates over real HTTP: every outcome's status and body, the
 * batch form, the Idempotency-Key header with Idempotent-Replayed, If-Match → 412.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { product, serve, type TestServer } from './serve.js';

let t: TestServer;

beforeAll(async () => {
  t = await serve();
  const created = await t.call('POST', '/v1/admin/products/create', {
    body: { products: ['A', 'B', 'C', 'D', 'E'].map((id) => product(id, 10)) },
  });
  expect(created.status).toBe(201);
});

afterAll(() => t.stop());

const update = (body: unknown, headers: Record<string, string> = {}) =>
  t.call('POST', '/v1/inventory/updates', { body, headers });

describe('a single update', () => {
  it('applied: 200 with the new quantity, version, offset and ETag', async () => {
    const r = await update({ productId: 'A', delta: -2 });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      productId: 'A',
      applied: true,
      newQuantity: 8,
      newVersion: 2,
      lastUpdated: expect.any(String),
      // Products A–E took offsets 1–5.
      offset: 6,
    });
    expect(r.headers.get('etag')).toBe('"2"');
  });

  it('version_conflict: 409 with the current version and quantity', async () => {
    const r = await update({ productId: 'B', delta: -1, version: 7 });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({
      productId: 'B',
      applied: false,
      newQuantity: 10,
      newVersion: 1,
      errorType: 'version_conflict',
      code: 'conflict',
    });
    expect(r.body.message).toBe(r.body.errorMessage);
  });

  it('version 0 is no check, as the Go service reads its zero value', async () => {
    const r = await update({ productId: 'B', delta: 1, version: 0 });
    expect(r.status).toBe(200);
  });

  it('insufficient_inventory: 409, stock untouched', async () => {
    const r = await update({ productId: 'C', delta: -11 });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ errorType: 'insufficient_inventory', newQuantity: 10 });
  });

  it('product_not_found: 404', async () => {
    const r = await update({ productId: 'nope', delta: 1 });
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({
      code: 'not_found',
      errorType: 'product_not_found',
      productId: 'nope',
      applied: false,
    });
  });

  it('invalid_request: 400 naming the field (a zero delta is the engine’s refusal)', async () => {
    const r = await update({ productId: 'A', delta: 0 });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({
      code: 'bad_request',
      errorType: 'invalid_request',
      field: 'delta',
    });
    expect(r.body.errorMessage).toMatch(/^delta /);
  });

  it('idempotency_key_reused: 422', async () => {
    expect((await update({ productId: 'D', delta: -1, idempotencyKey: 'k-reuse' })).status).toBe(
      200,
    );
    const r = await update({ productId: 'D', delta: -2, idempotencyKey: 'k-reuse' });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({
      code: 'unprocessable_entity',
      errorType: 'idempotency_key_reused',
    });
  });
});

describe('idempotency keys over HTTP', () => {
  it('a replay answers the first outcome with Idempotent-Replayed: true, applied once', async () => {
    const first = await update({ productId: 'E', delta: -1 }, { 'idempotency-key': 'k-header' });
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await update({ productId: 'E', delta: -1 }, { 'idempotency-key': 'k-header' });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    // The body's key and the header's are one key.
    const body = await update({ productId: 'E', delta: -1, idempotencyKey: 'k-header' });
    expect(body.headers.get('idempotent-replayed')).toBe('true');
    expect((await t.call('GET', '/v1/inventory/E')).body.available).toBe(9);
  });

  it('a header and a body key that differ are refused', async () => {
    const r = await update(
      { productId: 'E', delta: -1, idempotencyKey: 'one' },
      { 'idempotency-key': 'two' },
    );
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('idempotencyKey');
  });
});

describe('If-Match', () => {
  it('is the expected version: a match applies, a mismatch answers 412', async () => {
    const current = await t.call('GET', '/v1/inventory/C');
    const etag = current.headers.get('etag') as string;
    const stale = await update({ productId: 'C', delta: -1 }, { 'if-match': '"99"' });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({
      code: 'precondition_failed',
      errorType: 'version_conflict',
    });
    const fresh = await update({ productId: 'C', delta: -1 }, { 'if-match': etag });
    expect(fresh.status).toBe(200);
  });

  it('a malformed If-Match is a 400 naming it', async () => {
    const r = await update({ productId: 'C', delta: -1 }, { 'if-match': 'seven' });
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('If-Match');
  });
});

describe('a batch', () => {
  it('answers 200 with each result and the Go summary', async () => {
    const r = await update({
      storeId: 'store-1',
      updates: [
        { productId: 'A', delta: 1 },
        { productId: 'nope', delta: 1 },
        { productId: 'B', delta: -1, version: 99 },
        { productId: 'A', delta: 0 },
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.summary).toEqual({ total: 4, succeeded: 1, failed: 3 });
    expect(r.body.results.map((x: { errorType?: string }) => x.errorType ?? 'applied')).toEqual([
      'applied',
      'product_not_found',
      'version_conflict',
      'invalid_request',
    ]);
  });

  it('takes up to 1000 updates, and refuses 1001 naming the field', async () => {
    const updates = (n: number) => Array.from({ length: n }, () => ({ productId: 'A', delta: 1 }));
    const ok = await update({ updates: updates(1000) });
    expect(ok.status).toBe(200);
    expect(ok.body.summary).toEqual({ total: 1000, succeeded: 1000, failed: 0 });
    const tooMany = await update({ updates: updates(1001) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.field).toBe('updates');
  });

  it('a replayed item says so; an Idempotency-Key header on a batch is refused', async () => {
    const body = { updates: [{ productId: 'A', delta: 1, idempotencyKey: 'k-batch' }] };
    await update(body);
    const again = await update(body);
    expect(again.body.results[0].replayed).toBe(true);
    const refused = await update(body, { 'idempotency-key': 'k' });
    expect(refused.status).toBe(400);
  });
});

describe('queue_full', () => {
  it('answers 503 with Retry-After', async () => {
    // One slow worker and room for one waiting update: the rest find the queue full.
    const slow = await serve({
      engine: { workers: 1, queueSize: 1, simulate: { holdUs: 20_000 } },
    });
    try {
      await slow.call('POST', '/v1/admin/products/create', { body: { products: [product('Q')] } });
      const replies = await Promise.all(
        Array.from({ length: 12 }, () =>
          slow.call('POST', '/v1/inventory/updates', { body: { productId: 'Q', delta: 1 } }),
        ),
      );
      const full = replies.filter((r) => r.status === 503);
      expect(full.length).toBeGreaterThan(0);
      for (const r of full) {
        expect(r.headers.get('retry-after')).toBe('1');
        expect(r.body).toMatchObject({ code: 'service_unavailable', errorType: 'queue_full' });
      }
    } finally {
      await slow.stop();
    }
  });
});
