/**
 * What a pool thread tells the journal: each change it commits, as a record in its
 * own ring (memory/change-log.ts), with the after-image of the product.
 *
 * The order inside a critical section is the commit protocol:
 *
 *   decide → take offsets (`taken`) → write the records → `commit` (one store makes
 *   every record of the row or order visible to the journal thread) → publish the
 *   record in the slot → write the row's result → unlock
 *
 * The commit comes before the publish so that a thread that dies between the two
 * leaves the change in the journal (the caller's thread republishes it from there,
 * roll forward), and a thread that dies before the commit leaves nothing anywhere
 * but the offsets it took, which become `aborted` changes.
 */
import { type ChangeViews, emptyChange, RingWriter, TYPE_UPDATED } from '../memory/change-log.js';
import {
  counter64,
  HDR_OFFSET,
  type SharedViews,
  SLOT_ID,
  SLOT_ID_LEN,
  slotBase,
  WORD_BYTES,
} from '../memory/layout.js';
import type { NameScratch, RecordFields } from '../memory/records.js';

export class Recorder {
  private readonly c = emptyChange();

  private constructor(
    private readonly v: SharedViews,
    private readonly ring: RingWriter,
    /** The owning thread's id (the Owner of its locks, lock-mode.ts). */
    readonly threadId: number,
    /**
     * Off (in memory with no feed): nothing is written, and a thread that dies mid-row
     * leaves only its latch to repair (its change rolls back; nothing recorded it).
     */
    private readonly recording: boolean,
  ) {}

  /** Claims a ring for this thread; throws when none is free. */
  static claim(
    v: SharedViews,
    cv: ChangeViews,
    threadId: number,
    timeoutMs: number,
    recording = true,
  ): Recorder {
    const ring = RingWriter.claim(cv, threadId, timeoutMs);
    if (ring === null) throw new Error(`no free change ring for thread ${threadId}`);
    return new Recorder(v, ring, threadId, recording);
  }

  /** A batch starts: every offset this thread takes until `endBatch` is above `low`. */
  startBatch(): void {
    if (!this.recording) return;
    this.ring.setLow(Atomics.load(this.v.i64, counter64(HDR_OFFSET)) + 1n);
  }

  endBatch(): void {
    if (!this.recording) return;
    this.ring.clearLow();
  }

  /** `count` offsets from `first` were taken: until the commit they are this thread's. */
  taken(first: number, count: number): void {
    if (!this.recording) return;
    this.ring.setPending(first, count);
  }

  /** Points the change at the id of the product in `slot`. */
  private product(slot: number, generation: number): void {
    const c = this.c;
    const base = slotBase(slot);
    c.idBytes = this.v.u8;
    c.idStart = (base + SLOT_ID) * WORD_BYTES;
    c.idLength = this.v.i32[base + SLOT_ID_LEN] as number;
    c.slot = slot;
    c.generation = generation;
  }

  /** An update or an order item: a stock change, no name or price. */
  stock(
    slot: number,
    generation: number,
    offset: number,
    delta: number,
    available: number,
    version: number,
    lastUpdated: number,
    order: number,
    items: number,
    key: string | null,
    expected: number,
  ): void {
    if (!this.recording) return;
    const c = this.c;
    this.product(slot, generation);
    c.type = TYPE_UPDATED;
    c.offset = offset;
    c.delta = delta;
    c.hasDelta = true;
    c.available = available;
    c.version = version;
    c.lastUpdated = lastUpdated;
    c.hasPrice = false;
    c.nameLength = -1;
    c.order = order;
    c.items = items;
    c.key = key;
    c.expected = expected;
    this.ring.write(c);
  }

  /**
   * A create, set or delete: the whole after-image. `name` when the record carries it;
   * `delta` when the stock changed (a stock take), else null.
   */
  image(
    type: number,
    slot: number,
    offset: number,
    r: RecordFields,
    name: NameScratch | null,
    delta: number | null,
  ): void {
    if (!this.recording) return;
    const c = this.c;
    this.product(slot, r.generation);
    c.type = type;
    c.offset = offset;
    c.delta = delta ?? 0;
    c.hasDelta = delta !== null;
    c.available = r.available;
    c.version = r.version;
    c.lastUpdated = r.lastUpdated;
    c.price = r.price;
    c.hasPrice = name !== null;
    if (name === null) c.nameLength = -1;
    else {
      c.nameBytes = name.bytes;
      c.nameLength = name.length;
    }
    c.order = 0;
    c.items = 0;
    c.key = null;
    c.expected = -1;
    this.ring.write(c);
  }

  /** Publishes the records written since the last commit to the journal thread. */
  commit(): void {
    if (this.recording) this.ring.commit();
  }

  /** The committed changes are published in their slots: nothing left to repair. */
  published(): void {
    if (this.recording) this.ring.clearPending();
  }

  /** The global lock mode this thread holds (change-log.ts GLOBAL_*), for repairs. */
  holdsGlobal(mode: number): void {
    this.ring.holdsGlobal(mode);
  }
}
