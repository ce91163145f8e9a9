import { describe, expect, it } from 'vitest';
import * as L from '../../memory/layout.js';

/** Every field of a slot: [name, first word, words]. */
const slotFields: [string, number, number][] = [
  ['lock', L.SLOT_LOCK, L.LOCK_WORDS],
  ['latch seq', L.SLOT_LATCH_SEQ, 1],
  ['id length', L.SLOT_ID_LEN, 1],
  ['copy 0', L.SLOT_COPY_0, L.COPY_WORDS],
  ['copy 1', L.SLOT_COPY_1, L.COPY_WORDS],
  ['id', L.SLOT_ID, L.ID_MAX_BYTES / L.WORD_BYTES],
];

const copyFields: [string, number, number][] = [
  ['state', L.REC_STATE, 1],
  ['generation', L.REC_GENERATION, 1],
  ['version', L.REC_VERSION, 1],
  ['name rev', L.REC_NAME_REV, 1],
  ['available', L.REC_AVAILABLE, 2],
  ['last updated', L.REC_LAST_UPDATED, 2],
  ['price', L.REC_PRICE, 2],
  ['name length', L.REC_NAME_LEN, 1],
  ['name', L.REC_NAME, L.NAME_MAX_BYTES / L.WORD_BYTES],
];

const headerFields: [string, number, number][] = [
  ['magic', L.HDR_MAGIC, 1],
  ['layout version', L.HDR_LAYOUT_VERSION, 1],
  ['capacity', L.HDR_CAPACITY, 1],
  ['slot words', L.HDR_SLOT_WORDS, 1],
  ['slots base', L.HDR_SLOTS_BASE, 1],
  ['global lock', L.HDR_GLOBAL_LOCK, L.GLOBAL_LOCK_WORDS],
  ['offset', L.HDR_OFFSET, 2],
  ['queued', L.HDR_QUEUED, 1],
  ['busy µs', L.HDR_BUSY_US, 2],
];

function expectDisjointWithin(fields: [string, number, number][], size: number) {
  const sorted = [...fields].sort((a, b) => a[1] - b[1]);
  for (const [name, start, words] of sorted) {
    expect(start, name).toBeGreaterThanOrEqual(0);
    expect(start + words, `${name} ends inside its region`).toBeLessThanOrEqual(size);
  }
  for (let i = 1; i < sorted.length; i++) {
    const [prev, start, words] = sorted[i - 1] as [string, number, number];
    const [name, next] = sorted[i] as [string, number, number];
    expect(next, `${name} overlaps ${prev}`).toBeGreaterThanOrEqual(start + words);
  }
}

describe('shared memory layout', () => {
  it('slot stride is a whole number of 64-byte cache lines', () => {
    expect(L.SLOT_BYTES % L.CACHE_LINE_BYTES).toBe(0);
    expect((L.HEADER_WORDS * L.WORD_BYTES) % L.CACHE_LINE_BYTES).toBe(0);
  });

  it('slot fields are distinct and inside the slot', () => {
    expectDisjointWithin(slotFields, L.SLOT_WORDS);
  });

  it('record copy fields are distinct and inside the copy', () => {
    expectDisjointWithin(copyFields, L.COPY_WORDS);
  });

  it('header fields are distinct and inside the header', () => {
    expectDisjointWithin(headerFields, L.HEADER_WORDS);
  });

  it('64-bit fields are 8-byte aligned, in every slot', () => {
    const wide = [
      L.SLOT_LOCK + L.LOCK_WAIT_US,
      L.SLOT_LOCK + L.LOCK_HOLD_US,
      L.SLOT_LOCK + L.LOCK_HOLD_MAX_US,
      L.SLOT_COPY_0 + L.REC_AVAILABLE,
      L.SLOT_COPY_0 + L.REC_LAST_UPDATED,
      L.SLOT_COPY_0 + L.REC_PRICE,
      L.SLOT_COPY_1 + L.REC_AVAILABLE,
      L.SLOT_COPY_1 + L.REC_LAST_UPDATED,
      L.SLOT_COPY_1 + L.REC_PRICE,
    ];
    for (const slot of [0, 1, 7]) {
      for (const field of wide) expect((L.slotBase(slot) + field) % 2).toBe(0);
    }
    expect((L.HDR_GLOBAL_LOCK + L.GLOBAL_WAIT_US) % 2).toBe(0);
    expect((L.HDR_GLOBAL_LOCK + L.GLOBAL_HOLD_US) % 2).toBe(0);
    expect((L.HDR_GLOBAL_LOCK + L.GLOBAL_HOLD_MAX_US) % 2).toBe(0);
    expect(L.GLOBAL_HOLD_MAX_US + 2).toBeLessThanOrEqual(L.GLOBAL_LOCK_WORDS);
    expect(L.LOCK_HOLD_MAX_US + 2).toBeLessThanOrEqual(L.LOCK_WORDS);
    expect(L.HDR_OFFSET % 2).toBe(0);
    expect(L.HDR_BUSY_US % 2).toBe(0);
  });

  it('names the 64-bit index of each wide field, the same memory as its Int32 words', () => {
    const v = L.createBuffer(2);
    const word = L.slotBase(1) + L.SLOT_LOCK + L.LOCK_WAIT_US;
    v.i64[L.counter64(word)] = 0x1_0000_0002n;
    expect([v.i32[word], v.i32[word + 1]]).toEqual([2, 1]);
    const price = L.slotBase(1) + L.SLOT_COPY_0 + L.REC_PRICE;
    v.f64[L.float64(price)] = 1.5;
    expect(new Float64Array(v.i32.slice(price, price + 2).buffer)[0]).toBe(1.5);
  });

  it('words different threads write sit on different cache lines', () => {
    const line = (word: number) => Math.floor((word * L.WORD_BYTES) / L.CACHE_LINE_BYTES);
    const hot = [
      L.HDR_GLOBAL_LOCK,
      L.HDR_OFFSET,
      L.HDR_QUEUED,
      L.HDR_BUSY_US,
      L.slotBase(0),
      L.slotBase(1),
    ];
    expect(new Set(hot.map(line)).size).toBe(hot.length);
    // Neighbouring slots never share a line.
    expect(line(L.slotBase(1)) - line(L.slotBase(0) + L.SLOT_WORDS - 1)).toBe(1);
  });

  it('sizes the buffer from the capacity and checks it when attaching', () => {
    const v = L.createBuffer(3);
    expect(v.buffer.byteLength).toBe(L.bufferBytes(3));
    expect(L.attachBuffer(v.buffer).capacity).toBe(3);
    expect(() => L.attachBuffer(new SharedArrayBuffer(L.bufferBytes(1)))).toThrow(
      'not a lockstock buffer',
    );
    expect(() => L.createBuffer(0)).toThrow(RangeError);
    expect(() => L.createBuffer(L.MAX_CAPACITY + 1)).toThrow(RangeError);
  });
});
