/**
 * Admin rows: create, set (name and/or price) and delete, each on a slot the caller
 * has locked. They decide with memory/rules.ts, publish the whole record, and write
 * the row's result.
 */

import { TYPE_CREATED, TYPE_DELETED, TYPE_MODIFIED } from '../memory/change-log.js';
import {
  counter64,
  float64,
  ID_MAX_BYTES,
  LOCK_ACQUIRED,
  LOCK_CONTENDED,
  LOCK_HOLD_MAX_US,
  LOCK_HOLD_US,
  LOCK_WAIT_US,
  SLOT_LOCK,
  STATE_FREE,
  STATE_LIVE,
  slotBase,
} from '../memory/layout.js';
import {
  type BatchColumns,
  SET_AVAILABLE,
  SET_NAME,
  SET_PRICE,
  STATUS_APPLIED,
} from '../memory/protocol.js';
import {
  decodeName,
  encodeName,
  lockedAvailable,
  lockedGeneration,
  lockedState,
  lockedVersion,
  type NameScratch,
  publishRecord,
  type RecordFields,
  readRecord,
  writeId,
} from '../memory/records.js';
import { decideAdmin } from '../memory/rules.js';
import type { Writer } from './writer.js';

const utf8 = new TextEncoder();

/** The row's result columns but STATUS: written before the commit (recorder.ts). */
function result(c: BatchColumns, r: number, record: RecordFields, offset: number): void {
  c.resAvailable[r] = record.available;
  c.resVersion[r] = record.version;
  c.resLastUpdated[r] = record.lastUpdated;
  c.resOffset[r] = offset;
}

/** Commits the change's record, publishes it in `slot`, and marks the row applied. */
function commitAndPublish(
  w: Writer,
  c: BatchColumns,
  r: number,
  slot: number,
  record: RecordFields,
  name: NameScratch | undefined,
): void {
  w.commit();
  w.crash?.publishing(slot);
  publishRecord(w.v, slot, record, name);
  w.published();
  c.status[r] = STATUS_APPLIED;
}

/** The admin rule on the locked `slot`; a refusal is written into the row. */
function allowed(w: Writer, c: BatchColumns, r: number, slot: number): boolean {
  const live =
    lockedState(w.v, slot) === STATE_LIVE && lockedGeneration(w.v, slot) === c.generation[r];
  const version = lockedVersion(w.v, slot);
  const status = decideAdmin(live, version, c.expected[r] as number);
  if (status === STATUS_APPLIED) return true;
  c.resVersion[r] = live ? version : 0;
  c.resAvailable[r] = live ? lockedAvailable(w.v, slot) : 0;
  c.status[r] = status;
  return false;
}

export function create(
  w: Writer,
  c: BatchColumns,
  r: number,
  slot: number,
  strings: readonly string[],
): void {
  const v = w.v;
  if (lockedState(v, slot) !== STATE_FREE) {
    throw new Error(`slot ${slot} is not free: the caller's catalog and the buffer disagree`);
  }
  const str = c.str[r] as number;
  const id = utf8.encode(strings[str] ?? '');
  if (id.length > ID_MAX_BYTES) throw new Error(`product id longer than ${ID_MAX_BYTES} bytes`);
  writeId(v, slot, id);
  // The slot's lock counters start again with its new product.
  const lock = slotBase(slot) + SLOT_LOCK;
  Atomics.store(v.i32, lock + LOCK_ACQUIRED, 1);
  Atomics.store(v.i32, lock + LOCK_CONTENDED, 0);
  Atomics.store(v.i64, counter64(lock + LOCK_WAIT_US), 0n);
  v.f64[float64(lock + LOCK_HOLD_US)] = 0;
  v.f64[float64(lock + LOCK_HOLD_MAX_US)] = 0;
  const record = w.record;
  record.state = STATE_LIVE;
  record.generation = c.generation[r] as number;
  record.version = 1;
  record.nameRev = 1;
  record.available = c.amount[r] as number;
  record.lastUpdated = Date.now();
  record.price = c.price[r] as number;
  const offset = w.takeOffsets(1);
  const name = encodeName(strings[str + 1] ?? '', w.name);
  w.recorder?.image(TYPE_CREATED, slot, offset, record, name, null);
  result(c, r, record, offset);
  commitAndPublish(w, c, r, slot, record, name);
}

/**
 * A set. When it leaves the name as it was, that name is pushed on `names`: the
 * caller's thread cannot know it (a later rename may have applied by the time it looks).
 */
export function set(
  w: Writer,
  c: BatchColumns,
  r: number,
  slot: number,
  strings: readonly string[],
  names: string[],
): void {
  if (w.simulate !== null) w.simulate();
  if (!allowed(w, c, r, slot)) return;
  const flags = c.aux[r] as number;
  const renamed = (flags & SET_NAME) !== 0;
  // Start from the committed record (under the lock, both copies hold it).
  const record = readRecord(w.v, slot, w.record, renamed ? undefined : w.name);
  if (!renamed) names.push(decodeName(w.name));
  record.version += 1;
  if (renamed) record.nameRev += 1;
  record.lastUpdated = w.now(slot);
  if ((flags & SET_PRICE) !== 0) record.price = c.price[r] as number;
  let delta: number | null = null;
  if ((flags & SET_AVAILABLE) !== 0) {
    delta = (c.amount[r] as number) - record.available;
    record.available = c.amount[r] as number;
  }
  // The record carries the whole name either way: the one set, or the one kept.
  const name = renamed ? encodeName(strings[c.str[r] as number] ?? '', w.name) : w.name;
  const offset = w.takeOffsets(1);
  w.recorder?.image(TYPE_MODIFIED, slot, offset, record, name, delta);
  c.price[r] = record.price;
  result(c, r, record, offset);
  commitAndPublish(w, c, r, slot, record, renamed ? name : undefined);
}

export function remove(w: Writer, c: BatchColumns, r: number, slot: number): void {
  if (!allowed(w, c, r, slot)) return;
  const record = readRecord(w.v, slot, w.record);
  record.state = STATE_FREE;
  record.lastUpdated = w.now(slot);
  const offset = w.takeOffsets(1);
  w.recorder?.image(TYPE_DELETED, slot, offset, record, null, null);
  result(c, r, record, offset);
  commitAndPublish(w, c, r, slot, record, undefined);
}
