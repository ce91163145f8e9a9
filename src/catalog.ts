/**
 * The caller's thread's map of product ids to slots. Only this thread assigns and
 * frees slots, so the map needs no lock.
 *
 * Each slot has a generation, bumped whenever it is given to a new product. Rows
 * carry the generation they were written for; a worker compares it with the slot's
 * under the product lock, so a request that was in flight while its product was
 * deleted (and its slot reused) finds `product_not_found`, never another product.
 */
import { InventoryError } from './errors.js';

export class Catalog {
  private readonly slots = new Map<string, number>();
  private readonly ids: (string | undefined)[];
  readonly generations: Int32Array;
  private readonly free: Int32Array;
  private freeCount: number;
  private sorted: string[] | null = null;

  constructor(readonly capacity: number) {
    this.ids = new Array<string | undefined>(capacity).fill(undefined);
    this.generations = new Int32Array(capacity);
    this.free = new Int32Array(capacity);
    // Hand out low slots first: the stack's top is its end.
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i;
    this.freeCount = capacity;
  }

  get size(): number {
    return this.slots.size;
  }

  get available(): number {
    return this.freeCount;
  }

  slotOf(productId: string): number | undefined {
    return this.slots.get(productId);
  }

  idOf(slot: number): string | undefined {
    return this.ids[slot];
  }

  /** Every product as [productId, slot]. */
  entries(): IterableIterator<[string, number]> {
    return this.slots.entries();
  }

  has(productId: string): boolean {
    return this.slots.has(productId);
  }

  /** Gives `productId` a free slot with a new generation. */
  assign(productId: string): number {
    if (this.freeCount === 0) {
      throw new InventoryError(
        'CAPACITY_EXHAUSTED',
        `all ${this.capacity} product slots are in use: delete products or open with a larger capacity`,
      );
    }
    const slot = this.free[--this.freeCount] as number;
    this.generations[slot] = ((this.generations[slot] as number) + 1) | 0;
    this.slots.set(productId, slot);
    this.ids[slot] = productId;
    this.sorted = null;
    return slot;
  }

  /** Forgets the product at `slot` and frees the slot for reuse. */
  release(slot: number): void {
    const id = this.ids[slot];
    if (id === undefined) return;
    this.slots.delete(id);
    this.ids[slot] = undefined;
    this.free[this.freeCount++] = slot;
    this.sorted = null;
  }

  /** Every product id in ascending order (cached until the catalog changes). */
  sortedIds(): readonly string[] {
    if (this.sorted === null) {
      this.sorted = [...this.slots.keys()].sort(compareIds);
    }
    return this.sorted;
  }

  /** Index in sortedIds() of the first id after `after`. */
  indexAfter(after: string): number {
    const ids = this.sortedIds();
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareIds(ids[mid] as string, after) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Code-unit order: cheap, total, and the same on every platform (unlike localeCompare). */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
