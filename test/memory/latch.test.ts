import { describe, expect, it } from 'vitest';
import { createBuffer, STATE_LIVE } from '../../memory/layout.js';
import { emptyRecord, publishRecord, readRecord } from '../../memory/records.js';
import { thread } from '../helpers.js';

describe('latched records', () => {
  it('a main-thread reader never sees a torn record while a thread publishes', async () => {
    const v = createBuffer(2);
    publishRecord(v, 1, {
      state: STATE_LIVE,
      generation: 1,
      version: 0,
      nameRev: 1,
      available: 0,
      lastUpdated: 0,
      price: 0,
    });
    const writer = thread(v.buffer, { role: 'latch-write', slot: 1, iterations: 300_000 }, 2);
    const rec = emptyRecord();
    let reads = 0;
    let torn = 0;
    let finished = false;
    writer.report.then(() => {
      finished = true;
    });
    while (!finished) {
      // Read in bursts, yielding so the report can arrive.
      for (let i = 0; i < 10_000; i++) {
        readRecord(v, 1, rec);
        if (rec.available !== rec.version || rec.version !== rec.lastUpdated) torn++;
        reads++;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await writer.report).error).toBeNull();
    expect(reads).toBeGreaterThan(0);
    expect(torn).toBe(0);
    readRecord(v, 1, rec);
    expect(rec.version).toBe(300_000);
  });
});
