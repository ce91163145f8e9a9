/**
 * Product ids in ascending order, kept as products come and go, for `list`.
 *
 * Sorting every id again after each create or delete cost 100–170 ms at a million
 * products. This keeps them in a two-level sorted list (a B+ tree of height two, as
 * Python's `sortedcontainers` does it): an array of sorted blocks of at most
 * 2 × BLOCK ids each. An insert or a delete finds its block by binary search over the
 * blocks' last ids and splices inside one block, moving at most 2 × BLOCK entries; a
 * page finds its start the same way and walks the blocks. Every block is non-empty.
 */

/** Code-unit order: cheap, total, and the same on every platform (unlike localeCompare). */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A block is split beyond twice this, and the initial catalog is cut into blocks of it. */
export const BLOCK = 512;

/** The first index in sorted `a` whose id is > `id` (`strict`) or ≥ `id`. */
function bound(a: readonly string[], id: string, strict: boolean): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareIds(a[mid] as string, id);
    if (c < 0 || (strict && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SortedIds {
  private blocks: string[][] = [];
  /** Each block's last id, for the binary search that finds a block. */
  private lasts: string[] = [];
  private count = 0;

  /** From ids already in ascending order, none twice. */
  static fromSorted(ids: readonly string[]): SortedIds {
    const s = new SortedIds();
    for (let i = 0; i < ids.length; i += BLOCK) {
      const block = ids.slice(i, i + BLOCK);
      s.blocks.push(block);
      s.lasts.push(block[block.length - 1] as string);
    }
    s.count = ids.length;
    return s;
  }

  get size(): number {
    return this.count;
  }

  /** Adds `id`, which must not be present. */
  insert(id: string): void {
    if (this.blocks.length === 0) {
      this.blocks.push([id]);
      this.lasts.push(id);
      this.count = 1;
      return;
    }
    // The first block whose last id is ≥ id, or the last block when id is past all.
    const b = Math.min(bound(this.lasts, id, false), this.blocks.length - 1);
    const block = this.blocks[b] as string[];
    block.splice(bound(block, id, false), 0, id);
    this.lasts[b] = block[block.length - 1] as string;
    this.count++;
    if (block.length > 2 * BLOCK) {
      const tail = block.splice(BLOCK);
      this.blocks.splice(b + 1, 0, tail);
      this.lasts[b] = block[block.length - 1] as string;
      this.lasts.splice(b + 1, 0, tail[tail.length - 1] as string);
    }
  }

  /** Removes `id`; false when it was not present. */
  delete(id: string): boolean {
    const b = bound(this.lasts, id, false);
    const block = this.blocks[b];
    if (block === undefined) return false;
    const i = bound(block, id, false);
    if (block[i] !== id) return false;
    block.splice(i, 1);
    this.count--;
    if (block.length === 0) {
      this.blocks.splice(b, 1);
      this.lasts.splice(b, 1);
    } else {
      this.lasts[b] = block[block.length - 1] as string;
    }
    return true;
  }

  /**
   * Up to `limit` ids after `after` (from the first when undefined), and whether any
   * id follows them.
   */
  page(after: string | undefined, limit: number): { ids: string[]; more: boolean } {
    let b = after === undefined ? 0 : bound(this.lasts, after, true);
    let i = after === undefined ? 0 : bound(this.blocks[b] ?? [], after, true);
    const ids: string[] = [];
    while (b < this.blocks.length) {
      const block = this.blocks[b] as string[];
      while (i < block.length) {
        if (ids.length === limit) return { ids, more: true };
        ids.push(block[i++] as string);
      }
      b++;
      i = 0;
    }
    return { ids, more: false };
  }

  /** Every id in order (for tests and small catalogs). */
  all(): string[] {
    return this.blocks.flat();
  }
}

/**
 * Sorts `ids` in place, in code-unit order, working at most `sliceMs` at a time and
 * awaiting `turn()` between: a million ids sort in ~0.2 s, which must not be one stall
 * of the caller's event loop. Bottom-up merge sort: runs of RUN ids sorted natively,
 * then passes that merge neighbouring runs through a second array.
 */
export async function sortIds(
  ids: string[],
  sliceMs: number,
  turn: () => Promise<void>,
): Promise<string[]> {
  const RUN = 1024;
  const n = ids.length;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++)
    sorted = compareIds(ids[i - 1] as string, ids[i] as string) < 0;
  if (sorted) return ids;
  let start = performance.now();
  const breathe = async () => {
    if (performance.now() - start >= sliceMs) {
      await turn();
      start = performance.now();
    }
  };
  for (let i = 0; i < n; i += RUN) {
    const run = ids.slice(i, i + RUN).sort(compareIds);
    for (let k = 0; k < run.length; k++) ids[i + k] = run[k] as string;
    await breathe();
  }
  let from = ids;
  let to = new Array<string>(n);
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let a = lo;
      let b = mid;
      let k = lo;
      while (a < mid && b < hi) {
        const x = from[a] as string;
        const y = from[b] as string;
        if (x <= y) {
          to[k++] = x;
          a++;
        } else {
          to[k++] = y;
          b++;
        }
        if ((k & 8191) === 0) await breathe();
      }
      while (a < mid) to[k++] = from[a++] as string;
      while (b < hi) to[k++] = from[b++] as string;
    }
    [from, to] = [to, from];
  }
  return from;
}
