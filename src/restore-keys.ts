/**
 * The idempotency keys a restart brings back: every keyed change the journal holds
 * that is younger than the keys' TTL, remembered with the outcome its call was
 * answered with, so that a replay after the restart answers the same and applies
 * nothing. (A key whose first outcome changed nothing — a conflict, too little
 * stock — has no change in the journal and is decided afresh after a restart.)
 */
import type { DecodedChange } from '../memory/change-log.js';
import { isoTime } from './clock.js';
import { type IdempotencyCache, orderPayload, updatePayload } from './idempotency.js';
import type { UpdateCopy } from './requests.js';
import type { Applied, OrderApplied } from './types.js';

function item(c: DecodedChange): Omit<Applied, 'status'> {
  return {
    productId: c.productId,
    available: c.available,
    version: c.version,
    lastUpdated: isoTime(c.lastUpdated),
    offset: c.offset,
  };
}

function copy(c: DecodedChange): UpdateCopy {
  return { productId: c.productId, delta: c.delta, expected: c.expected, key: undefined };
}

/**
 * Remembers the keys of `changes` (keyed changes in offset order; an order's items
 * follow its first, which carries the key and the item count). Returns how many it
 * remembered (not those expired since, nor a key's later changes).
 */
export function restoreKeys(idem: IdempotencyCache, changes: readonly DecodedChange[]): number {
  let restored = 0;
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i] as DecodedChange;
    if (c.key === '') continue;
    if (c.order === 0) {
      const outcome: Applied = { status: 'applied', ...item(c) };
      if (idem.restore(c.key, updatePayload(copy(c)), outcome, c.lastUpdated)) restored++;
      continue;
    }
    const items = changes.slice(i, i + c.items);
    if (items.length !== c.items || items.some((x) => x.order !== c.order)) continue;
    const outcome: OrderApplied = { status: 'applied', items: items.map(item) };
    if (idem.restore(c.key, orderPayload(items.map(copy)), outcome, c.lastUpdated)) restored++;
    i += c.items - 1;
  }
  return restored;
}
