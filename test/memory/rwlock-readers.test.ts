import { describe, expect, it } from 'vitest';
import { FIXTURE_WORDS, READERS_RUNNING, STOP } from '../fixtures/lock-worker.js';
import { thread, until } from '../helpers.js';

describe('readers and writers', () => {
  it('readers never see a torn record', async () => {
    const buffer = new SharedArrayBuffer(FIXTURE_WORDS * 4);
    const i32 = new Int32Array(buffer);
    const readers = Array.from({ length: 2 }, () =>
      thread(buffer, { role: 'pair-read', timeoutMs: 30_000 }),
    );
    // A handshake, not a race: the writers start once both readers are reading.
    await until('the readers to start', () => Atomics.load(i32, READERS_RUNNING) === 2);
    const writers = Array.from({ length: 2 }, () =>
      thread(buffer, { role: 'pair-write', iterations: 100_000, timeoutMs: 30_000 }),
    );
    const written = await Promise.all(writers.map((w) => w.report));
    Atomics.store(i32, STOP, 1);
    const read = await Promise.all(readers.map((r) => r.report));
    for (const r of [...written, ...read]) expect(r.error).toBeNull();
    const reads = read.reduce((sum, r) => sum + r.reads, 0);
    expect(reads).toBeGreaterThan(0);
    expect(read.reduce((sum, r) => sum + r.torn, 0)).toBe(0);
  });

  it('a writer gets in under a continuous stream of readers', async () => {
    const buffer = new SharedArrayBuffer(FIXTURE_WORDS * 4);
    const i32 = new Int32Array(buffer);
    // Three readers whose holds overlap, so the lock is never free of readers.
    const readers = Array.from({ length: 3 }, () =>
      thread(buffer, { role: 'read-stream', holdUs: 200, timeoutMs: 30_000 }),
    );
    await until('the readers to start', () => Atomics.load(i32, READERS_RUNNING) === 3);
    // The writer's bound is far below the readers' run: a reader-preferring lock
    // would keep it out until it timed out.
    const writer = await thread(buffer, { role: 'write-once', timeoutMs: 5_000 }).report;
    Atomics.store(i32, STOP, 1);
    const read = await Promise.all(readers.map((r) => r.report));
    expect(writer.error).toBeNull();
    expect(writer.done).toBe(1);
    for (const r of read) expect(r.error).toBeNull();
  });
});
