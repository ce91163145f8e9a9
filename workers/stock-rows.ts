/**
 * Stock rows: an update, and an order's items all or none. The caller holds nothing;
 * these take the locks (through the Writer's lock mode), decide with memory/rules.ts
 * under them, publish, and write each row's result.
 */
import { STATE_LIVE } from '../memory/layout.js';
import {
  type BatchColumns,
  ORDER_PROBE,
  STATUS_APPLIED,
  STATUS_LOCK_TIMEOUT,
  STATUS_NOT_FOUND,
  STATUS_SKIPPED,
} from '../memory/protocol.js';
import {
  lockedAvailable,
  lockedGeneration,
  lockedState,
  lockedVersion,
  publishStock,
} from '../memory/records.js';
import { decideStock } from '../memory/rules.js';
import { LockTimeoutError } from '../memory/rwlock.js';
import type { Writer } from './writer.js';

/**
 * Decides row `r` on the locked `slot`. Anything but applied is written into the row
 * with the record's current figures; returns the status.
 */
function decide(w: Writer, c: BatchColumns, r: number, slot: number): number {
  const v = w.v;
  const live = lockedState(v, slot) === STATE_LIVE && lockedGeneration(v, slot) === c.generation[r];
  const version = lockedVersion(v, slot);
  const available = lockedAvailable(v, slot);
  const status = decideStock(
    live,
    version,
    available,
    c.amount[r] as number,
    c.expected[r] as number,
  );
  if (status !== STATUS_APPLIED) {
    c.resVersion[r] = live ? version : 0;
    c.resAvailable[r] = live ? available : 0;
    c.status[r] = status;
  }
  return status;
}

/**
 * Row `r`'s change on the locked `slot` at `offset`: its result columns (all but
 * STATUS) and its record in the change log. Published by `publish`, after the commit.
 */
function prepare(
  w: Writer,
  c: BatchColumns,
  r: number,
  slot: number,
  offset: number,
  order: number,
  items: number,
  key: string | null,
): void {
  const available = lockedAvailable(w.v, slot) + (c.amount[r] as number);
  const version = lockedVersion(w.v, slot) + 1;
  const now = w.now(slot);
  c.resAvailable[r] = available;
  c.resVersion[r] = version;
  c.resLastUpdated[r] = now;
  c.resOffset[r] = offset;
  w.recorder?.stock(
    slot,
    c.generation[r] as number,
    offset,
    c.amount[r] as number,
    available,
    version,
    now,
    order,
    items,
    key,
    c.expected[r] as number,
  );
}

/** Publishes row `r`'s prepared change on the locked `slot`; the row is applied. */
function publish(w: Writer, c: BatchColumns, r: number, slot: number): void {
  w.crash?.publishing(slot);
  publishStock(
    w.v,
    slot,
    c.resAvailable[r] as number,
    c.resVersion[r] as number,
    c.resLastUpdated[r] as number,
  );
  c.status[r] = STATUS_APPLIED;
}

/** The row's idempotency key (column KEY), or null. */
function keyOf(c: BatchColumns, r: number, strings: readonly string[]): string | null {
  const k = c.key[r] as number;
  return k < 0 ? null : (strings[k] ?? null);
}

/** An update, on `slot` locked by the caller. */
export function update(
  w: Writer,
  c: BatchColumns,
  r: number,
  slot: number,
  strings: readonly string[],
): void {
  if (w.simulate !== null) w.simulate();
  if (decide(w, c, r, slot) !== STATUS_APPLIED) return;
  prepare(w, c, r, slot, w.takeOffsets(1), 0, 0, keyOf(c, r, strings));
  w.commit();
  publish(w, c, r, slot);
  w.published();
}

/** An order's slots, sorted before locking; grows as orders do. */
let sortedSlots = new Int32Array(64);

/** All-or-nothing across the order's items. Returns rows consumed (header + items). */
export function order(w: Writer, c: BatchColumns, h: number, strings: readonly string[]): number {
  const count = c.aux[h] as number;
  sortItemsBySlot(c, h, count);
  try {
    w.lockAll(sortedSlots, count);
  } catch (error) {
    if (!(error instanceof LockTimeoutError)) throw error;
    for (let i = 0; i <= count; i++) c.status[h + i] = STATUS_LOCK_TIMEOUT;
    c.resAux[h] = -1;
    return count + 1;
  }
  try {
    orderLocked(w, c, h, count, strings);
  } finally {
    w.unlockAll(sortedSlots, count);
  }
  return count + 1;
}

function orderLocked(
  w: Writer,
  c: BatchColumns,
  h: number,
  count: number,
  strings: readonly string[],
): void {
  for (let i = 1; i <= count; i++) {
    const r = h + i;
    if (w.simulate !== null) w.simulate();
    if (decide(w, c, r, c.slot[r] as number) === STATUS_APPLIED) continue;
    // Nothing is applied: name the first item that failed, and why.
    for (let j = 1; j <= count; j++) if (j !== i) c.status[h + j] = STATUS_SKIPPED;
    c.resAux[h] = i - 1;
    c.status[h] = c.status[r] as number;
    return;
  }
  if (c.amount[h] === ORDER_PROBE) {
    // Every item before the unknown product passed: that product is what fails.
    for (let j = 1; j <= count; j++) c.status[h + j] = STATUS_SKIPPED;
    c.resAux[h] = count;
    c.status[h] = STATUS_NOT_FOUND;
    return;
  }
  // The order's changes take consecutive offsets: they read as one unit in the feed,
  // each naming the first; the first also carries the key and the item count. One
  // commit makes them all durable-to-be at once, or none.
  const first = w.takeOffsets(count);
  const key = keyOf(c, h, strings);
  for (let i = 1; i <= count; i++) {
    const r = h + i;
    prepare(
      w,
      c,
      r,
      c.slot[r] as number,
      first + i - 1,
      first,
      i === 1 ? count : 0,
      i === 1 ? key : null,
    );
  }
  w.commit();
  for (let i = 1; i <= count; i++) publish(w, c, h + i, c.slot[h + i] as number);
  w.published();
  c.resAux[h] = -1;
  c.status[h] = STATUS_APPLIED;
}

/** Fills `sortedSlots` with the order's slots in ascending order (the lock order). */
function sortItemsBySlot(c: BatchColumns, h: number, count: number): void {
  if (sortedSlots.length < count) sortedSlots = new Int32Array(count * 2);
  // Insertion sort: orders are small, and this allocates nothing.
  for (let i = 0; i < count; i++) {
    const slot = c.slot[h + 1 + i] as number;
    let j = i;
    while (j > 0 && (sortedSlots[j - 1] as number) > slot) {
      sortedSlots[j] = sortedSlots[j - 1] as number;
      j--;
    }
    sortedSlots[j] = slot;
  }
}
