/**
 * The physical limit of one thread: a loop that locks a slot, changes it and unlocks,
 * with no routing, no promises, no validation.
 *
 * - `rawLockedAdd`: write-lock, add to a plain field, unlock: the lock alone.
 * - `rawLockedUpdate`: write-lock, check, publish the record through the latch (the
 *   same record work a worker does per update), unlock.
 */
import {
  createBuffer,
  type SharedViews,
  SLOT_LOCK,
  STATE_LIVE,
  slotBase,
} from '../memory/layout.js';
import { lockedAvailable, lockedVersion, publishRecord, publishStock } from '../memory/records.js';
import { writeLock, writeUnlock } from '../memory/rwlock.js';

export function rawStore(products: number): SharedViews {
  const v = createBuffer(products);
  for (let slot = 0; slot < products; slot++) {
    publishRecord(v, slot, {
      state: STATE_LIVE,
      generation: 1,
      version: 1,
      nameRev: 1,
      available: 1e15,
      lastUpdated: Date.now(),
      price: 1,
    });
  }
  return v;
}

export function rawLockedAdd(v: SharedViews, ops: number, field: Float64Array): void {
  const products = v.capacity;
  for (let i = 0; i < ops; i++) {
    const slot = i % products;
    const lock = slotBase(slot) + SLOT_LOCK;
    writeLock(v, lock, 1_000);
    field[slot] = (field[slot] as number) - 1;
    writeUnlock(v, lock);
  }
}

export function rawLockedUpdate(v: SharedViews, ops: number): void {
  const products = v.capacity;
  const now = Date.now();
  for (let i = 0; i < ops; i++) {
    const slot = i % products;
    const lock = slotBase(slot) + SLOT_LOCK;
    writeLock(v, lock, 1_000);
    const available = lockedAvailable(v, slot) - 1;
    if (available >= 0) publishStock(v, slot, available, lockedVersion(v, slot) + 1, now);
    writeUnlock(v, lock);
  }
}
