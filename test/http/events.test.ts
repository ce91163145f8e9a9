/**
 * GET /v1/inventory/events, the change feed, over real HTTP.
 *
 * The route's own rules (inclusive offset, nextOffset, wait, 410, a stop answering a
 * waiting poll) over a stand-in engine that answers what a test needs; the feed itself
 * over the real engine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InventoryError, type InventoryErrorCode } from '../../src/index.js';
import { until } from '../helpers.js';
import { product, serve, serveStandIn, type TestServer } from './serve.js';

interface Change {
  offset: number;
  type: 'inventory_updated' | 'product_created';
  productId: string;
  delta?: number;
  available: number;
  version: number;
  lastUpdated: string;
  idempotencyKey?: string;
}

const LOG: Change[] = [1, 2, 3, 4, 5].map((offset) => ({
  offset,
  type: offset === 1 ? 'product_created' : 'inventory_updated',
  productId: 'A',
  ...(offset === 1 ? {} : { delta: -1 }),
  available: 11 - offset,
  version: offset,
  lastUpdated: `2026-01-01T00:00:0${offset}.000Z`,
  ...(offset === 4 ? { idempotencyKey: 'k4' } : {}),
}));
const OLDEST = 1;

/** A stand-in feed over LOG; a wait with nothing new never ends (until the stop). */
function standInFeed() {
  const calls: { after?: number; limit?: number; waitMs?: number }[] = [];
  const changes = async (options: { after?: number; limit?: number; waitMs?: number } = {}) => {
    calls.push(options);
    const { after = 0, limit = 100, waitMs = 0 } = options;
    if (after < OLDEST - 1) {
      throw Object.assign(
        new InventoryError('OFFSET_EXPIRED' as InventoryErrorCode, `after ${after} expired`),
        { oldest: OLDEST },
      );
    }
    const newer = LOG.filter((c) => c.offset > after);
    const items = newer.slice(0, limit);
    if (items.length === 0 && waitMs > 0) return new Promise<never>(() => {});
    return { items, next: items.at(-1)?.offset ?? after, hasMore: newer.length > items.length };
  };
  return { calls, engine: { changes, snapshot: async () => ({}) } as never };
}

describe('the feed route, over a stand-in engine', () => {
  it('takes offset as the first offset wanted: after = offset − 1', async () => {
    const { calls, engine } = standInFeed();
    const s = await serveStandIn(engine);
    try {
      const r = await s.call('GET', '/v1/inventory/events?offset=3&limit=2&wait=0');
      expect(r.status).toBe(200);
      expect(calls.at(-1)).toEqual({ after: 2, limit: 2, waitMs: 0 });
      expect(r.body).toEqual({
        events: [
          {
            offset: 3,
            timestamp: LOG[2]?.lastUpdated,
            eventType: 'inventory_updated',
            productId: 'A',
            version: 3,
            data: { delta: -1, available: 8 },
          },
          {
            offset: 4,
            timestamp: LOG[3]?.lastUpdated,
            eventType: 'inventory_updated',
            productId: 'A',
            version: 4,
            data: { delta: -1, available: 7, idempotencyKey: 'k4' },
          },
        ],
        nextOffset: 5,
        hasMore: true,
        count: 2,
      });
      const rest = await s.call('GET', '/v1/inventory/events?offset=5');
      expect(rest.body).toMatchObject({ nextOffset: 6, hasMore: false, count: 1 });
      const from0 = await s.call('GET', '/v1/inventory/events?offset=0&wait=2');
      expect(calls.at(-1)).toEqual({ after: 0, limit: 100, waitMs: 2000 });
      expect(from0.body.count).toBe(5);
    } finally {
      await s.stop();
    }
  });

  it('refuses a wait beyond 60 s and malformed offsets, naming them', async () => {
    const s = await serveStandIn(standInFeed().engine);
    try {
      for (const [query, field] of [
        ['wait=61', 'wait'],
        ['wait=1.5', 'wait'],
        ['offset=-1', 'offset'],
        ['offset=abc', 'offset'],
        ['limit=0', 'limit'],
      ]) {
        const r = await s.call('GET', `/v1/inventory/events?${query}`);
        expect(r.status, query).toBe(400);
        expect(r.body.field, query).toBe(field);
      }
    } finally {
      await s.stop();
    }
  });

  it('an offset no longer kept is 410 naming the oldest', async () => {
    const { engine } = standInFeed();
    const expired = {
      ...(engine as object),
      changes: async () => {
        throw Object.assign(new InventoryError('OFFSET_EXPIRED' as InventoryErrorCode, 'gone'), {
          oldest: 40,
        });
      },
    };
    const s = await serveStandIn(expired as never);
    try {
      const r = await s.call('GET', '/v1/inventory/events?offset=3');
      expect(r.status).toBe(410);
      expect(r.body).toMatchObject({ code: 'gone', errorType: 'offset_expired', oldest: 40 });
      expect(r.body.errorMessage).toMatch(/oldest kept is 40/);
    } finally {
      await s.stop();
    }
  });

  it('a stop answers a waiting poll at once, with no events', async () => {
    const { calls, engine } = standInFeed();
    const s = await serveStandIn(engine);
    const poll = s.call('GET', '/v1/inventory/events?offset=6&wait=60');
    // The poll is waiting once the engine has been asked.
    await until('the poll to reach the engine', () => calls.length > 0);
    const stopped = s.stop();
    const r = await poll;
    await stopped;
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ events: [], nextOffset: 6, hasMore: false, count: 0 });
  });
});

