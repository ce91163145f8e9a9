/**
 * The caller's thread's map of product ids to slots. Only this thread assigns and
 * frees slots, so the map needs no lock.
 *
 * Each slot has a generation, bumped whenever it is given to a new product. Rows
 * carry the generation they were written for; a worker compares it with the slot's
 * under the product lock, so a request that was in flight while its product was
 * deleted (and its slot reused) finds `product_not_found`, never another product.
 *
 * The ids are also kept in ascending order (sorted-ids.ts), updated with each assign
 * and release, so that a `list` page costs a search, not a sort of every id.
 */
import { InventoryError } from './errors.js';
import { SortedIds } from './sorted-ids.js';

/** The id → slot map is cut into this many Maps (a power of two): see shardOf. */
const SHARDS = 16;

/**
 * A cheap mix of a few of the id's code units. One Map of a million ids rehashes all
 * of them in one go as it grows past 524 288 (~50 ms of the caller's event loop while
 * open loads them); sixteen smaller Maps each rehash a sixteenth.
 */
function shardOf(id: string): number {
  const n = id.length;
  if (n === 0) return 0;
  const h = id.charCodeAt(n - 1) * 31 + id.charCodeAt(n >> 1) * 7 + id.charCodeAt(0) + n;
  return (h ^ (h >>> 4)) & (SHARDS - 1);
}

export class Catalog {
  private readonly shards = Array.from({ length: SHARDS }, () => new Map<string, number>());
  private count = 0;
  private readonly ids: (string | undefined)[];
  readonly generations: Int32Array;
  /** Slots released, reused first (a stack); then the never-used slots from `fresh` up. */
  private readonly free: Int32Array;
  private freeCount = 0;
  private fresh = 0;
  private order = new SortedIds();
  /** While the initial catalog loads, ids are ordered once at the end (ordered()). */
  private loading = false;

  constructor(readonly capacity: number) {
    // Holey, not filled: a hole reads as undefined, and filling a million costs ~10 ms.
    this.ids = new Array<string | undefined>(capacity);
    this.generations = new Int32Array(capacity);
    this.free = new Int32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Every slot ever assigned is below this: the end of a scan over the live slots. */
  get highWater(): number {
    return this.fresh;
  }

  get available(): number {
    return this.freeCount + this.capacity - this.fresh;
  }

  slotOf(productId: string): number | undefined {
    return (this.shards[shardOf(productId)] as Map<string, number>).get(productId);
  }

  idOf(slot: number): string | undefined {
    return this.ids[slot];
  }

  has(productId: string): boolean {
    return (this.shards[shardOf(productId)] as Map<string, number>).has(productId);
  }

  /** Gives `productId` a free slot with a new generation. */
  assign(productId: string): number {
    if (this.freeCount === 0 && this.fresh === this.capacity) {
      throw new InventoryError(
        'CAPACITY_EXHAUSTED',
        `all ${this.capacity} product slots are in use: delete products or open with a larger capacity`,
      );
    }
    // A released slot first, as before; else the lowest never-used one.
    const slot = this.freeCount > 0 ? (this.free[--this.freeCount] as number) : this.fresh++;
    this.generations[slot] = ((this.generations[slot] as number) + 1) | 0;
    (this.shards[shardOf(productId)] as Map<string, number>).set(productId, slot);
    this.count++;
    this.ids[slot] = productId;
    if (!this.loading) this.order.insert(productId);
    return slot;
  }

  /** Forgets the product at `slot` and frees the slot for reuse. */
  release(slot: number): void {
    const id = this.ids[slot];
    if (id === undefined) return;
    (this.shards[shardOf(id)] as Map<string, number>).delete(id);
    this.count--;
    this.ids[slot] = undefined;
    this.free[this.freeCount++] = slot;
    this.order.delete(id);
  }

  /** Starts the initial catalog's load: assign() leaves the order to ordered(). */
  startLoading(): void {
    this.loading = true;
  }

  /** Ends the load with every id assigned so far, sorted (sortIds). */
  ordered(sorted: readonly string[]): void {
    this.order = SortedIds.fromSorted(sorted);
    this.loading = false;
  }

  /** Up to `limit` ids after `after` in ascending order, and whether more follow. */
  page(after: string | undefined, limit: number): { ids: string[]; more: boolean } {
    return this.order.page(after, limit);
  }
}
