/** The admin routes over real HTTP: create, set, delete, locks, rate-limit status. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { product, serve, type TestServer } from './serve.js';

let t: TestServer;

beforeAll(async () => {
  t = await serve({ rateLimit: { enabled: true, perMinute: 1000, adminPerMinute: 500 } });
});

afterAll(() => t.stop());

describe('create', () => {
  it('answers 201 with each product and the summary', async () => {
    const r = await t.call('POST', '/v1/admin/products/create', {
      body: { products: [product('P1', 3, 2.5), product('P2', 4)] },
    });
    expect(r.status).toBe(201);
    expect(r.body.summary).toEqual({ total: 2, succeeded: 2, failed: 0 });
    expect(r.body.results[0]).toMatchObject({
      productId: 'P1',
      applied: true,
      newQuantity: 3,
      newVersion: 1,
      price: 2.5,
    });
  });

  it('creates none when one exists: 409 product_exists', async () => {
    const r = await t.call('POST', '/v1/admin/products/create', {
      body: { products: [product('P3'), product('P1')] },
    });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ code: 'conflict', errorType: 'product_exists' });
    expect((await t.call('GET', '/v1/inventory/P3')).status).toBe(404);
  });

  it('refuses a negative stock naming the field', async () => {
    const r = await t.call('POST', '/v1/admin/products/create', {
      body: { products: [{ productId: 'P4', available: -1 }] },
    });
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('products[0].available');
  });
});

describe('set', () => {
  it('changes name and price, each product on its own', async () => {
    const r = await t.call('PUT', '/v1/admin/products/set', {
      body: {
        products: [
          { productId: 'P2', name: 'Renamed', price: 9, version: 1 },
          { productId: 'P1', price: 1, version: 42 },
          { productId: 'none', price: 1 },
        ],
      },
    });
    expect(r.status).toBe(200);
    expect(r.body.summary).toEqual({ total: 3, succeeded: 1, failed: 2 });
    expect(r.body.results[0]).toMatchObject({ applied: true, name: 'Renamed', newVersion: 2 });
    expect(r.body.results[1].errorType).toBe('version_conflict');
    expect(r.body.results[2].errorType).toBe('product_not_found');
  });
});

describe('delete', () => {
  it('deletes each product on its own', async () => {
    const r = await t.call('DELETE', '/v1/admin/products/delete', {
      body: { productIds: ['P2', 'none'] },
    });
    expect(r.status).toBe(200);
    expect(r.body.summary).toEqual({ total: 2, succeeded: 1, failed: 1 });
    expect((await t.call('GET', '/v1/inventory/P2')).status).toBe(404);
  });
});

describe('status routes', () => {
  it('locks: lock statistics beside the engine counters', async () => {
    const r = await t.call('GET', '/v1/admin/locks');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      lock_manager_type: 'fine_grained_per_product',
      total_product_locks: 1,
      acquisitions: expect.any(Number),
      engine: { workers: 2, queueSize: expect.any(Number) },
    });
    // Products were created, set and deleted above: their locks were taken.
    expect(r.body.acquisitions).toBeGreaterThan(0);
  });

  it('rate-limit status: both budgets of the caller, unspent by the look', async () => {
    const a = await t.call('GET', '/v1/admin/rate-limit/status');
    const b = await t.call('GET', '/v1/admin/rate-limit/status');
    expect(a.body).toMatchObject({
      enabled: true,
      requestsPerMinute: 1000,
      adminRequestsPerMinute: 500,
      data: { limit: 1000 },
      admin: { limit: 500 },
    });
    // Each status request spends one admin request (its own), and the look spends none.
    expect(b.body.admin.remaining).toBe(a.body.admin.remaining - 1);
    expect(b.body.data.remaining).toBe(a.body.data.remaining);
  });
});
