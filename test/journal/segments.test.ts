import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { recover } from '../../src/journal/recover.js';
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
  recordingLog,
  sorted,
  taken,
  tempDir,
} from './setup.js';

describe('segments: the journal rolls, the feed reads old offsets from files, snapshots prune', () => {
  it('rolls segments and reads the feed across them in offset order', async () => {
    const dir = tempDir();
    const b = buffers(32);
    const seed = memoryState(b.pv);
    const client = await journal(b, {
      dataDir: dir,
      segmentBytes: 32 * 1024,
      retainChanges: 100,
    });
    await client.checkpoint();
    await Promise.all([
      producerThread(job(b, { firstSlot: 0, slots: 16, changes: 2500 })),
      producerThread(job(b, { firstSlot: 16, slots: 16, changes: 2500 })),
    ]);
    const durable = await client.flush();
    expect(durable).toBe(taken(b));
    const stats = await client.stats();
    expect(stats.segments).toBeGreaterThan(5);
    expect(readdirSync(dir).filter((f) => f.endsWith('.lsj'))).toHaveLength(stats.segments);
    // Most of it comes from the files (the window keeps the last ~100).
    const feed = await readAll(client);
    expect(offsetsOf(feed)).toEqual(range(1, durable));
    expect(fold(seed, feed)).toEqual(memoryState(b.pv));
    // A page from the middle of a segment, and one that spans the files and the window.
    const middle = await client.read(1234, 10);
    expect(middle.expired === false && offsetsOf(middle.items)).toEqual(range(1235, 1244));
    const across = await client.read(durable - 150, 100);
    expect(across.expired === false && across.items).toEqual(
      feed.slice(durable - 150, durable - 50),
    );
    // Nothing past the durable offset.
    const past = await client.read(durable, 10);
    expect(past).toEqual({ expired: false, items: [], oldest: 1, last: durable });
    await client.terminate();
    const recovered = recover(dir, { ttlMs: 0, log: recordingLog() });
    expect(recovered.segmentsRead).toBe(stats.segments);
    expect(sorted(recovered.products)).toEqual(memoryState(b.pv));
  });

  it('deletes the segments a snapshot covers once they are past the window and the key TTL', async () => {
    const dir = tempDir();
    const b = buffers(32);
    const client = await journal(b, {
      dataDir: dir,
      segmentBytes: 32 * 1024,
      retainChanges: 500,
      idempotencyTtlMs: 1,
    });
    await Promise.all([
      producerThread(job(b, { firstSlot: 0, slots: 16, changes: 2500 })),
      producerThread(job(b, { firstSlot: 16, slots: 16, changes: 2500 })),
    ]);
    const durable = await client.flush();
    const before = await client.stats();
    const { offset } = await client.checkpoint();
    expect(offset).toBe(durable);
    const after = await client.stats();
    expect(after.lastSnapshotOffset).toBe(durable);
    expect(after.segments).toBeLessThan(before.segments);
    // What is left still holds the window: the last 500 changes at least.
    expect(after.oldestOffset).toBeGreaterThan(1);
    expect(after.oldestOffset).toBeLessThanOrEqual(durable - 500 + 1);
    expect(await client.read(0, 10)).toEqual({ expired: true, oldest: after.oldestOffset });
    const rest = await readAll(client, after.oldestOffset - 1);
    expect(offsetsOf(rest)).toEqual(range(after.oldestOffset, durable));
    await client.close();
    expect(readdirSync(dir).filter((f) => f.endsWith('.lss'))).toHaveLength(1);
    const recovered = recover(dir, { ttlMs: 1, log: recordingLog() });
    expect(sorted(recovered.products)).toEqual(memoryState(b.pv));
    expect(recovered.nextOffset).toBe(durable + 1);
  });
});
