/**
 * Admission of the admin calls: `createProducts` (all or none), `setProduct` and
 * `deleteProduct`, from requests already read once (requests.ts) to rows.
 */
import {
  KIND_CREATE,
  KIND_DELETE,
  KIND_SET,
  SET_AVAILABLE,
  SET_NAME,
  SET_PRICE,
} from '../memory/protocol.js';
import type { Activity } from './activity.js';
import type { Catalog } from './catalog.js';
import { InventoryError } from './errors.js';
import { notFound } from './outcomes.js';
import type { ProductCopy, SetCopy } from './requests.js';
import type { Router } from './router.js';
import type { RowWriter } from './rows.js';
import { Deferred, ManyCall, type Sink } from './sinks.js';
import { FULL } from './stock-calls.js';
import type { CreatedProduct, DeleteOutcome, SetOutcome } from './types.js';

export class AdminCalls {
  constructor(
    private readonly router: Router,
    private readonly catalog: Catalog,
    private readonly rows: RowWriter,
    private readonly activity: Activity,
  ) {}

  /**
   * Creates every product or none: throws PRODUCT_EXISTS or CAPACITY_EXHAUSTED,
   * creating nothing, if any cannot be created. Slots are assigned now, so later calls
   * see the ids as taken; rows wait for room as workers take them.
   */
  createProducts(products: readonly ProductCopy[]): Promise<CreatedProduct[]> {
    const seen = new Set<string>();
    for (const p of products) {
      if (seen.has(p.productId) || this.catalog.has(p.productId)) {
        throw new InventoryError(
          'PRODUCT_EXISTS',
          `product ${JSON.stringify(p.productId)} already exists`,
        );
      }
      seen.add(p.productId);
    }
    if (products.length > this.catalog.available) {
      throw new InventoryError(
        'CAPACITY_EXHAUSTED',
        `${products.length} products do not fit: ${this.catalog.available} of ${this.catalog.capacity} slots are free`,
      );
    }
    const slots = products.map((p) => this.catalog.assign(p.productId));
    const many = new ManyCall<CreatedProduct>(products.length);
    this.activity.feed(
      products.length,
      (i) => {
        if (!this.router.hasRoom(1)) return false;
        const p = products[i] as ProductCopy;
        const b = this.rows.row(KIND_CREATE, slots[i] as number, p.productId, p.available, 0);
        const r = b.rows - 1;
        const c = b.columns;
        c.price[r] = p.price;
        c.str[r] = b.strings.length;
        b.strings.push(p.productId, p.name);
        b.sinks[r] = many as Sink<unknown>;
        b.sinkIndex[r] = i;
        return true;
      },
      (from, error) => {
        for (let i = from; i < products.length; i++) {
          this.catalog.release(slots[i] as number);
          many.fail(i, error);
        }
      },
    );
    return many.promise;
  }

  /** Changes a product's name and/or price; bumps its version and takes an offset. */
  setProduct(s: SetCopy): Promise<SetOutcome> | SetOutcome | typeof FULL {
    const slot = this.catalog.slotOf(s.productId);
    if (slot === undefined) return notFound(s.productId);
    if (!this.router.hasRoom(1)) return FULL;
    const d = new Deferred<SetOutcome>();
    const b = this.rows.row(KIND_SET, slot, s.productId, 0, s.expected);
    const r = b.rows - 1;
    const c = b.columns;
    c.aux[r] =
      (s.price !== undefined ? SET_PRICE : 0) |
      (s.name !== undefined ? SET_NAME : 0) |
      (s.available !== undefined ? SET_AVAILABLE : 0);
    c.price[r] = s.price ?? 0;
    c.amount[r] = s.available ?? 0;
    c.str[r] = b.strings.length;
    b.strings.push(s.name ?? '');
    b.sinks[r] = d as Sink<unknown>;
    return d.promise;
  }

  /** Deletes a product, freeing its slot and its lock for reuse. */
  deleteProduct(
    productId: string,
    expected: number,
  ): Promise<DeleteOutcome> | DeleteOutcome | typeof FULL {
    const slot = this.catalog.slotOf(productId);
    if (slot === undefined) return notFound(productId);
    if (!this.router.hasRoom(1)) return FULL;
    const d = new Deferred<DeleteOutcome>();
    const b = this.rows.row(KIND_DELETE, slot, productId, 0, expected);
    b.sinks[b.rows - 1] = d as Sink<unknown>;
    return d.promise;
  }
}
