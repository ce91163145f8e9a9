/**
 * Which answers are replays, for the `Idempotent-Replayed: true` header.
 *
 * The engine applies a key's request once and answers every later request with that
 * key (and the same payload) with the first outcome, but its outcomes do not say which
 * answer was the first. So the server keeps the keys it has seen an outcome recorded
 * for, for as long as the engine remembers them (its TTL), and the keys in flight: a
 * request whose key is in either when it arrives, and whose outcome is one the engine
 * records (not invalid_request, queue_full or idempotency_key_reused), is a replay.
 *
 * An applied outcome whose offset was taken before this server's engine opened (the
 * engine restored the key from its journal) is a replay too: after a restart the header
 * is still right for every key whose first outcome applied a change.
 *
 * Bounded: at most `maxKeys` recorded keys, the oldest forgotten first. A key forgotten
 * here is still applied once by the engine; only its header is missing. Keys expire in
 * insertion order because the TTL is one for all.
 */

/** Outcomes the engine does not record under a key: never replays. */
const NOT_RECORDED = new Set(['invalid_request', 'queue_full', 'idempotency_key_reused']);

export class Replays {
  private readonly recorded = new Map<string, number>();
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxKeys: number,
    /** The engine's last offset when the server started. */
    private readonly openedAt = 0,
    private readonly now: () => number = Date.now,
  ) {}

  /** A request with `key` arrives: whether an outcome for it exists or is being made. */
  arrive(key: string): boolean {
    this.expire();
    const seen = this.recorded.has(key) || this.inFlight.has(key);
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    return seen;
  }

  /**
   * Its outcome is known: records the key if the engine did, and says whether this
   * answer is a replay (`seen` is what arrive() said).
   */
  settle(key: string, seen: boolean, status: string, offset?: number): boolean {
    const left = (this.inFlight.get(key) ?? 1) - 1;
    if (left === 0) this.inFlight.delete(key);
    else this.inFlight.set(key, left);
    if (NOT_RECORDED.has(status)) return false;
    if (!this.recorded.has(key)) {
      this.recorded.set(key, this.now() + this.ttlMs);
      if (this.recorded.size > this.maxKeys) {
        const oldest = this.recorded.keys().next().value;
        if (oldest !== undefined) this.recorded.delete(oldest);
      }
    }
    return seen || (status === 'applied' && offset !== undefined && offset <= this.openedAt);
  }

  get size(): number {
    return this.recorded.size;
  }

  private expire(): void {
    const now = this.now();
    for (const [key, expires] of this.recorded) {
      if (expires > now) break;
      this.recorded.delete(key);
    }
  }
}
