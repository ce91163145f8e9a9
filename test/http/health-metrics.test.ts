/** /health and /metrics over real HTTP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type TestServer } from './serve.js';

let t: TestServer;

beforeAll(async () => {
  t = await serve({ products: 3 });
});

afterAll(() => t.stop());

describe('/health', () => {
  it('answers ok with the workers, the queue and the offsets', async () => {
    const r = await t.call('GET', '/health');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      status: 'ok',
      workers: 2,
      queue: { depth: 0, size: expect.any(Number) },
      offset: 3,
    });
    expect(r.body.durableOffset).toEqual(expect.any(Number));
  });
});

describe('/metrics', () => {
  it('counts requests by route and status, and outcomes by status', async () => {
    await t.call('POST', '/v1/inventory/updates', { body: { productId: 'SKU-00000', delta: -1 } });
    await t.call('POST', '/v1/inventory/updates', { body: { productId: 'none', delta: -1 } });
    await t.call('GET', '/v1/inventory/SKU-00001');
    const r = await t.call('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = r.body as string;
    expect(text).toMatch(
      /lockstock_http_requests_total\{method="POST",route="\/v1\/inventory\/updates",status="200"\} 1/,
    );
    expect(text).toMatch(
      /lockstock_http_requests_total\{method="GET",route="\/v1\/inventory\/:productId",status="200"\} 1/,
    );
    expect(text).toMatch(/lockstock_outcomes_total\{kind="update",status="applied"\} 1/);
    // The engine's gauges, the journal's among them.
    expect(text).toMatch(/^lockstock_durable_offset \d+$/m);
    expect(text).toMatch(/^lockstock_journal_fsync_p99_seconds [\d.e-]+$/m);
    expect(text).toMatch(/^lockstock_lock_acquisitions \d+$/m);
    expect(text).toMatch(/lockstock_outcomes_total\{kind="update",status="product_not_found"\} 1/);
    expect(text).toMatch(/lockstock_http_request_duration_seconds_bucket\{.*le="0.001"/);
    expect(text).toMatch(/^lockstock_queue_depth 0$/m);
    // An update was applied: its lock was taken.
    expect(text).toMatch(/^lockstock_lock_acquisitions [1-9]\d*$/m);
    expect(text).toMatch(/^lockstock_lock_contended \d+$/m);
    expect(text).toMatch(/^lockstock_offset 4$/m);
    // Unknown URLs share one label, so a scanner cannot grow the series.
    await t.call('GET', '/random/a');
    await t.call('GET', '/random/b');
    const again = (await t.call('GET', '/metrics')).body as string;
    expect(again).toMatch(/route="unmatched",status="404"\} 2/);
  });
});

describe('closing', () => {
  it('/health answers 503 closing once a stop has begun, and other routes 503 too', async () => {
    const c = await serve();
    c.server.lifecycle.beginClosing();
    const health = await c.call('GET', '/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'closing', code: 'service_unavailable' });
    const other = await c.call('GET', '/v1/inventory/x');
    expect(other.status).toBe(503);
    expect(other.headers.get('retry-after')).toBe('1');
    await c.stop();
  });
});
