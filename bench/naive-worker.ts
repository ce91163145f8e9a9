/**
 * The naive design's worker: one Piscina task per update. Same shared records, same
 * per-product lock, same publish as lockstock's worker; only the routing differs.
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
import {
  ANY_VERSION,
  STATUS_APPLIED,
  STATUS_INSUFFICIENT,
  STATUS_NOT_FOUND,
  STATUS_VERSION_CONFLICT,
} from '../memory/protocol.js';
import {
  lockedAvailable,
  lockedGeneration,
  lockedState,
  lockedVersion,
  publishStock,
} from '../memory/records.js';
import { writeLock, writeUnlock } from '../memory/rwlock.js';
import { simulation } from '../workers/simulate.js';

export interface NaiveTask {
  slot: number;
  generation: number;
  delta: number;
  expected: number;
}

export interface NaiveResult {
  status: number;
  available: number;
  version: number;
  lastUpdated: number;
  offset: number;
}

const settings = workerData as { buffer: SharedArrayBuffer; workUs: number; holdUs: number };
const v = attachBuffer(settings.buffer);
const simulate = simulation(settings.workUs, settings.holdUs);

export default function apply(t: NaiveTask): NaiveResult {
  const lock = slotBase(t.slot) + SLOT_LOCK;
  writeLock(v, lock, 10_000);
  try {
    simulate?.();
    if (lockedState(v, t.slot) !== STATE_LIVE || lockedGeneration(v, t.slot) !== t.generation) {
      return { status: STATUS_NOT_FOUND, available: 0, version: 0, lastUpdated: 0, offset: 0 };
    }
    const version = lockedVersion(v, t.slot);
    const available = lockedAvailable(v, t.slot);
    if (t.expected !== ANY_VERSION && t.expected !== version) {
      return { status: STATUS_VERSION_CONFLICT, available, version, lastUpdated: 0, offset: 0 };
    }
    if (available + t.delta < 0) {
      return { status: STATUS_INSUFFICIENT, available, version, lastUpdated: 0, offset: 0 };
    }
    const now = Date.now();
    const offset = Number(Atomics.add(v.i64, counter64(HDR_OFFSET), 1n)) + 1;
    publishStock(v, t.slot, available + t.delta, version + 1, now);
    return {
      status: STATUS_APPLIED,
      available: available + t.delta,
      version: version + 1,
      lastUpdated: now,
      offset,
    };
  } finally {
    writeUnlock(v, lock);
  }
}
