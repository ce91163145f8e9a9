/**
 * Merging the pool threads' change rings (memory/change-log.ts) into the one gap-free
 * sequence of changes: the journal thread's consumer side of every ring. Each ring is
 * in offset order and offsets are gap-free across rings, so once committed the record
 * of offset `next` is at the head of the ring that holds it; the merger copies it, as
 * long runs at a time, into a group, seals each record's CRC, and stores the ring's
 * HEAD as soon as its records are copied, so producers never wait on the disk.
 */
import {
  type ChangeViews,
  isPad,
  MAX_RECORD_BYTES,
  R_HEAD,
  R_TAIL,
  ringControl,
  ringStart,
} from '../../memory/change-log.js';
import { sealRecord } from '../../src/journal/files.js';
import { GROUP_BYTES, type Group } from './group.js';

/** The consumer's side of one ring. HEAD and TAIL count 8-byte units, mod 2^32. */
interface Cursor {
  readonly ring: number;
  readonly control: number;
  /** Byte where the ring's data starts, and where it ends. */
  readonly start: number;
  readonly end: number;
  readonly mask: number;
  head: number;
  tail: number;
}

export class Merger {
  private readonly cursors: Cursor[] = [];
  /** The ring the last run came from: the likeliest to hold the next offset. */
  private last = 0;

  constructor(
    private readonly cv: ChangeViews,
    /**
     * Whether records get their CRC: they do when they go to disk. The feed's window in
     * memory (no data directory) never leaves the process, so its records need none.
     */
    private readonly seal: boolean,
  ) {
    for (let ring = 0; ring < cv.rings; ring++) {
      const control = ringControl(ring);
      const start = ringStart(cv.rings, cv.ringBytes, ring);
      const head = Atomics.load(cv.i32, control + R_HEAD);
      this.cursors.push({
        ring,
        control,
        start,
        end: start + cv.ringBytes,
        mask: cv.ringBytes / 8 - 1,
        head,
        tail: head,
      });
    }
  }

  private at(c: Cursor, units: number): number {
    return c.start + ((c.head + units) & c.mask) * 8;
  }

  /** The length of the ring record at byte `byte`, checked; a PAD reads as negative. */
  private lengthAt(c: Cursor, byte: number): number {
    const length = this.cv.i32[byte >> 2] as number;
    const pad = length > 0 && isPad(this.cv, byte, length);
    if (
      length <= 0 ||
      (length & 7) !== 0 ||
      byte + length > c.end ||
      (!pad && length > MAX_RECORD_BYTES)
    ) {
      throw new Error(`change ring ${c.ring} holds a record of ${length} bytes at byte ${byte}`);
    }
    return pad ? -length : length;
  }

  /** Frees the ring's space up to the cursor (the producer may be waiting for it). */
  private release(c: Cursor): void {
    Atomics.store(this.cv.i32, c.control + R_HEAD, c.head);
    Atomics.notify(this.cv.i32, c.control + R_HEAD);
  }

  /** The offset of the ring's next record (pads skipped and freed), or 0 for none. */
  private peek(c: Cursor): number {
    for (;;) {
      if (c.head === c.tail) {
        c.tail = Atomics.load(this.cv.i32, c.control + R_TAIL);
        if (c.head === c.tail) return 0;
      }
      const byte = this.at(c, 0);
      const length = this.lengthAt(c, byte);
      if (length > 0) return this.cv.f64[(byte >> 3) + 1] as number;
      c.head = (c.head - length / 8) >>> 0;
      this.release(c);
    }
  }

  /** Whether the record of offset `next` is committed in some ring. */
  available(next: number): boolean {
    return this.cursors.some((c) => this.peek(c) === next);
  }

  /** The cursor whose next record has offset `next`, or null. */
  private holder(next: number): Cursor | null {
    const rings = this.cursors.length;
    for (let k = 0; k < rings; k++) {
      const c = this.cursors[(this.last + k) % rings] as Cursor;
      const offset = this.peek(c);
      if (offset === next) {
        this.last = c.ring;
        return c;
      }
      if (offset !== 0 && offset < next) {
        throw new Error(`change ring ${c.ring} holds offset ${offset}, below ${next}`);
      }
    }
    return null;
  }

  /**
   * Copies the records of offsets next, next+1, … into `group` while they are
   * committed and fit; answers how many.
   */
  fill(group: Group, next: number): number {
    let copied = 0;
    for (;;) {
      const c = this.holder(next + copied);
      if (c === null) break;
      const n = this.copyRun(c, group, next + copied);
      if (n === 0) break;
      copied += n;
    }
    return copied;
  }

  /** Copies the longest run of consecutive offsets from `c`'s head, in one piece. */
  private copyRun(c: Cursor, group: Group, next: number): number {
    const first = this.at(c, 0);
    const f64 = this.cv.f64;
    let byte = first;
    let units = 0;
    let count = 0;
    const room = GROUP_BYTES - group.bytes;
    // A record never wraps, so a run stops at the ring's end (or a pad before it).
    while ((c.head + units) >>> 0 !== c.tail && byte < c.end) {
      const length = this.lengthAt(c, byte);
      if (length < 0 || f64[(byte >> 3) + 1] !== next + count) break;
      if (byte + length - first > room) break;
      group.positions[group.count + count] = group.bytes + (byte - first);
      byte += length;
      units += length >> 3;
      count++;
    }
    if (count === 0) return 0;
    group.u8.set(this.cv.u8.subarray(first, byte), group.bytes);
    c.head = (c.head + units) >>> 0;
    this.release(c);
    if (this.seal) {
      for (let i = group.count; i < group.count + count; i++) {
        const at = group.positions[i] as number;
        sealRecord(group.u8, group.view, at, group.view.getUint32(at, true));
      }
    }
    group.count += count;
    group.bytes += byte - first;
    return count;
  }

  /** The highest offset committed in any ring, or 0. */
  committedHigh(): number {
    let high = 0;
    for (const c of this.cursors) {
      const tail = Atomics.load(this.cv.i32, c.control + R_TAIL);
      for (let units = 0; (c.head + units) >>> 0 !== tail; ) {
        const byte = this.at(c, units);
        const length = this.lengthAt(c, byte);
        if (length > 0) high = Math.max(high, this.cv.f64[(byte >> 3) + 1] as number);
        units += Math.abs(length) >> 3;
      }
    }
    return high;
  }
}
