/** Rate limits per key over real HTTP: 429 with Retry-After, admin budget apart. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type TestServer } from './serve.js';

let t: TestServer;

beforeAll(async () => {
  t = await serve({
    apiKeys: ['k1', 'k2'],
    adminApiKeys: ['adm'],
    products: 1,
    rateLimit: { enabled: true, perMinute: 3, adminPerMinute: 2 },
  });
});

afterAll(() => t.stop());

describe('per key and minute', () => {
  it('the request past the limit is 429 with Retry-After; another key is untouched', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await t.call('GET', '/v1/inventory/SKU-00000', { key: 'k1' })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const over = await t.call('GET', '/v1/inventory/SKU-00000', { key: 'k1' });
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(over.body).toMatchObject({ code: 'too_many_requests', errorType: 'rate_limited' });
    expect((await t.call('GET', '/v1/inventory/SKU-00000', { key: 'k2' })).status).toBe(200);
  });

  it('admin routes have their own budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await t.call('GET', '/v1/admin/locks', { key: 'adm' })).status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    // The admin key's data budget is its own.
    expect((await t.call('GET', '/v1/inventory/SKU-00000', { key: 'adm' })).status).toBe(200);
  });

  it('an unknown key spends no budget: it is refused before the limit counts', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await t.call('GET', '/v1/inventory/SKU-00000', { key: 'bad' })).status).toBe(401);
    }
  });

  it('/health is never limited', async () => {
    for (let i = 0; i < 5; i++) expect((await t.call('GET', '/health')).status).toBe(200);
  });
});
