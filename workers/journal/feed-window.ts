/**
 * The change feed's window in memory: the last `retainChanges` records, kept as the
 * groups that wrote them, so a feed reader that keeps up is answered without the disk.
 * Older ones, with a data directory, are read from its segment files (segments.ts).
 */
import { type Change, decodeChange, feedItem } from '../../memory/change-log.js';
import type { Group } from './group.js';

/** One group's records, kept for the feed. */
interface Chunk {
  readonly first: number;
  readonly count: number;
  readonly bytes: Uint8Array;
  readonly positions: Uint32Array;
}

/** The last `retain` records (or a group more), as the groups that wrote them. */
export class FeedWindow {
  private chunks: Chunk[] = [];
  /** chunks[0…head) are evicted (compacted away from time to time). */
  private head = 0;
  private records = 0;

  constructor(private readonly retain: number) {}

  push(group: Group): void {
    if (this.retain <= 0) return;
    this.chunks.push({
      first: group.first,
      count: group.count,
      bytes: group.u8.slice(0, group.bytes),
      positions: group.positions.slice(0, group.count),
    });
    this.records += group.count;
    for (;;) {
      const oldest = this.chunks[this.head] as Chunk;
      if (this.records - oldest.count < this.retain) break;
      this.records -= oldest.count;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /** The oldest offset held, or null when empty. */
  oldest(): number | null {
    return this.head < this.chunks.length ? (this.chunks[this.head] as Chunk).first : null;
  }

  /** Appends the changes of offsets from…≤ last to `out`, up to `limit` in all. */
  collect(from: number, limit: number, last: number, out: Change[]): void {
    let lo = this.head;
    let hi = this.chunks.length - 1;
    // The last chunk whose first offset is ≤ from.
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.chunks[mid] as Chunk).first <= from) lo = mid;
      else hi = mid - 1;
    }
    for (let i = lo; i < this.chunks.length && out.length < limit; i++) {
      const chunk = this.chunks[i] as Chunk;
      const start = Math.max(from, chunk.first);
      const end = Math.min(chunk.first + chunk.count - 1, last);
      for (let offset = start; offset <= end && out.length < limit; offset++) {
        const at = chunk.positions[offset - chunk.first] as number;
        out.push(feedItem(decodeChange(chunk.bytes, at)));
      }
    }
  }
}
