import { describe, expect, it } from 'vitest';
import { recover } from '../../src/journal/recover.js';
import { memoryState } from '../fixtures/journal-producer.js';
import {
  buffers,
  job,
  journal,
  keyedOffsets,
  offsetsOf,
  producerThread,
  range,
  readAll,
  recordingLog,
  sorted,
  taken,
  tempDir,
} from './setup.js';

describe('restart: recover() gives back what the journal wrote', () => {
  it('products, the next offset, keys and the feed come back, twice over', async () => {
    const dir = tempDir();
    const b = buffers(48);
    const log = recordingLog();
    const first = await journal(b, { dataDir: dir, idempotencyTtlMs: 600_000 });
    // The seed catalog, as the engine saves an empty data directory's products.
    expect((await first.checkpoint()).offset).toBe(0);
    await Promise.all([
      producerThread(job(b, { firstSlot: 0, slots: 24, changes: 2000, keyEvery: 7 })),
      producerThread(job(b, { firstSlot: 24, slots: 24, changes: 2000, keyEvery: 5 })),
    ]);
    await first.flush();
    const feed1 = await readAll(first);
    expect(offsetsOf(feed1)).toEqual(range(1, taken(b)));
    // The workload has every kind of change, orders and keys.
    expect(new Set(feed1.map((c) => c.type))).toEqual(
      new Set(['inventory_updated', 'product_created', 'product_modified', 'product_deleted']),
    );
    expect(feed1.some((c) => c.order !== undefined && c.order !== c.offset)).toBe(true);
    await first.close();

    const r1 = recover(dir, { ttlMs: 600_000, log });
    expect(log.warnings).toEqual([]);
    expect(sorted(r1.products)).toEqual(memoryState(b.pv));
    expect(r1.nextOffset).toBe(taken(b) + 1);
    expect(r1.lastSnapshot).toBe(taken(b));
    expect(r1.keys.length).toBeGreaterThan(100);
    expect(r1.keys.map((k) => k.offset)).toEqual(keyedOffsets(feed1));
    const firstKeyed = r1.keys[0];
    const fed = feed1.find((c) => c.offset === firstKeyed?.offset);
    expect(firstKeyed?.key).toBe(fed?.idempotencyKey);

    // The engine reopens: a new journal from the next offset, more changes.
    const second = await journal(b, { dataDir: dir, nextOffset: r1.nextOffset });
    await Promise.all([
      producerThread(job(b, { firstSlot: 0, slots: 24, changes: 1500, seed: 77, keyEvery: 3 })),
      producerThread(job(b, { firstSlot: 24, slots: 24, changes: 1500, seed: 78 })),
    ]);
    await second.flush();
    const feed2 = await readAll(second);
    // The feed runs on across the restart, from the first run's segments.
    expect(offsetsOf(feed2)).toEqual(range(1, taken(b)));
    expect(feed2.slice(0, feed1.length)).toEqual(feed1);
    await second.close();

    const r2 = recover(dir, { ttlMs: 600_000, log });
    expect(sorted(r2.products)).toEqual(memoryState(b.pv));
    expect(r2.nextOffset).toBe(taken(b) + 1);
    expect(r2.keys.map((k) => k.offset)).toEqual(keyedOffsets(feed2));
    // Keys past their time are not given back.
    const late = recover(dir, { ttlMs: 600_000, log, now: Date.now() + 700_000 });
    expect(late.keys).toEqual([]);
  });
});
