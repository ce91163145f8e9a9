import { describe, expect, it } from 'vitest';
import { DATA, FIXTURE_WORDS } from '../fixtures/lock-worker.js';
import { thread } from '../helpers.js';

describe('write lock excludes writers', () => {
  it('four threads adding to a plain field under the lock lose no update', async () => {
    const buffer = new SharedArrayBuffer(FIXTURE_WORDS * 4);
    const iterations = 250_000;
    const threads = Array.from({ length: 4 }, () =>
      thread(buffer, { role: 'add', iterations, timeoutMs: 30_000 }),
    );
    const reports = await Promise.all(threads.map((t) => t.report));
    for (const r of reports) expect(r.error).toBeNull();
    // Without the lock, racing read-increment-write loses some of the million.
    expect(new Int32Array(buffer)[DATA]).toBe(4 * iterations);
  });
});
