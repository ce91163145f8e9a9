import {
  appendFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Change } from '../../memory/change-log.js';
import { FILE_HEADER_BYTES, segmentName } from '../../src/journal/files.js';
import { recover } from '../../src/journal/recover.js';
import { memoryState, type ProductState } from '../fixtures/journal-producer.js';
import {
  buffers,
  fold,
  job,
  journal,
  producerThread,
  readAll,
  recordingLog,
  sorted,
  tempDir,
} from './setup.js';

/** Byte positions of the records of a segment file. */
function recordsOf(file: string): number[] {
  const bytes = readFileSync(file);
  const at: number[] = [];
  for (let p = FILE_HEADER_BYTES; p < bytes.length; p += bytes.readUInt32LE(p)) at.push(p);
  return at;
}

function offsetAt(file: string, at: number): number {
  return readFileSync(file).readDoubleLE(at + 8);
}

function flip(file: string, at: number): void {
  const bytes = readFileSync(file);
  bytes[at] = (bytes[at] as number) ^ 0x40;
  writeFileSync(file, bytes);
}

interface Written {
  dir: string;
  seed: ProductState[];
  feed: Change[];
  segments: string[];
}

/** A journal of a few thousand changes over several segments, its thread then gone. */
async function written(): Promise<Written> {
  const dir = tempDir();
  const b = buffers(32);
  const seed = memoryState(b.pv);
  const client = await journal(b, { dataDir: dir, segmentBytes: 32 * 1024 });
  await client.checkpoint();
  await Promise.all([
    producerThread(job(b, { firstSlot: 0, slots: 16, changes: 1500 })),
    producerThread(job(b, { firstSlot: 16, slots: 16, changes: 1500 })),
  ]);
  await client.flush();
  const feed = await readAll(client);
  // Gone without its closing snapshot, as after a crash.
  await client.terminate();
  const segments = readdirSync(dir)
    .filter((f) => f.endsWith('.lsj'))
    .sort()
    .map((f) => path.join(dir, f));
  return { dir, seed, feed, segments };
}

describe('a torn tail is cut off with a warning', () => {
  let w: Written;
  beforeEach(async () => {
    w = await written();
  });

  it('loses only the record the cut went through', () => {
    const last = w.segments[w.segments.length - 1] as string;
    const at = recordsOf(last).pop() as number;
    truncateSync(last, at + 37);
    const log = recordingLog();
    const r = recover(w.dir, { ttlMs: 0, log });
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]?.message).toContain(last);
    expect(log.warnings[0]?.message).toContain(`byte ${at}`);
    expect(r.truncated).toMatchObject({ file: last, at, dropped: 0, bytes: 37 });
    expect(statSync(last).size).toBe(at);
    expect(r.nextOffset).toBe(w.feed.length);
    expect(sorted(r.products)).toEqual(fold(w.seed, w.feed.slice(0, -1)));
    // Opening again finds nothing more to cut.
    const again = recordingLog();
    expect(recover(w.dir, { ttlMs: 0, log: again }).nextOffset).toBe(w.feed.length);
    expect(again.warnings).toEqual([]);
  });

  it('cuts zeros past the last record and keeps every record', () => {
    const last = w.segments[w.segments.length - 1] as string;
    const size = statSync(last).size;
    appendFileSync(last, Buffer.alloc(4096));
    const log = recordingLog();
    const r = recover(w.dir, { ttlMs: 0, log });
    expect(r.truncated).toMatchObject({ file: last, at: size, dropped: 0 });
    expect(r.nextOffset).toBe(w.feed.length + 1);
    expect(sorted(r.products)).toEqual(fold(w.seed, w.feed));
  });

  it('deletes a last segment whose header was never written whole', () => {
    const next = path.join(w.dir, segmentName(w.feed.length + 1));
    writeFileSync(next, Buffer.from('LKSJ torn'));
    const log = recordingLog();
    const r = recover(w.dir, { ttlMs: 0, log });
    expect(log.warnings[0]?.message).toContain(next);
    expect(existsSync(next)).toBe(false);
    expect(r.nextOffset).toBe(w.feed.length + 1);
  });
});

describe('a bad record before good ones is corruption', () => {
  let w: Written;
  beforeEach(async () => {
    w = await written();
  });

  /** A record in the middle of a segment that is not the last. */
  function middle(): { file: string; at: number; offset: number } {
    const file = w.segments[Math.floor(w.segments.length / 2)] as string;
    const records = recordsOf(file);
    const at = records[Math.floor(records.length / 2)] as number;
    return { file, at, offset: offsetAt(file, at) };
  }

  it('refuses to open with CORRUPT_JOURNAL naming the file and the byte', () => {
    const { file, at } = middle();
    flip(file, at + 30);
    expect(() => recover(w.dir, { ttlMs: 0, log: recordingLog() })).toThrow(
      expect.objectContaining({
        code: 'CORRUPT_JOURNAL',
        message: expect.stringContaining(`journal file ${file} is corrupt at byte ${at}`),
      }),
    );
  });

  it('refuses a bad record in the last segment when good ones follow it', () => {
    const last = w.segments[w.segments.length - 1] as string;
    const records = recordsOf(last);
    expect(records.length).toBeGreaterThan(2);
    const at = records[records.length - 3] as number;
    flip(last, at + 20);
    expect(() => recover(w.dir, { ttlMs: 0, log: recordingLog() })).toThrow(
      expect.objectContaining({
        code: 'CORRUPT_JOURNAL',
        message: expect.stringContaining(`byte ${at}`),
      }),
    );
  });

  it('opens with repair: cut there, later segments deleted, the drop logged', () => {
    const { file, at, offset } = middle();
    flip(file, at + 30);
    const later = w.segments.slice(w.segments.indexOf(file) + 1);
    const log = recordingLog();
    const r = recover(w.dir, { ttlMs: 0, log, repair: true });
    const dropped = w.feed.length - offset + 1;
    expect(r.truncated).toMatchObject({ file, at, dropped });
    expect(r.truncated?.offsets).toEqual([offset, w.feed.length]);
    expect(log.warnings[0]?.message).toContain(`dropped ${dropped} records`);
    for (const f of later) expect(existsSync(f)).toBe(false);
    expect(statSync(file).size).toBe(at);
    expect(r.nextOffset).toBe(offset);
    expect(sorted(r.products)).toEqual(fold(w.seed, w.feed.slice(0, offset - 1)));
    // Repaired: it opens without repair now.
    expect(recover(w.dir, { ttlMs: 0, log: recordingLog() }).nextOffset).toBe(offset);
  });

  it('refuses a snapshot that does not check, naming it', () => {
    const snapshot = readdirSync(w.dir).find((f) => f.endsWith('.lss')) as string;
    const file = path.join(w.dir, snapshot);
    flip(file, FILE_HEADER_BYTES + 100);
    expect(() => recover(w.dir, { ttlMs: 0, log: recordingLog() })).toThrow(
      expect.objectContaining({
        code: 'CORRUPT_JOURNAL',
        message: expect.stringContaining(`${file} is corrupt at byte ${FILE_HEADER_BYTES}`),
      }),
    );
  });
});
