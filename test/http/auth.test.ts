/** X-API-Key over real HTTP: 401, 403, admin keys, open routes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyRing } from '../../src/http/auth.js';
import { serve, type TestServer } from './serve.js';

let t: TestServer;

beforeAll(async () => {
  t = await serve({ apiKeys: ['data-key'], adminApiKeys: ['admin-key'], products: 1 });
});

afterAll(() => t.stop());

describe('with API_KEYS', () => {
  it('a missing key is 401', async () => {
    const r = await t.call('GET', '/v1/inventory/SKU-00000');
    expect(r.status).toBe(401);
    expect(r.body).toMatchObject({ code: 'unauthorized', errorType: 'unauthorized' });
  });

  it('an unknown key is 401, a near miss too', async () => {
    for (const key of ['nope', 'data-ke', 'data-key2', 'DATA-KEY']) {
      const r = await t.call('GET', '/v1/inventory/SKU-00000', { key });
      expect(r.status, key).toBe(401);
    }
  });

  it('a data key reads and writes, but is 403 on the admin routes', async () => {
    expect((await t.call('GET', '/v1/inventory/SKU-00000', { key: 'data-key' })).status).toBe(200);
    const admin = await t.call('GET', '/v1/admin/locks', { key: 'data-key' });
    expect(admin.status).toBe(403);
    expect(admin.body).toMatchObject({ code: 'forbidden', errorType: 'forbidden' });
  });

  it('an admin key opens both', async () => {
    expect((await t.call('GET', '/v1/admin/locks', { key: 'admin-key' })).status).toBe(200);
    expect((await t.call('GET', '/v1/inventory/SKU-00000', { key: 'admin-key' })).status).toBe(200);
  });

  it('/health and /metrics need no key', async () => {
    expect((await t.call('GET', '/health')).status).toBe(200);
    expect((await t.call('GET', '/metrics')).status).toBe(200);
  });
});

describe('the key ring', () => {
  it('runs open with no keys, and keeps admin closed when only admin keys are set', () => {
    expect(new KeyRing([], [])).toMatchObject({ openData: true, openAdmin: true });
    expect(new KeyRing([], ['a'])).toMatchObject({ openData: true, openAdmin: false });
    expect(new KeyRing(['d'], [])).toMatchObject({ openData: false, openAdmin: false });
  });

  it('finds a key by digest, and names principals without the key itself', () => {
    const ring = new KeyRing(['secret-one'], ['secret-two']);
    expect(ring.find('secret-one')?.admin).toBe(false);
    expect(ring.find('secret-two')?.admin).toBe(true);
    expect(ring.find('secret')).toBeNull();
    expect(ring.find('secret-one')?.id).not.toContain('secret');
  });
});
