import { describe, expect, it } from 'vitest';
import { rng } from '../../src/cli/workload.js';
import { BLOCK, compareIds, SortedIds, sortIds } from '../../src/sorted-ids.js';

/** Every id after `after`, page by page, as list() walks them. */
function walk(s: SortedIds, limit: number): string[] {
  const out: string[] = [];
  let after: string | undefined;
  for (;;) {
    const { ids, more } = s.page(after, limit);
    out.push(...ids);
    if (!more) return out;
    expect(ids.length).toBe(limit);
    after = ids[ids.length - 1];
  }
}

describe('SortedIds keeps ids in order under creates and deletes', () => {
  it('agrees with a sorted array through random inserts, deletes and page walks', () => {
    const random = rng(11);
    const live = new Set<string>();
    const s = SortedIds.fromSorted([]);
    // Enough ids that blocks split (2 × BLOCK) and empty ones go away again.
    for (let step = 0; step < 20_000; step++) {
      const id = `P${Math.floor(random() * 6 * BLOCK)}`;
      if (live.has(id)) {
        expect(s.delete(id)).toBe(true);
        live.delete(id);
      } else {
        s.insert(id);
        live.add(id);
      }
      if (step % 2_000 === 0) {
        const expected = [...live].sort(compareIds);
        expect(s.all()).toEqual(expected);
        expect(walk(s, 97)).toEqual(expected);
      }
    }
    expect(s.size).toBe(live.size);
    expect(s.delete('not-there')).toBe(false);
  });

  it('pages after a cursor that was deleted, or never existed, from the next id on', () => {
    const s = SortedIds.fromSorted(['a', 'b', 'c', 'd']);
    expect(s.page('b', 2)).toEqual({ ids: ['c', 'd'], more: false });
    s.delete('b');
    expect(s.page('b', 1)).toEqual({ ids: ['c'], more: true });
    expect(s.page('bb', 5)).toEqual({ ids: ['c', 'd'], more: false });
    expect(s.page('z', 5)).toEqual({ ids: [], more: false });
    expect(s.page(undefined, 3)).toEqual({ ids: ['a', 'c', 'd'], more: false });
  });

  it('pages a catalog built from a sorted array across block boundaries', () => {
    const ids = Array.from({ length: 3 * BLOCK + 5 }, (_, i) => `S${String(i).padStart(5, '0')}`);
    const s = SortedIds.fromSorted(ids);
    expect(walk(s, BLOCK)).toEqual(ids);
    expect(walk(s, 1)).toEqual(ids);
    s.insert('S');
    s.insert('T');
    expect(walk(s, 100)).toEqual(['S', ...ids, 'T']);
  });
});

describe('sortIds sorts in slices', () => {
  it('sorts in code-unit order, turning the event loop between slices', async () => {
    const random = rng(5);
    const ids = Array.from({ length: 50_000 }, (_, i) => `${Math.floor(random() * 1e9)}-${i}`);
    let turns = 0;
    // A zero slice turns at every check: every resume point of the sort runs.
    const sorted = await sortIds([...ids], 0, async () => {
      turns++;
    });
    expect(sorted).toEqual([...ids].sort(compareIds));
    expect(turns).toBeGreaterThan(0);
  });

  it('returns ids already in order as they are, without sorting', async () => {
    const ids = ['a', 'b', 'c'];
    expect(await sortIds(ids, 0, async () => {})).toBe(ids);
  });
});
