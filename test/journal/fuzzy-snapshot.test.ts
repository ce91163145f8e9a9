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

/** Resolves once `check()` holds, polling; fails naming `what` after 20 s. */
async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('a fuzzy snapshot taken while producers write', () => {
  it('converges: the snapshot plus the journal replayed from replayFrom is the state in memory', async () => {
    const dir = tempDir();
    const b = buffers(20_000);
    const stop = new SharedArrayBuffer(4);
    const client = await journal(b, { dataDir: dir, segmentBytes: 256 * 1024 });
    const producers = [
      producerThread(job(b, { firstSlot: 0, slots: 10_000, changes: 1e9, stop })),
      producerThread(job(b, { firstSlot: 10_000, slots: 10_000, changes: 1e9, stop })),
    ];
    await until('changes before the snapshot', () => taken(b) > 2000);
    const before = taken(b);
    const snapshot = await client.checkpoint();
    // It started after `before` and saw producers write while it copied.
    expect(snapshot.offset).toBeGreaterThan(before);
    expect(snapshot.bytes).toBeGreaterThan(20_000 * 128);
    await until('changes after the snapshot', () => taken(b) > snapshot.offset + 2000);
    Atomics.store(new Int32Array(stop), 0, 1);
    await Promise.all(producers);
    expect(await client.flush()).toBe(taken(b));
    // No closing snapshot: recovery must use the fuzzy one.
    await client.terminate();
    const r = recover(dir, { ttlMs: 0, log: recordingLog() });
    expect(r.lastSnapshot).toBe(snapshot.offset);
    // A producer preempted between taking an offset and publishing holds replay back.
    expect(r.replayFrom).toBeGreaterThan(0);
    expect(r.replayFrom).toBeLessThanOrEqual(snapshot.offset + 1);
    expect(r.recordsReplayed).toBe(taken(b) - r.replayFrom + 1);
    expect(r.nextOffset).toBe(taken(b) + 1);
    expect(sorted(r.products)).toEqual(memoryState(b.pv));
  });
});