describe('the feed over the engine', () => {
  let t: TestServer;
  let dir = '';

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lockstock-events-'));
    t = await serve({ engine: { dataDir: dir } });
    await t.call('POST', '/v1/admin/products/create', {
      body: { products: [product('E1', 10), product('E2', 10)] },
    });
    for (const delta of [-1, -2, -3]) {
      await t.call('POST', '/v1/inventory/updates', { body: { productId: 'E1', delta } });
    }
  });

  afterAll(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists every change in offset order, from the offset asked for', async () => {
    const r = await t.call('GET', '/v1/inventory/events?offset=1');
    expect(r.status).toBe(200);
    expect(r.body.events.map((e: { eventType: string }) => e.eventType)).toEqual([
      'product_created',
      'product_created',
      'inventory_updated',
      'inventory_updated',
      'inventory_updated',
    ]);
    expect(r.body.events.map((e: { offset: number }) => e.offset)).toEqual([1, 2, 3, 4, 5]);
    expect(r.body).toMatchObject({ nextOffset: 6, count: 5, hasMore: false });
  });

  it('a long poll wakes up on the next change', async () => {
    // The longest wait, 60 s, is the test's own timeout: a poll the change did not wake
    // would answer only after the test had failed.
    const poll = t.call('GET', '/v1/inventory/events?offset=6&wait=60');
    // Let the poll reach its wait before the change arrives.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await t.call('POST', '/v1/inventory/updates', { body: { productId: 'E2', delta: -1 } });
    const r = await poll;
    expect(r.body.events).toMatchObject([
      { offset: 6, eventType: 'inventory_updated', productId: 'E2', data: { delta: -1 } },
    ]);
    expect(r.body.nextOffset).toBe(7);
  });

  it('a stock take (PUT set with available) is its own change in the feed', async () => {
    const set = await t.call('PUT', '/v1/admin/products/set', {
      body: { products: [{ productId: 'E2', available: 42 }] },
    });
    expect(set.status).toBe(200);
    expect(set.body.results[0]).toMatchObject({ applied: true, newQuantity: 42 });
    const offset = set.body.results[0].offset;
    const r = await t.call('GET', `/v1/inventory/events?offset=${offset}`);
    expect(r.body.events[0]).toMatchObject({
      offset,
      eventType: 'product_modified',
      productId: 'E2',
      data: { available: 42 },
    });
  });
});
