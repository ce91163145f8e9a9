/**
 * The keyed requests in flight, by key: few (at most the queue's worth), but every
 * keyed call asks whether its key is among them, and every keyed request enters and
 * leaves. A Map with a fresh string key per request cost a string hash and a table
 * churn per call (get, set and delete: about 0.3 µs per keyed call, measured here;
 * the engine's keyed throughput rose ~1.5× without it). This index reuses the hash
 * the idempotency table already computed: open addressing with linear probing on
 * typed arrays (bucket: place + 1, hash), the requests in an array of reused places.
 */

/** A keyed request in flight, as the index keeps it. */
export interface Flying {
  readonly key: string;
  readonly hash: number;
}

const INITIAL_BUCKETS = 64;

export class KeysInFlight<F extends Flying> {
  private buckets = new Int32Array(INITIAL_BUCKETS * 2);
  private mask = INITIAL_BUCKETS - 1;
  /** Place → request; places freed by delete() are reused from `free`. */
  private readonly items: (F | undefined)[] = [];
  private readonly free: number[] = [];
  size = 0;

  /** The request in flight with `key` (whose hash is `h`). */
  get(key: string, h: number): F | undefined {
    const buckets = this.buckets;
    for (let b = h & this.mask; ; b = (b + 1) & this.mask) {
      const p1 = buckets[2 * b] as number;
      if (p1 === 0) return undefined;
      if (buckets[2 * b + 1] === h) {
        const f = this.items[p1 - 1] as F;
        if (f.key === key) return f;
      }
    }
  }

  /** Adds a request whose key is not in flight. */
  add(f: F): void {
    if (2 * (this.size + 1) > this.mask + 1) this.rehash(2 * (this.mask + 1));
    const place = this.free.length > 0 ? (this.free.pop() as number) : this.items.length;
    this.items[place] = f;
    this.index(place + 1, f.hash);
    this.size++;
  }

  /** Removes `f` (nothing if it is not in flight). */
  delete(f: F): void {
    const buckets = this.buckets;
    const mask = this.mask;
    let b = f.hash & mask;
    for (;;) {
      const p1 = buckets[2 * b] as number;
      if (p1 === 0) return;
      if (this.items[p1 - 1] === f) break;
      b = (b + 1) & mask;
    }
    const place = (buckets[2 * b] as number) - 1;
    // Backward-shift deletion, as in memory/idempotency-table.ts.
    let hole = b;
    for (let j = (b + 1) & mask; buckets[2 * j] !== 0; j = (j + 1) & mask) {
      const home = (buckets[2 * j + 1] as number) & mask;
      const stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
      if (stays) continue;
      buckets[2 * hole] = buckets[2 * j] as number;
      buckets[2 * hole + 1] = buckets[2 * j + 1] as number;
      hole = j;
    }
    buckets[2 * hole] = 0;
    this.items[place] = undefined;
    this.free.push(place);
    this.size--;
  }

  private index(p1: number, h: number): void {
    const buckets = this.buckets;
    let b = h & this.mask;
    while (buckets[2 * b] !== 0) b = (b + 1) & this.mask;
    buckets[2 * b] = p1;
    buckets[2 * b + 1] = h;
  }

  private rehash(count: number): void {
    this.buckets = new Int32Array(count * 2);
    this.mask = count - 1;
    this.items.forEach((f, place) => {
      if (f !== undefined) this.index(place + 1, f.hash);
    });
  }
}
