/**
 * A consistent cut of many products, for `list`: copied under the global lock in S
 * mode, which waits for the writers in flight (IX holders) to leave and holds new ones
 * back until the copy is done, so no order or other change shows half-applied.
 */
import { globalLock, globalUnlock } from '../memory/global-lock.js';
import {
  counter64,
  HDR_GLOBAL_LOCK,
  HDR_OFFSET,
  type SharedViews,
  STATE_LIVE,
} from '../memory/layout.js';
import type { ListResult, ListTask } from '../memory/protocol.js';
import { decodeName, emptyRecord, nameScratch, readRecord } from '../memory/records.js';

const record = emptyRecord();
const name = nameScratch();

export function listCut(v: SharedViews, timeoutMs: number, task: ListTask): ListResult {
  const n = task.slots.length;
  const result: ListResult = {
    live: new Uint8Array(n),
    version: new Float64Array(n),
    available: new Float64Array(n),
    lastUpdated: new Float64Array(n),
    price: new Float64Array(n),
    names: new Array<string>(n).fill(''),
    offset: 0,
  };
  globalLock(v, HDR_GLOBAL_LOCK, 'S', timeoutMs);
  try {
    // Under S no writer is inside a row: every offset taken so far is published, and
    // no other will be until the cut is done. The cut is the state as of this offset.
    result.offset = Number(Atomics.load(v.i64, counter64(HDR_OFFSET)));
    for (let i = 0; i < n; i++) {
      const rec = readRecord(v, task.slots[i] as number, record, name);
      if (rec.state !== STATE_LIVE || rec.generation !== task.generations[i]) continue;
      result.live[i] = 1;
      result.version[i] = rec.version;
      result.available[i] = rec.available;
      result.lastUpdated[i] = rec.lastUpdated;
      result.price[i] = rec.price;
      result.names[i] = decodeName(name);
    }
  } finally {
    globalUnlock(v, HDR_GLOBAL_LOCK, 'S');
  }
  return result;
}
