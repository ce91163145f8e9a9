import { describe, expect, it } from 'vitest';
import { DATA, FIXTURE_WORDS, READERS_RUNNING, STOP } from '../fixtures/lock-worker.js';
import { thread, until } from '../helpers.js';

describe('global lock with intention modes', () => {
  it('IX holders and S holders never coexist, and both make progress', async () => {
    const buffer = new SharedArrayBuffer(FIXTURE_WORDS * 4);
    const jobs = [
      thread(buffer, {
        role: 'global',
        mode: 'IX',
        iterations: 20_000,
        holdUs: 2,
        timeoutMs: 30_000,
      }),
      thread(buffer, {
        role: 'global',
        mode: 'IX',
        iterations: 20_000,
        holdUs: 2,
        timeoutMs: 30_000,
      }),
      thread(buffer, {
        role: 'global',
        mode: 'S',
        iterations: 2_000,
        holdUs: 20,
        timeoutMs: 30_000,
      }),
      thread(buffer, {
        role: 'global',
        mode: 'S',
        iterations: 2_000,
        holdUs: 20,
        timeoutMs: 30_000,
      }),
    ];
    const reports = await Promise.all(jobs.map((j) => j.report));
    for (const r of reports) {
      expect(r.error).toBeNull();
      expect(r.torn).toBe(0);
    }
    expect(reports.map((r) => r.done)).toEqual([20_000, 20_000, 2_000, 2_000]);
  });

  it('X is exclusive: plain increments under it are never lost', async () => {
    const buffer = new SharedArrayBuffer(FIXTURE_WORDS * 4);
    const jobs = Array.from({ length: 3 }, () =>
      thread(buffer, {
        role: 'global',
        mode: 'X',
        iterations: 50_000,
        holdUs: 0,
        timeoutMs: 30_000,
      }),
    );
    const reports = await Promise.all(jobs.map((j) => j.report));
    for (const r of reports) expect(r.error).toBeNull();
    expect(new Int32Array(buffer)[DATA]).toBe(150_000);
  });

  it('a cut (S) gets in under a continuous stream of writers (IX)', async () => {
    const buffer = new SharedArrayBuffer(FIXTURE_WORDS * 4);
    const i32 = new Int32Array(buffer);
    const writers = Array.from({ length: 3 }, () =>
      thread(buffer, { role: 'global-until-stop', mode: 'IX', holdUs: 20, timeoutMs: 30_000 }),
    );
    await until('the writers to run', () => Atomics.load(i32, READERS_RUNNING) === 3);
    // The writers' holds overlap, so IX is almost never free; each S acquisition must
    // still get in, because writers yield to a waiting cut.
    const cut = await thread(buffer, {
      role: 'global',
      mode: 'S',
      iterations: 200,
      holdUs: 0,
      timeoutMs: 2_000,
    }).report;
    Atomics.store(i32, STOP, 1);
    const written = await Promise.all(writers.map((w) => w.report));
    expect(cut.error).toBeNull();
    expect(cut.done).toBe(200);
    expect(cut.torn).toBe(0);
    for (const w of written) {
      expect(w.error).toBeNull();
      expect(w.done).toBeGreaterThan(0);
    }
  });
});
