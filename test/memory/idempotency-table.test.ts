import { describe, expect, it } from 'vitest';
import * as T from '../../memory/idempotency-table.js';
import { IdempotencyTable } from '../../memory/idempotency-table.js';
import { rng } from '../../src/cli/workload.js';

/** Strings that must each keep a byte form of their own. */
const awkward = [
  'a',
  'a\u0000',
  '\u0000a',
  'é',
  'e\u0301',
  '€',
  '😀',
  '\ud83d', // a lone high surrogate
  '\ude00', // a lone low surrogate
  '\ude00\ud83d', // the pair's halves in the wrong order
  '\ufffd', // what a lone surrogate would become in plain UTF-8
  'k'.repeat(255),
  '😀'.repeat(127),
];

function append(t: IdempotencyTable, key: string, id = ''): number {
  const e = t.append(key, t.hash(key), id);
  t.i32[t.entryBase(e) + T.E_STATE] = T.OUTCOME_NOT_FOUND;
  return e;
}

/** Forgets the oldest place, live or not. */
function dropOldest(t: IdempotencyTable): void {
  const e = t.head;
  if (t.i32[t.entryBase(e) + T.E_STATE] !== T.ENTRY_EMPTY) t.remove(e);
  t.dropHead();
}

describe('the idempotency table layout', () => {
  it('names every entry word once, Float64 fields on even words', () => {
    const fields: [string, number, number][] = [
      ['state', T.E_STATE, 1],
      ['kind', T.E_KIND, 1],
      ['hash', T.E_HASH, 1],
      ['bytes', T.E_BYTES, 1],
      ['key bytes', T.E_KEY_BYTES, 1],
      ['text bytes', T.E_TEXT_BYTES, 1],
      ['items', T.E_ITEMS, 1],
      ['side', T.E_SIDE, 1],
      ['expires', T.E_EXPIRES, 2],
      ['delta', T.E_DELTA, 2],
      ['expected', T.E_EXPECTED, 2],
      ['available', T.E_AVAILABLE, 2],
      ['version', T.E_VERSION, 2],
      ['last updated', T.E_LAST_UPDATED, 2],
      ['offset', T.E_OFFSET, 2],
      ['number bytes', T.E_NUMBER_BYTES, 1],
    ];
    const used = new Array<string | undefined>(T.ENTRY_WORDS);
    for (const [name, first, words] of fields) {
      if (words === 2) expect(first % 2, name).toBe(0);
      for (let w = first; w < first + words; w++) {
        expect(used[w], `${name} overlaps ${used[w]}`).toBeUndefined();
        used[w] = name;
      }
    }
    expect(T.T_HEADER_WORDS % 2).toBe(0);
    expect(T.BUCKET_WORDS % 2).toBe(0);
    expect(T.ENTRY_WORDS % 2).toBe(0);
    expect(T.T_ARENA_TAIL).toBeLessThan(T.T_HEADER_WORDS);
  });

  it('refuses a buffer it did not lay out', () => {
    expect(() => new IdempotencyTable(new SharedArrayBuffer(1024))).toThrow(/not an idempotency/);
  });
});

describe('keys as WTF-8', () => {
  it('reads back every string exactly, and no two strings share bytes', () => {
    const u8 = new Uint8Array(4096);
    const forms = new Set<string>();
    for (const s of awkward) {
      const n = T.writeText(u8, 0, s);
      expect(T.readText(u8, 0, n)).toBe(s);
      expect(T.sameText(u8, 0, n, s)).toBe(true);
      for (const other of awkward) if (other !== s) expect(T.sameText(u8, 0, n, other)).toBe(false);
      forms.add(Array.from(u8.subarray(0, n)).join(','));
    }
    expect(forms.size).toBe(awkward.length);
  });

  it('writes well-formed text as UTF-8', () => {
    const u8 = new Uint8Array(64);
    const s = 'é€😀\u0000a';
    const n = T.writeText(u8, 0, s);
    expect(Buffer.from(u8.subarray(0, n))).toEqual(Buffer.from(s, 'utf8'));
  });
});

