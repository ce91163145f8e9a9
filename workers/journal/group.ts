/**
 * The group: the records the journal thread gathers for one write and one fdatasync
 * (group commit). The merger fills it (merge.ts), the segment log writes it
 * (segments.ts) and the feed window keeps a copy of it (feed-window.ts).
 */
import { C_HEADER_BYTES, changeArea } from '../../memory/change-log.js';

/** A group stops growing here (one write, one fsync). */
export const GROUP_BYTES = 4 * 1024 * 1024;

/** Records being gathered for one write: bytes, and each record's start. */
export class Group {
  /** The group's bytes as change views, for encoding records in place (seed.ts). */
  readonly area = changeArea(GROUP_BYTES);
  readonly u8 = this.area.u8;
  readonly view = new DataView(this.area.buffer);
  readonly positions = new Uint32Array(GROUP_BYTES / C_HEADER_BYTES);
  first = 0;
  count = 0;
  bytes = 0;

  reset(first: number): void {
    this.first = first;
    this.count = 0;
    this.bytes = 0;
  }
}
