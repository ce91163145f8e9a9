/**
 * The initial catalog in the change feed: each product given to open took one offset
 * (1…n; a fresh catalog gave the i-th product slot i, and it took offset i + 1), and
 * its `product_created` change goes through the journal like any other, so the feed is
 * gap-free from 1 and a reader that starts at 0 sees the whole catalog arrive.
 *
 * The journal thread makes these records itself, from the slots, straight into its
 * groups. The caller's thread used to write each one into a change ring for this
 * thread to merge: at a million products that was ~0.5 s of open on the caller's
 * thread (a record read back and encoded each, and a millisecond's pause each time the
 * 1 MiB ring filled), all of it in the way of the caller's event loop. Here the work
 * runs on this thread while the caller's starts the pool, and no ring is involved.
 *
 * A record shows its slot as it is when the record is made, so open waits for every
 * one (the journal's flush) before it resolves: until then no call can change a slot.
 */
import {
  type ChangeFields,
  createdImage,
  emptyChange,
  encodeChange,
  idOfSlot,
  MAX_RECORD_BYTES,
} from '../../memory/change-log.js';
import type { SharedViews } from '../../memory/layout.js';
import { emptyRecord, nameScratch, readRecord } from '../../memory/records.js';
import { sealRecord } from '../../src/journal/files.js';
import { GROUP_BYTES, type Group } from './group.js';

export class Seed {
  private readonly change: ChangeFields = emptyChange();
  private readonly record = emptyRecord();
  private readonly name = nameScratch();

  constructor(
    private readonly pv: SharedViews,
    /** The last seed offset: the initial catalog's product count. */
    readonly last: number,
    /** Whether records get their CRC (they do when they go to disk: merge.ts). */
    private readonly seal: boolean,
  ) {
    this.change.nameBytes = this.name.bytes;
  }

  /**
   * Makes the records of offsets next, next+1, … ≤ last into `group` while they fit;
   * answers how many.
   */
  fill(group: Group, next: number): number {
    const { pv, change, record, name } = this;
    const area = group.area;
    let count = 0;
    for (let offset = next; offset <= this.last; offset++) {
      if (group.bytes + MAX_RECORD_BYTES > GROUP_BYTES) break;
      const slot = offset - 1;
      readRecord(pv, slot, record, name);
      change.offset = offset;
      idOfSlot(change, pv, slot);
      createdImage(change, record, slot, name.length);
      const at = group.bytes;
      const length = encodeChange(area, at, change);
      if (this.seal) sealRecord(group.u8, group.view, at, length);
      group.positions[group.count++] = at;
      group.bytes += length;
      count++;
    }
    return count;
  }
}
