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
import { emptyChange, idOfSlot, type RingWriter, TYPE_UPDATED } from '../memory/change-log.js';
import { counter64, HDR_OFFSET, type SharedViews } from '../memory/layout.js';
import type { NameScratch, RecordFields } from '../memory/records.js';

export class Recorder {
  private readonly c = emptyChange();

  constructor(
    private readonly v: SharedViews,
    private readonly ring: RingWriter,
  ) {}

  /** A batch starts: every offset this thread takes until `endBatch` is above `low`. */
  startBatch(): void {
    this.ring.setLow(Atomics.load(this.v.i64, counter64(HDR_OFFSET)) + 1n);
  }

  endBatch(): void {
    this.ring.clearLow();
  }

  /** `count` offsets from `first` were taken: until the commit they are this thread's. */
  taken(first: number, count: number): void {
    this.ring.setPending(first, count);
  }

  /** Points the change at the id of the product in `slot`. */
  private product(slot: number, generation: number): void {
    const c = this.c;
    idOfSlot(c, this.v, slot);
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
    this.ring.commit();
  }

  /** The committed changes are published in their slots: nothing left to repair. */
  published(): void {
    this.ring.clearPending();
  }
}
