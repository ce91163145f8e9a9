import { describe, expect, it } from 'vitest';
import { readLock, writeLock } from '../../memory/rwlock.js';
import { CONTROL, FIXTURE_WORDS, fixtureViews, STOP } from '../fixtures/lock-worker.js';
import { thread, until } from '../helpers.js';

describe('bounded waits', () => {
  it('a wait past its bound fails with a clear error, and the lock still works', async () => {
    const buffer = new SharedArrayBuffer(FIXTURE_WORDS * 4);
    const i32 = new Int32Array(buffer);
    const holder = thread(buffer, { role: 'hold-write', holdMs: 20_000, timeoutMs: 1_000 });
    await until('the holder to take the lock', () => Atomics.load(i32, CONTROL + 4) === 1);

    const writer = await thread(buffer, { role: 'write-once', timeoutMs: 100 }).report;
    expect(writer.error).toMatchObject({ name: 'LockTimeoutError', code: 'LOCK_TIMEOUT' });
    expect(writer.error?.message).toMatch(/write lock not acquired within 100 ms/);

    const reader = await thread(buffer, { role: 'pair-read', timeoutMs: 100 }).report;
    expect(reader.error?.message).toMatch(/read lock not acquired within 100 ms/);

    // Release the holder: the timed-out waiters left no stale waiting bit behind.
    Atomics.store(i32, STOP, 1);
    Atomics.notify(i32, STOP);
    expect((await holder.report).error).toBeNull();
    const after = await thread(buffer, { role: 'write-once', timeoutMs: 1_000 }).report;
    expect(after.error).toBeNull();
  });

  it('refuses to block the main thread', () => {
    const v = fixtureViews(new SharedArrayBuffer(FIXTURE_WORDS * 4));
    writeLock(v, 0, 10); // uncontended: the fast path never blocks
    expect(() => readLock(v, 0, 10)).toThrow(/would block the main thread/);
  });
});
