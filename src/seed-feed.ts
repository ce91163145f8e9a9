/**
 * The initial catalog in the change feed: each product given to open took one offset
 * (1…n), and its `product_created` change goes through the journal like any other, so
 * the feed is gap-free from 1 and a reader that starts at 0 sees the whole catalog
 * arrive. The caller's thread is the producer here, on a ring no pool thread owns
 * yet, in slices that let the event loop turn while the journal thread drains them.
 */
import {
  type ChangeViews,
  createdImage,
  emptyChange,
  R_OWNER,
  RingWriter,
  ringControl,
} from '../memory/change-log.js';
import { type SharedViews, SLOT_ID, SLOT_ID_LEN, slotBase, WORD_BYTES } from '../memory/layout.js';
import { emptyRecord, nameScratch, readRecord } from '../memory/records.js';

/** The owner a ring has while the caller's thread writes to it (no thread has this id). */
const SEEDER = -1;

const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

/**
 * Records the creation of the first `count` products: a fresh catalog gave the i-th
 * product slot i, and it took offset i + 1.
 */
export async function seedFeed(v: SharedViews, cv: ChangeViews, count: number): Promise<void> {
  if (count === 0) return;
  const control = ringControl(0);
  if (Atomics.compareExchange(cv.i32, control + R_OWNER, 0, SEEDER) !== 0) {
    throw new Error('the change log is in use before the seed was written');
  }
  const ring = new RingWriter(cv, 0, 0);
  const c = emptyChange();
  const record = emptyRecord();
  const name = nameScratch();
  c.idBytes = v.u8;
  c.nameBytes = name.bytes;
  try {
    for (let i = 0; i < count; ) {
      const slot = i;
      readRecord(v, slot, record, name);
      const base = slotBase(slot);
      c.offset = i + 1;
      c.idStart = (base + SLOT_ID) * WORD_BYTES;
      c.idLength = v.i32[base + SLOT_ID_LEN] as number;
      createdImage(c, record, slot, name.length);
      if (!ring.fits(c)) {
        ring.commit();
        await pause();
        continue;
      }
      ring.write(c);
      i++;
    }
    ring.commit();
  } finally {
    Atomics.store(cv.i32, control + R_OWNER, 0);
  }
}
