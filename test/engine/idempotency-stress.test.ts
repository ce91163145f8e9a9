/**
 * Keyed updates and their duplicates from many concurrent callers, on real threads: no
 * key is applied twice. Each key's change is checked through what it left behind — the
 * offsets it was given and the stock and versions of the products — not only through
 * the answers. Runs against the compiled workers in dist/: `npm run build` first.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Inventory, UpdateOutcome, UpdateRequest } from '../../src/index.js';
import { catalog, open, random } from '../helpers.js';

const PRODUCTS = 16;
const KEYS = 4000;
const START = 1_000_000;

interface Keyed {
  readonly request: UpdateRequest;
  readonly answers: Promise<UpdateOutcome>[];
}

describe('keyed updates under concurrency', () => {
  let inv: Inventory;
  afterEach(() => inv?.close());

  it('applies each key once, however many duplicates race it, on two workers', async () => {
    const products = catalog(PRODUCTS, START);
    inv = await open({ workers: 2, products, simulate: { workUs: 1 } });
    const next = random(7);
    const keys: Keyed[] = Array.from({ length: KEYS }, (_, i) => ({
      request: {
        productId: (products[Math.floor(next() * PRODUCTS)] as { productId: string }).productId,
        delta: -1 - Math.floor(next() * 3),
        // Some keys differ only past ASCII: they must stay distinct.
        idempotencyKey: i % 5 === 0 ? `ключ-${i}-😀` : `key-${i}`,
      },
      answers: [],
    }));
    let duplicates = 0;
    const send = (k: Keyed, duplicate: boolean) => {
      k.answers.push(inv.update({ ...k.request }));
      if (duplicate) duplicates++;
    };
    // Round 1: every key once, each followed, at random, by duplicates sent while it is
    // in flight — in the same tick, or a few ticks later.
    for (let i = 0; i < KEYS; i++) {
      const k = keys[i] as Keyed;
      send(k, false);
      if (next() < 0.3) send(k, true);
      if (next() < 0.2) {
        const later = keys[Math.floor(next() * (i + 1))] as Keyed;
        send(later, true);
      }
      if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
    }
    // Round 2: while round 1 completes, bulk calls carrying keys already used.
    const bulk = Array.from({ length: 500 }, () => keys[Math.floor(next() * KEYS)] as Keyed);
    const many = inv.updateMany(bulk.map((k) => ({ ...k.request })));
    duplicates += bulk.length;
    await Promise.all(keys.flatMap((k) => k.answers));
    // Round 3: replays of finished keys, answered from the table.
    for (let i = 0; i < KEYS; i += 3) send(keys[i] as Keyed, true);

    const manyAnswers = await many;
    const offsets = new Set<number>();
    const applied = new Map<string, { count: number; sum: number }>();
    const firsts = new Map<Keyed, UpdateOutcome>();
    for (const k of keys) {
      const answers = await Promise.all(k.answers);
      const first = answers[0] as UpdateOutcome;
      expect(first.status, JSON.stringify(k.request)).toBe('applied');
      for (const a of answers) expect(a).toStrictEqual(first);
      firsts.set(k, first);
      if (first.status !== 'applied') continue;
      offsets.add(first.offset);
      const p = applied.get(k.request.productId) ?? { count: 0, sum: 0 };
      p.count++;
      p.sum += k.request.delta;
      applied.set(k.request.productId, p);
    }
    bulk.forEach((k, i) => {
      expect(manyAnswers[i]).toStrictEqual(firsts.get(k));
    });
    // One offset per key: a change applied twice would have taken a second one.
    expect(offsets.size).toBe(KEYS);
    for (const { productId } of products) {
      const p = applied.get(productId) ?? { count: 0, sum: 0 };
      expect(inv.get(productId), productId).toMatchObject({
        available: START + p.sum,
        version: 1 + p.count,
      });
    }
    const stats = inv.stats();
    expect(stats.replays).toBe(duplicates);
    expect(stats.idempotencyKeys).toBe(KEYS);
  });
});
