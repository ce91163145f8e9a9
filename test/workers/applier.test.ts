import { describe, expect, it } from 'vitest';
import { createBuffer, HDR_QUEUED, STATE_LIVE } from '../../memory/layout.js';
import {
  ANY_VERSION,
  type BatchRef,
  batchBytes,
  batchColumns,
  KIND_SET,
  KIND_UPDATE,
  META_CLAIMED,
  META_STARTED,
  SET_NAME,
  SET_PRICE,
  STATUS_APPLIED,
} from '../../memory/protocol.js';
import { emptyRecord, publishRecord, readRecord } from '../../memory/records.js';
import { Applier } from '../../workers/applier.js';

/**
 * The applier on this thread, uncontended (its locks never wait, so it never
 * blocks): what a worker does with a task, without the pool around it.
 */
function setup(rowsPerBatch: number[]) {
  const v = createBuffer(4);
  for (let slot = 0; slot < 4; slot++) {
    publishRecord(v, slot, {
      state: STATE_LIVE,
      generation: 1,
      version: 1,
      nameRev: 1,
      available: 10,
      lastUpdated: 0,
      price: 0,
    });
  }
  const batches: BatchRef[] = rowsPerBatch.map((rows, i) => {
    const buffer = new SharedArrayBuffer(batchBytes(8));
    const c = batchColumns(buffer, 8);
    for (let r = 0; r < rows; r++) {
      c.kind[r] = KIND_UPDATE;
      c.slot[r] = r % 4;
      c.generation[r] = 1;
      c.amount[r] = -1;
      c.expected[r] = ANY_VERSION;
    }
    return { id: i + 1, buffer, capacity: 8, rows, strings: [], keys: [] };
  });
  const total = rowsPerBatch.reduce((a, b) => a + b, 0);
  Atomics.store(v.i32, HDR_QUEUED, total);
  const applier = new Applier(v, {
    lockMode: 'fine',
    lockTimeoutMs: 100,
    simulate: null,
    debug: null,
    recorder: null,
  });
  return { v, batches, applier };
}

describe('applier', () => {
  it('applies every batch of a task in order and takes its rows off the queue once', () => {
    const { v, batches, applier } = setup([3, 2]);
    // Nothing but stock rows: no names to report.
    expect(applier.applyTask({ type: 'batch', batches })).toEqual({ last: true, names: null });
    expect(Atomics.load(v.i32, HDR_QUEUED)).toBe(0);
    for (const b of batches) {
      const c = batchColumns(b.buffer, b.capacity);
      expect(c.meta[META_STARTED]).toBe(1);
      expect([...c.status.subarray(0, b.rows)]).toEqual(new Array(b.rows).fill(STATUS_APPLIED));
    }
  });

  it('marks every batch of a failing task as started, so none is counted off twice', () => {
    const { v, batches, applier } = setup([2, 2]);
    // A row the worker cannot understand makes the first batch throw.
    batchColumns((batches[0] as BatchRef).buffer, 8).kind[1] = 99;
    expect(() => applier.applyTask({ type: 'batch', batches })).toThrow(/unknown row kind 99/);
    expect(Atomics.load(v.i32, HDR_QUEUED)).toBe(0);
    for (const b of batches) expect(batchColumns(b.buffer, b.capacity).meta[META_STARTED]).toBe(1);
    // The lock of the row that threw (slot 1) was released: a task on the same buffer
    // takes it at once. Held, the lock would send this thread down the contended path,
    // which refuses to block the main thread and throws.
    const c = batchColumns((batches[0] as BatchRef).buffer, 8);
    c.kind[1] = KIND_UPDATE;
    c.status.fill(0);
    // Reused, as the router reuses a buffer: its words (started, units claimed) cleared.
    c.meta.fill(0);
    const retry: BatchRef = { ...(batches[0] as BatchRef), rows: 2 };
    Atomics.add(v.i32, HDR_QUEUED, 2);
    applier.applyTask({ type: 'batch', batches: [retry] });
    expect(c.slot[1]).toBe(1);
    expect(c.status[1]).toBe(STATUS_APPLIED);
  });

  it('gives each unit of a dispatch to one task only, and says which task applied the last', () => {
    const { v, batches, applier } = setup([4, 4]);
    // Two lanes across both batches: slots 0 and 2 in unit 0, slots 1 and 3 in unit 1.
    for (const b of batches) {
      const c = batchColumns(b.buffer, b.capacity);
      for (let r = 0; r < b.rows; r++) c.unit[r] = (c.slot[r] as number) % 2;
    }
    const units = [0, 0, 2, 1, 0, 2];
    const task = { type: 'batch' as const, batches, units };
    // The dispatch's tasks run one after another here: the first claims both units,
    // the others find none left. Each row is applied once, and the queue counted once.
    expect(applier.applyTask(task)).toEqual({ last: true, names: null });
    expect(applier.applyTask(task)).toEqual({ last: false, names: null });
    expect(applier.applyTask(task)).toEqual({ last: false, names: null });
    expect(Atomics.load(v.i32, HDR_QUEUED)).toBe(0);
    for (let slot = 0; slot < 4; slot++) {
      // Two rows per slot (one per batch): version 1 → 3, 10 → 8.
      expect(readRecord(v, slot, emptyRecord())).toMatchObject({ version: 3, available: 8 });
    }
    const meta = batchColumns((batches[0] as BatchRef).buffer, 8).meta;
    expect(Atomics.load(meta, META_CLAIMED)).toBe(5);
  });

  it('applies only the rows of the unit it claimed', () => {
    const { batches, applier } = setup([4]);
    const c = batchColumns((batches[0] as BatchRef).buffer, 8);
    for (let r = 0; r < 4; r++) c.unit[r] = r === 2 ? 7 : 3;
    // One unit: the rows of lane 7 only (row 2). The others stay pending.
    applier.applyTask({ type: 'batch', batches, units: [7, 0, 1] });
    expect([...c.status.subarray(0, 4)]).toEqual([0, 0, STATUS_APPLIED, 0]);
  });

  it('reports the name a price-only set kept, which only the worker saw', () => {
    const { v, applier } = setup([]);
    const buffer = new SharedArrayBuffer(batchBytes(4));
    const c = batchColumns(buffer, 4);
    const row = (r: number, aux: number, str: number) => {
      c.kind[r] = KIND_SET;
      c.slot[r] = 2;
      c.generation[r] = 1;
      c.expected[r] = ANY_VERSION;
      c.aux[r] = aux;
      c.str[r] = str;
      c.price[r] = 5;
    };
    row(0, SET_NAME, 0); // renamed to 'Renamed'
    row(1, SET_PRICE, 1); // price only: keeps 'Renamed'
    row(2, SET_NAME, 2); // renamed again in the same batch
    Atomics.add(v.i32, HDR_QUEUED, 3);
    const names = applier.applyTask({
      type: 'batch',
      batches: [
        { id: 9, buffer, capacity: 4, rows: 3, strings: ['Renamed', '', 'Later'], keys: [] },
      ],
    });
    expect(names).toEqual({ last: true, names: [[9, 1, 'Renamed']] });
    expect([...c.status.subarray(0, 3)]).toEqual([STATUS_APPLIED, STATUS_APPLIED, STATUS_APPLIED]);
  });
});
