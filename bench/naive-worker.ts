/**
 * The naive design's worker: one Piscina task per update (or per order). Same shared
 * records, same per-product lock, same rule (memory/rules.ts), same publish as
 * lockstock's worker; only the routing differs.
 */
import { workerData } from 'piscina';
import {
  attachBuffer,
  counter64,
  HDR_OFFSET,
  SLOT_LOCK,
  STATE_LIVE,
  slotBase,
} from '../memory/layout.js';
import { STATUS_APPLIED, STATUS_LOCK_TIMEOUT } from '../memory/protocol.js';
import {
  lockedAvailable,
  lockedGeneration,
  lockedLastUpdated,
  lockedState,
  lockedVersion,
  publishStock,
} from '../memory/records.js';
import { decideStock } from '../memory/rules.js';
import { LockTimeoutError, writeLock, writeUnlock } from '../memory/rwlock.js';
import { simulation } from '../workers/simulate.js';
import {
  type NaiveOrderResult,
  type NaiveOrderTask,
  type NaiveResult,
  type NaiveTask,
  type NaiveWorkerData,
  NO_SLOT,
} from './naive-protocol.js';

const settings = workerData as NaiveWorkerData;
const v = attachBuffer(settings.buffer);
const simulate = simulation(settings.workUs, settings.holdUs);

function live(slot: number, generation: number): boolean {
  return (
    slot !== NO_SLOT &&
    lockedState(v, slot) === STATE_LIVE &&
    lockedGeneration(v, slot) === generation
  );
}

/** Takes `count` consecutive change offsets; returns the first. */
function takeOffsets(count: number): number {
  return Number(Atomics.add(v.i64, counter64(HDR_OFFSET), BigInt(count))) + 1;
}

/** Never earlier than the product's last change, as lockstock's worker stamps it. */
function stamp(slot: number, now: number): number {
  return Math.max(now, lockedLastUpdated(v, slot));
}

function lockOf(slot: number): number {
  return slotBase(slot) + SLOT_LOCK;
}

export default function apply(t: NaiveTask | NaiveOrderTask): NaiveResult | NaiveOrderResult {
  return t.kind === 'update' ? update(t) : order(t);
}

/**
 * Takes `slot`'s write lock; false if it was not taken within the bound (nothing is
 * applied then, and the caller's thread fails the call with LOCK_TIMEOUT).
 */
function lock(slot: number): boolean {
  try {
    writeLock(v, lockOf(slot), settings.lockTimeoutMs);
    return true;
  } catch (error) {
    if (error instanceof LockTimeoutError) return false;
    throw error;
  }
}

function update(t: NaiveTask): NaiveResult {
  if (!lock(t.slot)) {
    return { status: STATUS_LOCK_TIMEOUT, available: 0, version: 0, lastUpdated: 0, offset: 0 };
  }
  try {
    simulate?.();
    const found = live(t.slot, t.generation);
    const version = found ? lockedVersion(v, t.slot) : 0;
    const available = found ? lockedAvailable(v, t.slot) : 0;
    const status = decideStock(found, version, available, t.delta, t.expected);
    if (status !== STATUS_APPLIED) return { status, available, version, lastUpdated: 0, offset: 0 };
    const now = stamp(t.slot, Date.now());
    const offset = takeOffsets(1);
    publishStock(v, t.slot, available + t.delta, version + 1, now);
    return {
      status,
      available: available + t.delta,
      version: version + 1,
      lastUpdated: now,
      offset,
    };
  } finally {
    writeUnlock(v, lockOf(t.slot));
  }
}

/** All items or none. Locks are taken in ascending slot order, as workers/applier.ts does. */
function order(t: NaiveOrderTask): NaiveOrderResult {
  // Ascending slot order: two orders can never wait on each other in a cycle. The
  // slots are distinct (requests.ts refuses an order naming a product twice).
  const slots = t.slots.filter((s) => s !== NO_SLOT).sort((a, b) => a - b);
  let locked = 0;
  try {
    for (; locked < slots.length; locked++) {
      if (!lock(slots[locked] as number)) {
        const none: number[] = [];
        return {
          status: STATUS_LOCK_TIMEOUT,
          failedItem: -1,
          available: none,
          version: none,
          lastUpdated: none,
          offset: 0,
        };
      }
    }
    return orderLocked(t);
  } finally {
    for (let i = locked - 1; i >= 0; i--) writeUnlock(v, lockOf(slots[i] as number));
  }
}

function orderLocked(t: NaiveOrderTask): NaiveOrderResult {
  const count = t.slots.length;
  const available = new Array<number>(count);
  const version = new Array<number>(count);
  // Item order, not lock order: the first item that fails is the one named.
  for (let i = 0; i < count; i++) {
    const slot = t.slots[i] as number;
    simulate?.();
    const found = live(slot, t.generations[i] as number);
    const before = found ? lockedVersion(v, slot) : 0;
    const stock = found ? lockedAvailable(v, slot) : 0;
    const delta = t.deltas[i] as number;
    const status = decideStock(found, before, stock, delta, t.expected[i] as number);
    if (status !== STATUS_APPLIED) {
      return {
        status,
        failedItem: i,
        available: [stock],
        version: [before],
        lastUpdated: [],
        offset: 0,
      };
    }
    available[i] = stock + delta;
    version[i] = before + 1;
  }
  // The order's changes take consecutive offsets, as in lockstock.
  const offset = takeOffsets(count);
  const now = Date.now();
  const lastUpdated = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const slot = t.slots[i] as number;
    lastUpdated[i] = stamp(slot, now);
    publishStock(v, slot, available[i] as number, version[i] as number, lastUpdated[i] as number);
  }
  return { status: STATUS_APPLIED, failedItem: -1, available, version, lastUpdated, offset };
}
