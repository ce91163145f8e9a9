/** Checking and loading products straight into the buffer. */
import { HDR_OFFSET, type SharedViews, STATE_LIVE } from '../memory/layout.js';
import { encodeName, nameScratch, publishRecord, writeId } from '../memory/records.js';
import type { Catalog } from './catalog.js';
import { InventoryError } from './errors.js';
import type { ProductInput } from './types.js';
import { idProblem, nameProblem, objectProblem, priceProblem, stockProblem } from './validate.js';

/** What is wrong with a product to create, naming the field; null if nothing. */
export function productProblem(p: unknown, field: string): string | null {
  const problem = objectProblem(p);
  if (problem !== null) return `${field} ${problem}`;
  const r = p as Record<string, unknown>;
  const checks: [string, string | null][] = [
    ['productId', idProblem(r.productId)],
    ['name', r.name === undefined ? null : nameProblem(r.name)],
    ['available', stockProblem(r.available)],
    ['price', r.price === undefined ? null : priceProblem(r.price)],
  ];
  for (const [name, problem] of checks) if (problem !== null) return `${field}.${name} ${problem}`;
  return null;
}

/** Writes the initial catalog straight into the buffer, before any worker exists. */
export function loadInitial(
  v: SharedViews,
  catalog: Catalog,
  products: readonly ProductInput[],
): void {
  const seen = new Set<string>();
  const name = nameScratch();
  const utf8 = new TextEncoder();
  const now = Date.now();
  products.forEach((p, i) => {
    const problem = productProblem(p, `products[${i}]`);
    if (problem !== null) throw new InventoryError('INVALID_OPTION', `option ${problem}`);
    if (seen.has(p.productId)) {
      throw new InventoryError(
        'INVALID_OPTION',
        `option products[${i}].productId repeats ${JSON.stringify(p.productId)}`,
      );
    }
    seen.add(p.productId);
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
        price: p.price ?? 0,
      },
      encodeName(p.name ?? '', name),
    );
  });
  Atomics.store(v.i64, HDR_OFFSET >> 1, BigInt(products.length));
}
