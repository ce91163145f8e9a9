import { describe, expect, it } from 'vitest';
import { recover } from '../../src/journal/recover.js';
import { memoryState } from '../fixtures/journal-producer.js';
import {
  buffers,
  job,
  journal,
  producerThread,
  recordingLog,
  sorted,
  taken,
  tempDir,
} from './setup.js';

describe('group commit with producers in real threads', () => {
  it('makes every change durable with fewer fsyncs than records, the durable offset notified in order', async () => {
    const dir = tempDir();
    const b = buffers(64);
    const client = await journal(b, { dataDir: dir, durability: 'fsync' });
    const notified: number[] = [];
    client.onDurable((durable) => notified.push(durable));
    client.ref();
    // The seed catalog first (covers 0), as the engine saves a new data directory.
    await client.checkpoint();
    const reports = await Promise.all([
      producerThread(job(b, { firstSlot: 0, slots: 32, changes: 3000 })),
      producerThread(job(b, { firstSlot: 32, slots: 32, changes: 3000 })),
    ]);
    const total = taken(b);
    expect(reports.reduce((n, r) => n + r.changes, 0)).toBe(total);
    expect(await client.flush()).toBe(total);
    const stats = await client.stats();
    expect(stats.durableOffset).toBe(total);
    expect(stats.records).toBe(total);
    expect(stats.fsyncs).toBeGreaterThan(0);
    expect(stats.fsyncs).toBeLessThan(stats.records);
    expect(stats.meanGroupSize).toBeGreaterThan(1);
    expect(stats.fsyncP50Ms).toBeLessThanOrEqual(stats.fsyncP99Ms);
    expect(stats.fsyncP99Ms).toBeLessThanOrEqual(stats.fsyncMaxMs);
    // Notified offsets only grow, and the last one reached the end.
    await expect.poll(() => notified[notified.length - 1]).toBe(total);
    for (let i = 1; i < notified.length; i++) {
      expect(notified[i]).toBeGreaterThan(notified[i - 1] as number);
    }
    client.unref();
    await client.terminate();
    const recovered = recover(dir, { ttlMs: 60_000, log: recordingLog() });
    expect(recovered.nextOffset).toBe(total + 1);
    expect(recovered.recordsReplayed).toBe(total);
    expect(sorted(recovered.products)).toEqual(memoryState(b.pv));
  });

  it("in 'write' mode publishes changes as they are written and syncs on its interval", async () => {
    const dir = tempDir();
    const b = buffers(64);
    const client = await journal(b, { dataDir: dir, durability: 'write', syncIntervalMs: 20 });
    await client.checkpoint();
    const before = await client.stats();
    await Promise.all([
      producerThread(job(b, { firstSlot: 0, slots: 32, changes: 3000 })),
      producerThread(job(b, { firstSlot: 32, slots: 32, changes: 3000 })),
    ]);
    const total = taken(b);
    // Durable without a flush: written to the OS is what 'write' promises.
    await expect.poll(async () => (await client.stats()).durableOffset).toBe(total);
    // …and the interval syncs what was written, with no call asking for it.
    await expect.poll(async () => (await client.stats()).fsyncs).toBeGreaterThan(before.fsyncs);
    const stats = await client.stats();
    expect(stats.fsyncs).toBeLessThan(stats.records);
    await client.terminate();
    const recovered = recover(dir, { ttlMs: 0, log: recordingLog() });
    expect(recovered.nextOffset).toBe(total + 1);
    expect(sorted(recovered.products)).toEqual(memoryState(b.pv));
  });
});
