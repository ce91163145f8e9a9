import { describe, expect, it } from 'vitest';
import { memoryState } from '../fixtures/journal-producer.js';
import {
  buffers,
  fold,
  job,
  journal,
  offsetsOf,
  producerThread,
  range,
  readAll,
  taken,
} from './setup.js';

describe('the feed without a data directory: a window of the last retainChanges', () => {
  it('answers in offset order, expires what left the window, and has nothing past the end', async () => {
    const b = buffers(32);
    const seed = memoryState(b.pv);
    const client = await journal(b, { retainChanges: 1000 });
    await Promise.all([
      producerThread(job(b, { firstSlot: 0, slots: 16, changes: 400 })),
      producerThread(job(b, { firstSlot: 16, slots: 16, changes: 400 })),
    ]);
    const early = await client.flush();
    expect(early).toBe(taken(b));
    // Everything is still in the window: it folds to the state in memory.
    const all = await readAll(client);
    expect(offsetsOf(all)).toEqual(range(1, early));
    expect(fold(seed, all)).toEqual(memoryState(b.pv));

    await Promise.all([
      producerThread(job(b, { firstSlot: 0, slots: 16, changes: 2000, seed: 9 })),
      producerThread(job(b, { firstSlot: 16, slots: 16, changes: 2000, seed: 10 })),
    ]);
    const durable = await client.flush();
    const stats = await client.stats();
    expect(stats.fsyncs).toBe(0);
    expect(stats.oldestOffset).toBeGreaterThan(1);
    expect(durable - stats.oldestOffset + 1).toBeGreaterThanOrEqual(1000);
    const expired = await client.read(0, 10);
    expect(expired).toEqual({ expired: true, oldest: stats.oldestOffset });
    const window = await readAll(client, stats.oldestOffset - 1, 123);
    expect(offsetsOf(window)).toEqual(range(stats.oldestOffset, durable));
    expect(await client.read(durable, 10)).toEqual({
      expired: false,
      items: [],
      oldest: stats.oldestOffset,
      last: durable,
    });
    // Offsets never taken: no items, not an error.
    const ahead = await client.read(durable + 1000, 10);
    expect(ahead.expired === false && ahead.items).toEqual([]);
    // checkpoint() has nothing to write.
    expect(await client.checkpoint()).toEqual({ offset: durable, bytes: 0, ms: 0 });
  });
});
