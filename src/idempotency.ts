/**
 * Idempotency keys, after the IETF Idempotency-Key draft and Stripe's rules:
 *
 * - a key maps to the first outcome it produced, whatever it was, for `ttlMs`;
 * - the same key with the same payload gets that outcome again (same offset): the
 *   change is applied once;
 * - the same key with another payload gets `idempotency_key_reused`;
 * - a duplicate that arrives while the first is in flight shares its outcome.
 *
 * At most `maxKeys` keys are kept; the oldest go first. Keys are also kept in a FIFO
 * of insertion order beside the Map, so eviction and expiry work from the front in
 * O(1) per request without iterating the Map. A key still in flight is never evicted
 * (its duplicate would apply twice); the bound can be exceeded by at most the
 * requests in flight. The check runs on the caller's thread and takes no lock.
 */

/** What a key was first used for: an update's fields, or an order's fingerprint. */
export interface Payload {
  /** 'u' for an update, 'o' for an order. */
  readonly kind: 'u' | 'o';
  readonly productId: string;
  readonly delta: number;
  /** expectedVersion, or -1 for none. */
  readonly expected: number;
  /** For orders: every item, as one string. */
  readonly fingerprint: string;
}

export interface IdempotencyEntry<O> extends Payload {
  readonly key: string;
  readonly expiresAt: number;
  /** The outcome, once known. */
  outcome: O | undefined;
  /** While in flight: the first request's promise, which duplicates share. */
  pending: Promise<O> | undefined;
  /** False once the entry has left the Map (expired, evicted, abandoned). */
  live: boolean;
}

/** How many expired keys one new key sweeps at most: keeps each call O(1). */
const SWEEP = 4;

export function samePayload(a: Payload, b: Payload): boolean {
  return (
    a.kind === b.kind &&
    a.productId === b.productId &&
    a.delta === b.delta &&
    a.expected === b.expected &&
    a.fingerprint === b.fingerprint
  );
}

export function updatePayload(r: {
  productId: string;
  delta: number;
  expectedVersion?: number | undefined;
}): Payload {
  return {
    kind: 'u',
    productId: r.productId,
    delta: r.delta,
    expected: r.expectedVersion ?? -1,
    fingerprint: '',
  };
}

export function orderPayload(
  items: readonly { productId: string; delta: number; expectedVersion?: number | undefined }[],
): Payload {
  let fingerprint = '';
  for (const i of items)
    fingerprint += `${i.productId}\u0000${i.delta}\u0000${i.expectedVersion ?? ''}\u0000`;
  return { kind: 'o', productId: '', delta: 0, expected: -1, fingerprint };
}

export class IdempotencyCache<O> {
  private readonly entries = new Map<string, IdempotencyEntry<O>>();
  /** Entries in insertion order from `head`; some may have left the Map already. */
  private fifo: IdempotencyEntry<O>[] = [];
  private head = 0;
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
      this.remove(entry);
      return undefined;
    }
    return entry;
  }

  /** Records `key` as in flight with `pending`, the promise its duplicates will share. */
  begin(key: string, payload: Payload, pending: Promise<O>): IdempotencyEntry<O> {
    return this.insert(key, payload, undefined, pending);
  }

  /** Records a key whose outcome is already known (nothing was in flight). */
  remember(key: string, payload: Payload, outcome: O): void {
    this.insert(key, payload, outcome, undefined);
  }

  complete(entry: IdempotencyEntry<O>, outcome: O): void {
    entry.outcome = outcome;
    entry.pending = undefined;
  }

  /** Forgets an in-flight key whose request was not applied (a lock timed out, a worker failed). */
  abandon(entry: IdempotencyEntry<O>): void {
    if (entry.live) this.remove(entry);
  }

  private remove(entry: IdempotencyEntry<O>): void {
    entry.live = false;
    this.entries.delete(entry.key);
  }

  private insert(
    key: string,
    payload: Payload,
    outcome: O | undefined,
    pending: Promise<O> | undefined,
  ) {
    const now = this.now();
    const entry: IdempotencyEntry<O> = {
      kind: payload.kind,
      productId: payload.productId,
      delta: payload.delta,
      expected: payload.expected,
      fingerprint: payload.fingerprint,
      key,
      expiresAt: now + this.ttlMs,
      outcome,
      pending,
      live: true,
    };
    this.entries.set(key, entry);
    this.fifo.push(entry);
    this.trim(now);
    return entry;
  }

  private trim(now: number): void {
    const fifo = this.fifo;
    let swept = 0;
    while (this.head < fifo.length) {
      const oldest = fifo[this.head] as IdempotencyEntry<O>;
      if (!oldest.live) {
        // Already gone (expired on lookup, or abandoned): just drop it here.
        this.head++;
        continue;
      }
      if (oldest.pending !== undefined) break;
      const over = this.entries.size > this.maxKeys;
      if (!over && (swept >= SWEEP || oldest.expiresAt > now)) break;
      this.remove(oldest);
      this.head++;
      swept++;
    }
    // Compact once the dead front is as long as the live rest.
    if (this.head > 1024 && this.head * 2 > fifo.length) {
      this.fifo = fifo.slice(this.head);
      this.head = 0;
    }
  }
}