describe('the idempotency table', () => {
  it('finds keys with multi-byte characters, NUL and lone surrogates, each on its own', () => {
    const t = IdempotencyTable.create(64, 64 * 1024, 7);
    const entries = awkward.map((k, i) => append(t, k, `P${i}`));
    awkward.forEach((k, i) => {
      expect(t.find(k, t.hash(k))).toBe(entries[i]);
      expect(t.text(entries[i] as number)).toBe(`P${i}`);
    });
    expect(t.find('b', t.hash('b'))).toBe(-1);
  });

  it('tells apart two keys with the same 32-bit hash', () => {
    const seed = 12345;
    const seen = new Map<number, string>();
    let pair: [string, string] | null = null;
    for (let i = 0; pair === null; i++) {
      const key = `key-${i}`;
      const h = T.hashKey(key, seed);
      const before = seen.get(h);
      if (before !== undefined) pair = [before, key];
      else seen.set(h, key);
    }
    const [a, b] = pair;
    const t = IdempotencyTable.create(4, 1024, seed);
    expect(t.hash(a)).toBe(t.hash(b));
    const ea = append(t, a);
    expect(t.find(b, t.hash(b))).toBe(-1);
    const eb = append(t, b);
    expect(t.find(a, t.hash(a))).toBe(ea);
    expect(t.find(b, t.hash(b))).toBe(eb);
    t.remove(ea);
    expect(t.find(a, t.hash(a))).toBe(-1);
    expect(t.find(b, t.hash(b))).toBe(eb);
  });

  it('agrees with a Map through churn in a tiny table (collisions, removal, wrap-around)', () => {
    const next = rng(42);
    // 4 places, 8 buckets: every probe run is short but collisions are constant.
    const t = IdempotencyTable.create(4, 64, 99);
    const model = new Map<string, number>();
    const fifo: string[] = [];
    for (let step = 0; step < 20_000; step++) {
      const key = `k${Math.floor(next() * 12)}${next() < 0.1 ? '€' : ''}`;
      const found = t.find(key, t.hash(key));
      expect(found).toBe(model.get(key) ?? -1);
      if (found >= 0) {
        if (next() < 0.3) {
          t.remove(found);
          model.delete(key);
        }
        continue;
      }
      while (!t.hasRoom(key, '', 0)) {
        const e = t.head;
        const oldest = fifo.shift() as string;
        if (t.i32[t.entryBase(e) + T.E_STATE] !== T.ENTRY_EMPTY) model.delete(oldest);
        dropOldest(t);
      }
      model.set(key, append(t, key));
      fifo.push(key);
      expect(t.live).toBe(model.size);
    }
  });

  it('refuses a new place when full, until the oldest is dropped', () => {
    const t = IdempotencyTable.create(2, 1024, 1);
    append(t, 'a');
    append(t, 'b');
    expect(t.hasRoom('c', '', 0)).toBe(false);
    expect(() => append(t, 'c')).toThrow(/full/);
    dropOldest(t);
    expect(t.hasRoom('c', '', 0)).toBe(true);
    append(t, 'c');
    expect(t.find('a', t.hash('a'))).toBe(-1);
    expect(t.find('c', t.hash('c'))).toBeGreaterThanOrEqual(0);
  });

  it('grows into a bigger table keeping the live keys, oldest first, and their fields', () => {
    const t = IdempotencyTable.create(8, 512, 5);
    for (let i = 0; i < 8; i++) {
      // Odd text lengths and numbers after them: each place's numbers stay 8-aligned.
      const e = t.append(`key-${i}`, t.hash(`key-${i}`), `SKU-${i}`, 16 * (i % 3));
      t.i32[t.entryBase(e) + T.E_STATE] = T.OUTCOME_APPLIED;
      t.setNumber(e, T.E_OFFSET, i);
      if (i % 3 > 0) t.f64[t.numbersAt(e) + 1] = i + 0.5;
    }
    t.remove(t.find('key-3', t.hash('key-3')));
    const g = IdempotencyTable.grownFrom(t, 16, 1024);
    expect(g.live).toBe(7);
    expect(g.count).toBe(7);
    for (let i = 0; i < 8; i++) {
      const e = g.find(`key-${i}`, g.hash(`key-${i}`));
      if (i === 3) {
        expect(e).toBe(-1);
        continue;
      }
      expect(g.text(e)).toBe(`SKU-${i}`);
      expect(g.number(e, T.E_OFFSET)).toBe(i);
      if (i % 3 > 0) expect(g.f64[g.numbersAt(e) + 1]).toBe(i + 0.5);
    }
    expect(g.find('key-0', g.hash('key-0'))).toBe(g.head);
  });
});
