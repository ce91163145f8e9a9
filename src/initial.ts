/** Loading the initial catalog (read and checked by options.ts) straight into the buffer. */
import { counter64, HDR_OFFSET, type SharedViews, STATE_LIVE } from '../memory/layout.js';
import { encodeName, nameScratch, publishRecord, writeId } from '../memory/records.js';
import type { Catalog } from './catalog.js';
import type { ProductCopy } from './requests.js';

/** Writes the initial catalog straight into the buffer, before any worker exists. */
export function loadInitial(
  v: SharedViews,
  catalog: Catalog,
  products: readonly ProductCopy[],
): void {
  const name = nameScratch();
  const utf8 = new TextEncoder();
  const now = Date.now();
  products.forEach((p) => {
    const slot = catalog.assign(p.productId);
    writeId(v, slot, utf8.encode(p.productId));
    publishRecord(
      v,
      slot,
      {
        state: STATE_LIVE,
        generation: catalog.generations[slot] as number,
        version: 1,
        nameRev: 1,
        available: p.available,
        lastUpdated: now,
        price: p.price,
      },
      encodeName(p.name, name),
    );
  });
  Atomics.store(v.i64, counter64(HDR_OFFSET), BigInt(products.length));
}
