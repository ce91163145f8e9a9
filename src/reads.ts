/**
 * Reads on the caller's thread: `get` (synchronous, never waits) and `list` (a
 * consistent cut, copied by a pool thread under the global lock in S mode).
 *
 * Names are decoded from shared memory only when they changed: each slot's last name
 * is kept here with the (generation, name revision) it belongs to, so a `get` of an
 * unchanged product costs no UTF-8 decoding.
 */
import { type SharedViews, STATE_LIVE } from '../memory/layout.js';
import type { ListResult, ListTask } from '../memory/protocol.js';
import {
  decodeName,
  emptyRecord,
  type NameScratch,
  nameScratch,
  readRecord,
} from '../memory/records.js';
import type { Catalog } from './catalog.js';
import { isoTime } from './clock.js';
import { InventoryError } from './errors.js';
import type { Router } from './router.js';
import type { ListPage, Product } from './types.js';

/** Each slot's last known name, by (generation, name revision). */
export class NameCache {
  private readonly generation: Int32Array;
  private readonly rev: Int32Array;
  private readonly names: (string | undefined)[];

  constructor(capacity: number) {
    this.generation = new Int32Array(capacity);
    this.rev = new Int32Array(capacity);
    // Holey, not filled (20–45 ms at a million): a slot's name is read only once set.
    this.names = new Array<string | undefined>(capacity);
  }

  /** The cached name, or undefined when the slot's cache is of another revision. */
  get(slot: number, generation: number, rev: number): string | undefined {
    return this.generation[slot] === generation && this.rev[slot] === rev
      ? this.names[slot]
      : undefined;
  }

  set(slot: number, generation: number, rev: number, name: string): void {
    this.generation[slot] = generation;
    this.rev[slot] = rev;
    this.names[slot] = name;
  }
}

export class Reads {
  // Reused by get(): a read allocates only the Product it returns.
  private readonly record = emptyRecord();
  private readonly name: NameScratch = nameScratch();

  constructor(
    private readonly views: SharedViews,
    private readonly catalog: Catalog,
    private readonly router: Router,
    readonly names: NameCache,
  ) {}

  get(productId: unknown): Product | undefined {
    if (typeof productId !== 'string') return undefined;
    const slot = this.catalog.slotOf(productId);
    if (slot === undefined) return undefined;
    const generation = this.catalog.generations[slot] as number;
    let rec = readRecord(this.views, slot, this.record);
    if (rec.state !== STATE_LIVE || rec.generation !== generation) return undefined;
    let name = this.names.get(slot, generation, rec.nameRev);
    if (name === undefined) {
      rec = readRecord(this.views, slot, this.record, this.name);
      if (rec.state !== STATE_LIVE || rec.generation !== generation) return undefined;
      name = decodeName(this.name);
      this.names.set(slot, generation, rec.nameRev, name);
    }
    return {
      productId,
      name,
      available: rec.available,
      price: rec.price,
      version: rec.version,
      lastUpdated: isoTime(rec.lastUpdated),
    };
  }

  /** A page of `limit` products after `after`, from one consistent cut. */
  async list(limit: number, after: string | undefined): Promise<ListPage> {
    const { ids: page, more } = this.catalog.page(after, limit);
    const slots = new Int32Array(page.length);
    const generations = new Int32Array(page.length);
    page.forEach((id, i) => {
      const slot = this.catalog.slotOf(id) as number;
      slots[i] = slot;
      generations[i] = this.catalog.generations[slot] as number;
    });
    const task: ListTask = { type: 'list', slots, generations };
    let cut: ListResult;
    try {
      cut = await this.router.run<ListResult>(task);
    } catch (error) {
      // The worker's error arrives as a plain Error: name what went wrong.
      const message = error instanceof Error ? error.message : String(error);
      throw /not acquired within/.test(message)
        ? new InventoryError('LOCK_TIMEOUT', `list: ${message}`, { cause: error })
        : new InventoryError('WORKER_FAILED', `list: ${message}`, { cause: error });
    }
    const items: Product[] = [];
    for (let i = 0; i < page.length; i++) {
      if (cut.live[i] !== 1) continue;
      items.push({
        productId: page[i] as string,
        name: cut.names[i] as string,
        available: cut.available[i] as number,
        price: cut.price[i] as number,
        version: cut.version[i] as number,
        lastUpdated: isoTime(cut.lastUpdated[i] as number),
      });
    }
    const next = more ? (page[page.length - 1] ?? null) : null;
    return { items, next, asOf: cut.offset };
  }
}
