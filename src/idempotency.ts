/**
 * Idempotency keys, after the IETF Idempotency-Key draft and Stripe's rules:
 *
 * - a key maps to the first outcome it produced, whatever it was, for `ttlMs`;
 * - the same key with the same payload gets that outcome again (same offset): the
 *   change is applied once;
 * - the same key with another payload gets `idempotency_key_reused`;
 * - a duplicate that arrives while the first is in flight shares its outcome.
 *
 * At most `maxKeys` keys are kept; the oldest go first. A Map keeps insertion order,
 * so its first entry is always the oldest: eviction and expiry both work from the
 * front, in O(1) per request. A key still in flight is never evicted (that would let
 * its duplicate apply twice); the bound can be exceeded by at most the requests in
 * flight. The check runs on the caller's thread and takes no lock.
 */

export interface IdempotencyEntry<O> {
  readonly key: string;
  readonly fingerprint: string;
  readonly expiresAt: number;
  /** The outcome, once known. */
  outcome: O | undefined;
  /** While in flight: the first request's promise, which duplicates share. */
  pending: Promise<O> | undefined;
}

/** How many expired keys one new key sweeps at most: keeps each call O(1). */
const SWEEP = 4;

export class IdempotencyCache<O> {
  private readonly entries = new Map<string, IdempotencyEntry<O>>();
  replays = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxKeys: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The live entry for `key`, if any. */
  get(key: string): IdempotencyEntry<O> | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.pending === undefined && entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Records `key` as in flight with `pending`, the promise its duplicates will share. */
  begin(key: string, fingerprint: string, pending: Promise<O>): IdempotencyEntry<O> {
    const now = this.now();
    const entry: IdempotencyEntry<O> = {
      key,
      fingerprint,
      expiresAt: now + this.ttlMs,
      outcome: undefined,
      pending,
    };
    this.entries.set(key, entry);
    this.trim(now);
    return entry;
  }

  /** Records a key whose outcome is already known (nothing was in flight). */
  remember(key: string, fingerprint: string, outcome: O): void {
    const now = this.now();
    this.entries.set(key, {
      key,
      fingerprint,
      expiresAt: now + this.ttlMs,
      outcome,
      pending: undefined,
    });
    this.trim(now);
  }

  complete(entry: IdempotencyEntry<O>, outcome: O): void {
    entry.outcome = outcome;
    entry.pending = undefined;
  }

  /** Forgets an in-flight key whose request was not attempted (queue full, engine closed). */
  abandon(entry: IdempotencyEntry<O>): void {
    if (this.entries.get(entry.key) === entry) this.entries.delete(entry.key);
  }

  private trim(now: number): void {
    let swept = 0;
    for (const [key, entry] of this.entries) {
      if (entry.pending !== undefined) break;
      const over = this.entries.size > this.maxKeys;
      if (!over && (swept >= SWEEP || entry.expiresAt > now)) break;
      this.entries.delete(key);
      swept++;
    }
  }
}

/** What makes two update payloads "the same" for a key. */
export function updateFingerprint(r: {
  productId: string;
  delta: number;
  expectedVersion?: number | undefined;
}): string {
  return `u\u0000${r.productId}\u0000${r.delta}\u0000${r.expectedVersion ?? ''}`;
}

/** The same for an order: its items, in order. */
export function orderFingerprint(
  items: readonly { productId: string; delta: number; expectedVersion?: number | undefined }[],
): string {
  let fp = 'o';
  for (const i of items)
    fp += `\u0000${i.productId}\u0000${i.delta}\u0000${i.expectedVersion ?? ''}`;
  return fp;
}
