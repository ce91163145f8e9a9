/** GET /v1/inventory/{id} (ETag, If-None-Match) and GET /v1/inventory pages, over real HTTP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type TestServer } from './serve.js';

let t: TestServer;

beforeAll(async () => {
  // The embedded catalog: SKU-00000 … SKU-00024.
  t = await serve({ products: 25 });
});

afterAll(() => t.stop());

describe('one product', () => {
  it('answers its fields in the Go shape, with ETag "<version>"', async () => {
    const r = await t.call('GET', '/v1/inventory/SKU-00003');
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual([
      'productId',
      'name',
      'available',
      'version',
      'lastUpdated',
      'price',
    ]);
    expect(r.headers.get('etag')).toBe(`"${r.body.version}"`);
  });

  it('If-None-Match with the current ETag answers 304; after a change, 200', async () => {
    const first = await t.call('GET', '/v1/inventory/SKU-00004');
    const etag = first.headers.get('etag') as string;
    const same = await t.call('GET', '/v1/inventory/SKU-00004', {
      headers: { 'if-none-match': etag },
    });
    expect(same.status).toBe(304);
    expect(same.body).toBe('');
    await t.call('POST', '/v1/inventory/updates', { body: { productId: 'SKU-00004', delta: -1 } });
    const changed = await t.call('GET', '/v1/inventory/SKU-00004', {
      headers: { 'if-none-match': etag },
    });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
  });

  it('an unknown product is 404 product_not_found', async () => {
    const r = await t.call('GET', '/v1/inventory/none');
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ errorType: 'product_not_found', code: 'not_found' });
  });
});

describe('pages', () => {
  it('walk the catalog in id order through opaque cursors, ending with null', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
      const r = await t.call('GET', `/v1/inventory?limit=10${query}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.items.map((p: { productId: string }) => p.productId));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `SKU-${String(i).padStart(5, '0')}`));
  });

  it('refuse a limit outside 1–1000 and a cursor the server did not make, naming them', async () => {
    for (const limit of ['0', '1001', 'ten', '1e2']) {
      const r = await t.call('GET', `/v1/inventory?limit=${limit}`);
      expect(r.status, limit).toBe(400);
      expect(r.body.field).toBe('limit');
    }
    const r = await t.call('GET', '/v1/inventory?cursor=not-ours');
    expect(r.status).toBe(400);
    expect(r.body.field).toBe('cursor');
  });
});
