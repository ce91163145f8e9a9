import { describe, expect, it } from 'vitest';
import {
  createChangeBuffer,
  emptyChange,
  RingWriter,
  TYPE_CREATED,
  TYPE_DELETED,
  TYPE_UPDATED,
} from '../../memory/change-log.js';
import { createBuffer } from '../../memory/layout.js';
import { recover } from '../../src/journal/recover.js';
import { fold, journal, readAll, recordingLog, sorted, tempDir } from './setup.js';

describe('recovery keys products by their id bytes', () => {
  it('finds each product among thousands, through growth, deletes and re-creates', async () => {
    const dir = tempDir();
    const b = { pv: createBuffer(1), cv: createChangeBuffer(1, 65_536) };
    const client = await journal(b, { dataDir: dir });
    const ring = RingWriter.claim(b.cv, 7, 10_000) as RingWriter;
    const c = emptyChange();
    const encoder = new TextEncoder();
    let offset = 0;
    const write = (type: number, id: number, version: number) => {
      c.offset = ++offset;
      c.type = type;
      c.available = id * 10 + version;
      c.version = version;
      c.lastUpdated = 1_700_000_000_000 + offset;
      c.hasPrice = type === TYPE_CREATED;
      c.price = id / 4;
      c.idLength = encoder.encodeInto(`product-${id}-é`, c.idBytes).written;
      c.nameLength =
        type === TYPE_CREATED ? encoder.encodeInto(`name ${id}`, c.nameBytes).written : -1;
      ring.write(c);
      ring.commit();
    };
    for (let id = 0; id < 6000; id++) write(TYPE_CREATED, id, 1);
    for (let id = 0; id < 6000; id += 2) write(TYPE_UPDATED, id, 2);
    for (let id = 0; id < 6000; id += 3) write(TYPE_DELETED, id, 2);
    for (let id = 0; id < 6000; id += 9) write(TYPE_CREATED, id, 1);
    expect(await client.flush()).toBe(offset);
    const feed = await readAll(client);
    await client.terminate();
    const r = recover(dir, { ttlMs: 0, log: recordingLog() });
    expect(r.products.length).toBe(6000 - 2000 + 667);
    expect(sorted(r.products)).toEqual(fold([], feed));
  });
});
