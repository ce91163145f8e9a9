/**
 * GET /v1/inventory?snapshot=true over real HTTP.
 *
 * The streamed format over a stand-in engine; the consistency of the cut with the
 * feed over the real engine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SnapshotCut, snapshotChunks } from '../../src/http/routes/snapshot.js';
import type { Product } from '../../src/index.js';
import { product, serve, serveStandIn, type TestServer } from './serve.js';

function products(n: number): Product[] {
  return Array.from({ length: n }, (_, i) => ({
    productId: `S-${i}`,
    name: `Snap "${i}"`,
    available: i,
    price: i / 4,
    version: 1 + (i % 3),
    lastUpdated: '2026-01-01T00:00:00.000Z',
  }));
}

function cut(n: number): SnapshotCut {
  return { lastOffset: 77, timestamp: '2026-01-02T00:00:00.000Z', total: n, products: products(n) };
}

describe('the snapshot text', () => {
  it('is one JSON object in chunks of bounded size, whatever the catalog', () => {
    for (const n of [0, 1, 20_000]) {
      const chunks = [...snapshotChunks(cut(n))];
      const parsed = JSON.parse(chunks.join(''));
      expect(parsed.lastOffset).toBe(77);
      expect(parsed.total).toBe(n);
      expect(Object.keys(parsed.state)).toHaveLength(n);
      if (n > 0) expect(parsed.state['S-0']).toMatchObject({ productId: 'S-0', name: 'Snap "0"' });
      for (const chunk of chunks) expect(chunk.length).toBeLessThan(2 * 64 * 1024);
      if (n === 20_000) expect(chunks.length).toBeGreaterThan(10);
    }
  });

  it('reads the cut lazily: one product at a time', () => {
    let read = 0;
    const lazy: SnapshotCut = {
      ...cut(0),
      total: 3,
      products: (function* () {
        for (const p of products(3)) {
          read++;
          yield p;
        }
      })(),
    };
    const chunks = snapshotChunks(lazy);
    chunks.next();
    expect(read).toBe(3);

    // A cut larger than a chunk: the first chunk reads only its share.
    let many = 0;
    const large: SnapshotCut = {
      ...cut(0),
      total: 20_000,
      products: (function* () {
        for (const p of products(20_000)) {
          many++;
          yield p;
        }
      })(),
    };
    const big = snapshotChunks(large);
    big.next();
    const first = many;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(20_000);
    big.next();
    expect(many).toBeGreaterThan(first);
  });
});

describe('the snapshot route, over a stand-in engine', () => {
  it('streams { state, lastOffset, timestamp, total }', async () => {
    const s = await serveStandIn({
      changes: async () => ({}),
      snapshot: async () => cut(5000),
    } as never);
    try {
      const r = await s.call('GET', '/v1/inventory?snapshot=true');
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(/^application\/json/);
      expect(r.body.total).toBe(5000);
      expect(Object.keys(r.body.state)).toHaveLength(5000);
      expect(r.body.state['S-42']).toEqual({
        productId: 'S-42',
        name: 'Snap "42"',
        available: 42,
        version: 1,
        lastUpdated: '2026-01-01T00:00:00.000Z',
        price: 10.5,
      });
      const paged = await s.call('GET', '/v1/inventory?snapshot=true&limit=5');
      expect(paged.status).toBe(400);
      expect(paged.body.field).toBe('limit');
    } finally {
      await s.stop();
    }
  });
});

describe('a snapshot and the feed after it', () => {
  let t: TestServer;
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lockstock-snapshot-'));
    t = await serve({ engine: { dataDir: dir } });
    await t.call('POST', '/v1/admin/products/create', {
      body: { products: [product('S1', 50), product('S2', 50)] },
    });
  });

  afterAll(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('miss nothing and repeat nothing: snapshot + events from lastOffset + 1 = now', async () => {
    const update = (productId: string, delta: number) =>
      t.call('POST', '/v1/inventory/updates', { body: { productId, delta } });
    await Promise.all([update('S1', -1), update('S2', -2)]);
    const [snapshot] = await Promise.all([
      t.call('GET', '/v1/inventory?snapshot=true'),
      update('S1', -3),
      update('S2', -4),
    ]);
    await update('S1', -5);
    const state = snapshot.body.state as Record<string, { available: number; version: number }>;
    const feed = await t.call('GET', `/v1/inventory/events?offset=${snapshot.body.lastOffset + 1}`);
    for (const e of feed.body.events) {
      const p = state[e.productId] as { available: number; version: number };
      expect(e.version).toBe(p.version + 1);
      p.available = e.data.available;
      p.version = e.version;
    }
    for (const id of ['S1', 'S2']) {
      const now = (await t.call('GET', `/v1/inventory/${id}`)).body;
      expect(state[id]).toMatchObject({ available: now.available, version: now.version });
    }
  });
});
