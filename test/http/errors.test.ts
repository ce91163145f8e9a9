/**
 * Bad requests over real HTTP: malformed JSON, a body over 1 MiB, unknown routes,
 * wrong methods, schema refusals naming the field; every error body in both
 * vocabularies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type TestServer } from './serve.js';

let t: TestServer;

beforeAll(async () => {
  t = await serve({ products: 1 });
});

afterAll(() => t.stop());

function expectErrorBody(body: Record<string, unknown>, code: string, errorType: string) {
  expect(body).toMatchObject({ code, errorType });
  expect(typeof body.message).toBe('string');
  expect(body.errorMessage).toBe(body.message);
}

describe('bad input', () => {
  it('malformed JSON is 400 invalid_request', async () => {
    const r = await t.call('POST', '/v1/inventory/updates', { raw: '{"productId": "SKU-00000",' });
    expect(r.status).toBe(400);
    expectErrorBody(r.body, 'bad_request', 'invalid_request');
    expect(r.body.errorMessage).toMatch(/JSON/);
  });

  it('an empty JSON body is 400', async () => {
    const r = await t.call('POST', '/v1/inventory/updates', {
      raw: '',
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(400);
    expectErrorBody(r.body, 'bad_request', 'invalid_request');
  });

  it('a body over 1 MiB is 413', async () => {
    const r = await t.call('POST', '/v1/inventory/updates', {
      raw: JSON.stringify({ productId: 'SKU-00000', delta: 1, pad: 'x'.repeat(1024 * 1024) }),
    });
    expect(r.status).toBe(413);
    expectErrorBody(r.body, 'payload_too_large', 'payload_too_large');
  });

  it('a body that is not JSON is 415', async () => {
    const r = await t.call('POST', '/v1/inventory/updates', {
      raw: 'productId=SKU-00000',
      headers: { 'content-type': 'text/plain' },
    });
    expect(r.status).toBe(415);
    expectErrorBody(r.body, 'unsupported_media_type', 'unsupported_media_type');
  });

  it('each schema refusal names the field', async () => {
    const cases: [unknown, string][] = [
      [{ delta: 1 }, 'productId'],
      [{ productId: 'SKU-00000' }, 'delta'],
      [{ productId: 'SKU-00000', delta: '5' }, 'delta'],
      [{ productId: 'SKU-00000', delta: true }, 'delta'],
      [{ productId: 7, delta: 1 }, 'productId'],
      [{ productId: 'SKU-00000', delta: 1, version: -1 }, 'version'],
      [{ productId: 'SKU-00000', delta: 1, idempotencyKey: 'k'.repeat(256) }, 'idempotencyKey'],
      [{ updates: [{ productId: 'SKU-00000', delta: 1 }, { productId: 'x' }] }, 'updates[1].delta'],
      [{ updates: 'all' }, 'updates'],
      [[1, 2], 'body'],
    ];
    for (const [body, field] of cases) {
      const r = await t.call('POST', '/v1/inventory/updates', { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expectErrorBody(r.body, 'bad_request', 'invalid_request');
      expect(r.body.field, JSON.stringify(body)).toBe(field);
      expect(r.body.errorMessage).toContain(field === 'body' ? 'must be' : field);
    }
  });
});

describe('routes', () => {
  it('an unknown route is 404 not_found', async () => {
    const r = await t.call('GET', '/v2/nothing');
    expect(r.status).toBe(404);
    expectErrorBody(r.body, 'not_found', 'not_found');
  });

  it('a known path with the wrong method is 405 with Allow', async () => {
    const r = await t.call('DELETE', '/v1/inventory/updates');
    expect(r.status).toBe(405);
    expectErrorBody(r.body, 'method_not_allowed', 'method_not_allowed');
    expect(r.headers.get('allow')).toContain('POST');
    // GET also matches /v1/inventory/{productId}: it still says POST is what is allowed.
    for (const path of ['/v1/inventory/updates', '/v1/inventory/orders']) {
      const get = await t.call('GET', path);
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
    }
    const health = await t.call('POST', '/health');
    expect(health.status).toBe(405);
    expect(health.headers.get('allow')).toBe('GET, HEAD');
  });
});
