import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Applied, Inventory, UpdateOutcome, UpdateRequest } from '../../src/index.js';
import { catalog, open, random } from '../helpers.js';

/**
 * The engine's core promise under real parallel threads: every applied change is
 * accounted for exactly once. Hot products take most of the traffic (and so see real
 * lock contention across batches); cold ones take the rest; the hot ones run low on
 * stock so that insufficient_inventory happens too.
 */
describe('conservation under concurrency', () => {
  const hot = catalog(4, 3_000, 'HOT-');
  const cold = catalog(200, 100_000, 'COLD-');
  const products = [...hot, ...cold];
  let inv: Inventory;
  const requests: UpdateRequest[] = [];
  const outcomes: UpdateOutcome[] = [];

  beforeAll(async () => {
    inv = await open({ workers: 3, products, maxBatch: 64 });
    const next = random(42);
    for (let round = 0; round < 20; round++) {
      const wave: UpdateRequest[] = [];
      for (let i = 0; i < 2_000; i++) {
        const p =
          next() < 0.7
            ? hot[Math.floor(next() * hot.length)]
            : cold[Math.floor(next() * cold.length)];
        const delta = next() < 0.8 ? -(1 + Math.floor(next() * 3)) : 1 + Math.floor(next() * 2);
        wave.push({ productId: (p as { productId: string }).productId, delta });
      }
      requests.push(...wave);
      // Half the waves as separate calls, half as one bulk call; all in flight at once.
      const results =
        round % 2 === 0
          ? await Promise.all(wave.map((r) => inv.update(r)))
          : await inv.updateMany(wave);
      outcomes.push(...results);
    }
  });

  afterAll(async () => {
    await inv.close();
  });

  it('answers every request with applied or insufficient_inventory', () => {
    expect(outcomes).toHaveLength(requests.length);
    const statuses = new Set(outcomes.map((o) => o.status));
    expect([...statuses].sort()).toEqual(['applied', 'insufficient_inventory']);
  });

  it('initial − Σ applied deltas = final, for every product', () => {
    const applied = new Map<string, number>();
    outcomes.forEach((o, i) => {
      if (o.status !== 'applied') return;
      const r = requests[i] as UpdateRequest;
      applied.set(r.productId, (applied.get(r.productId) ?? 0) + r.delta);
    });
    for (const p of products) {
      expect(inv.get(p.productId)?.available, p.productId).toBe(
        p.available + (applied.get(p.productId) ?? 0),
      );
    }
  });

  it('never lets stock go below zero', () => {
    for (const o of outcomes) {
      if (o.status === 'applied' || o.status === 'insufficient_inventory') {
        expect(o.available).toBeGreaterThanOrEqual(0);
      }
    }
    // The hot products did run out at some point.
    expect(outcomes.some((o) => o.status === 'insufficient_inventory')).toBe(true);
  });

  it('bumps each product version by exactly one per applied change', () => {
    const versions = new Map<string, number[]>();
    for (const o of outcomes) {
      if (o.status !== 'applied') continue;
      const list = versions.get(o.productId) ?? [];
      list.push(o.version);
      versions.set(o.productId, list);
    }
    for (const p of products) {
      const seen = (versions.get(p.productId) ?? []).sort((a, b) => a - b);
      // Created at version 1; applied changes took 2, 3, … with no gap or repeat.
      expect(seen, p.productId).toEqual(seen.map((_, i) => i + 2));
      expect(inv.get(p.productId)?.version).toBe(1 + seen.length);
    }
  });

  it('gives applied changes gap-free, distinct offsets', () => {
    const offsets = outcomes
      .filter((o): o is Applied => o.status === 'applied')
      .map((o) => o.offset)
      .sort((a, b) => a - b);
    // Creating the catalog took offsets 1..products.length.
    expect(offsets[0]).toBe(products.length + 1);
    expect(offsets).toEqual(offsets.map((_, i) => products.length + 1 + i));
    expect(inv.stats().offset).toBe(products.length + offsets.length);
  });

  it('counts lock acquisitions and names the most contended products', () => {
    const stats = inv.lockStats();
    const applied = outcomes.filter((o) => o.status === 'applied').length;
    expect(stats.lock_manager_type).toBe('fine_grained_per_product');
    expect(stats.total_product_locks).toBe(products.length);
    expect(stats.acquisitions).toBeGreaterThanOrEqual(applied);
    expect(stats.contended).toBeLessThanOrEqual(stats.acquisitions);
    // Contention depends on scheduling; what hottest reports must agree with the totals.
    const hottest = stats.hottest;
    expect(hottest.length > 0).toBe(stats.contended > 0);
    expect(hottest.length).toBeLessThanOrEqual(10);
    for (const h of hottest) expect(h.contended).toBeGreaterThan(0);
    const counts = hottest.map((h) => h.contended);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    expect(counts.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(stats.contended);
  });
});
