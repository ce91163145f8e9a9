/**
 * 200 concurrent updates to one product over real HTTP: every applied change is
 * counted once, stock never goes below zero, and the final stock and version are
 * exactly what the answers say.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { product, serve, type TestServer } from './serve.js';

let t: TestServer;
/**
 * Below what the updates take in all (150 × −1 and 50 × +2 is −50): however they
 * interleave, some must be refused, so the never-below-zero rule is exercised.
 */
const START = 20;

beforeAll(async () => {
  t = await serve({ engine: { workers: 4 } });
  await t.call('POST', '/v1/admin/products/create', {
    body: { products: [product('HOT', START)] },
  });
});

afterAll(() => t.stop());

describe('200 concurrent updates on one product', () => {
  it('conserve stock: initial + Σ applied deltas = final, never below zero', async () => {
    const deltas = Array.from({ length: 200 }, (_, i) => (i % 4 === 3 ? 2 : -1));
    const replies = await Promise.all(
      deltas.map((delta) =>
        t.call('POST', '/v1/inventory/updates', { body: { productId: 'HOT', delta } }),
      ),
    );
    let applied = 0;
    let sum = 0;
    const versions = new Set<number>();
    replies.forEach((r, i) => {
      if (r.status === 200) {
        applied++;
        sum += deltas[i] as number;
        versions.add(r.body.newVersion);
        expect(r.body.newQuantity).toBeGreaterThanOrEqual(0);
      } else {
        expect(r.status).toBe(409);
        expect(r.body.errorType).toBe('insufficient_inventory');
      }
    });
    expect(applied).toBeLessThan(deltas.length);
    // Each applied change took its own version.
    expect(versions.size).toBe(applied);
    const final = await t.call('GET', '/v1/inventory/HOT');
    expect(final.body.available).toBe(START + sum);
    expect(final.body.version).toBe(1 + applied);
  });
});
