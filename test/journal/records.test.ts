import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Change,
  type ChangeFields,
  type ChangeType,
  createChangeBuffer,
  emptyChange,
  RingWriter,
  TYPE_NAMES,
} from '../../memory/change-log.js';
import { createBuffer } from '../../memory/layout.js';
import type { JournalClient } from '../../src/journal/client.js';
import { recover } from '../../src/journal/recover.js';
import { fold, journal, keyedOffsets, readAll, recordingLog, sorted, tempDir } from './setup.js';

/** A change as generated: every field a record carries. */
interface Spec {
  type: number;
  productId: string;
  delta: number | null;
  available: number;
  version: number;
  lastUpdated: number;
  name: string | null;
  price: number | null;
  key: string | null;
  /** Items in an order starting here (1: not an order). */
  items: number;
}

const text = (units: string[], maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...units), minLength: 0, maxLength });
// Up to 4 bytes of UTF-8 a unit: ids stay within 64 bytes, names within 48.
const wide = ['a', 'Z', '-', 'é', '€', '😀'];

const spec: fc.Arbitrary<Spec> = fc.record({
  type: fc.integer({ min: 1, max: 5 }),
  productId: text(wide, 16).filter((s) => s.length > 0),
  delta: fc.option(fc.integer({ min: -1e9, max: 1e9 })),
  available: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  version: fc.nat({ max: 2 ** 32 - 1 }),
  lastUpdated: fc.integer({ min: 0, max: 4e12 }),
  name: fc.option(text(wide, 12)),
  price: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true })),
  // Keys are WTF-8: lone surrogates too. At most 255 units (the ring counts 3 bytes each).
  key: fc.option(
    fc.oneof(
      fc.string({ unit: 'binary', maxLength: 60 }),
      text(['k', '\ud800', '\udfff', '😀'], 40),
    ),
  ),
  items: fc.oneof(fc.constant(1), fc.integer({ min: 2, max: 4 })),
});

const encoder = new TextEncoder();

/** The records of `specs` from offset `first` on (an order's items share its key's record). */
function fieldsOf(specs: Spec[], first: number): { fields: ChangeFields[]; expected: Change[] } {
  const fields: ChangeFields[] = [];
  const expected: Change[] = [];
  let offset = first;
  for (const s of specs) {
    for (let i = 0; i < s.items; i++, offset++) {
      const c = emptyChange();
      const order = s.items > 1 ? offset - i : 0;
      c.offset = offset;
      c.type = s.type;
      c.hasDelta = s.delta !== null;
      c.delta = s.delta ?? 0;
      c.available = s.available;
      c.version = s.version;
      c.lastUpdated = s.lastUpdated;
      c.hasPrice = s.price !== null;
      c.price = s.price ?? 0;
      c.order = order;
      c.items = i === 0 && s.items > 1 ? s.items : 0;
      c.idLength = encoder.encodeInto(s.productId, c.idBytes).written;
      c.nameLength = s.name === null ? -1 : encoder.encodeInto(s.name, c.nameBytes).written;
      c.key = i === 0 ? s.key : null;
      fields.push(c);
      const change: Change = {
        offset,
        type: TYPE_NAMES[s.type] as ChangeType,
        productId: s.productId,
        available: s.available,
        version: s.version,
        lastUpdated: new Date(s.lastUpdated).toISOString(),
      };
      if (s.delta !== null) change.delta = s.delta;
      if (s.name !== null) change.name = s.name;
      if (s.price !== null) change.price = s.price;
      if (c.key !== null) change.idempotencyKey = c.key;
      if (order !== 0) change.order = order;
      expected.push(change);
    }
  }
  return { fields, expected };
}

/** A journal fed by a ring of this thread: one ring, so its pads take every size. */
async function fed(options: Parameters<typeof journal>[1]) {
  const b = { pv: createBuffer(1), cv: createChangeBuffer(1, 65_536) };
  const client = await journal(b, options);
  const writer = RingWriter.claim(b.cv, 7, 10_000) as RingWriter;
  return { client, writer };
}

describe('every field of every record survives the ring, the journal, the feed and recovery', () => {
  const dir = tempDir();
  let memory: { client: JournalClient; writer: RingWriter };
  let disk: { client: JournalClient; writer: RingWriter };
  let next = 1;
  const all: Change[] = [];

  beforeAll(async () => {
    memory = await fed({ retainChanges: 1_000_000 });
    // No window: every read comes from the segment files.
    disk = await fed({ dataDir: dir, retainChanges: 0, segmentBytes: 64 * 1024 });
  });

  afterAll(async () => {
    await disk.client.terminate();
  });

  it('reads back what was written, in order, from memory and from files', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(spec, { minLength: 1, maxLength: 80 }),
        fc.nat(),
        async (specs, cut) => {
          const { fields, expected } = fieldsOf(specs, next);
          const commitAt = cut % fields.length;
          for (const target of [memory, disk]) {
            fields.forEach((f, i) => {
              target.writer.write(f);
              if (i === commitAt) target.writer.commit();
            });
            target.writer.commit();
          }
          const after = next - 1;
          next += fields.length;
          all.push(...expected);
          expect(await memory.client.flush()).toBe(next - 1);
          expect(await disk.client.flush()).toBe(next - 1);
          expect(await readAll(memory.client, after, 37)).toEqual(expected);
          expect(await readAll(disk.client, after, 37)).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
    // The whole feed, once more from the start, across every segment.
    expect(await readAll(disk.client)).toEqual(all);
    await disk.client.close();
    const r = recover(dir, { ttlMs: Number.POSITIVE_INFINITY, log: recordingLog() });
    expect(r.nextOffset).toBe(next);
    expect(sorted(r.products)).toEqual(fold([], all));
    expect(r.keys.map((k) => k.offset)).toEqual(keyedOffsets(all));
    const keyed = new Map(all.map((c) => [c.offset, c]));
    for (const k of r.keys) {
      const c = keyed.get(k.offset) as Change;
      if (c.idempotencyKey !== undefined) expect(k.key).toBe(c.idempotencyKey);
    }
  });
});
