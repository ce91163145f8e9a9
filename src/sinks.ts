/**
 * Where a row's outcome goes when its batch comes back: the promise of the call that
 * wrote it, one slot of an updateMany, or an idempotency entry and its duplicates.
 */
import type { IdempotencyCache, IdempotencyEntry } from './idempotency.js';

export interface Sink<O> {
  deliver(index: number, outcome: O): void;
  /** The row was not applied (a lock timed out, a worker failed). */
  fail(index: number, error: unknown): void;
}

/** A promise and its settle functions, for calls whose answer comes later. */
export class Deferred<O> implements Sink<O> {
  readonly promise: Promise<O>;
  private resolve!: (value: O) => void;
  private reject!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise<O>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  deliver(_index: number, outcome: O): void {
    this.resolve(outcome);
  }

  fail(_index: number, error: unknown): void {
    this.reject(error);
  }
}

/**
 * Collects one outcome per request of a bulk call, in input order, and settles once
 * every request has one. If any request failed outright, the call rejects with the
 * first error once all are settled; `outcomes` on that error holds the rest.
 */
export class ManyCall<O> implements Sink<O> {
  readonly outcomes: O[];
  private remaining: number;
  private error: unknown = undefined;
  private readonly deferred = new Deferred<O[]>();

  constructor(count: number) {
    this.outcomes = new Array<O>(count);
    this.remaining = count;
    if (count === 0) this.deferred.deliver(0, this.outcomes);
  }

  get promise(): Promise<O[]> {
    return this.deferred.promise;
  }

  deliver(index: number, outcome: O): void {
    this.outcomes[index] = outcome;
    if (--this.remaining === 0) this.settle();
  }

  fail(_index: number, error: unknown): void {
    if (this.error === undefined) this.error = error;
    if (--this.remaining === 0) this.settle();
  }

  private settle(): void {
    if (this.error === undefined) {
      this.deferred.deliver(0, this.outcomes);
    } else {
      if (typeof this.error === 'object' && this.error !== null) {
        Object.assign(this.error, { outcomes: this.outcomes });
      }
      this.deferred.fail(0, this.error);
    }
  }
}

/**
 * The sink of a request that carries an idempotency key: records the outcome under
 * the key, settles the promise that duplicates in flight share, and forwards to the
 * caller's own sink.
 */
export class KeyedSink<O> implements Sink<O> {
  private readonly shared = new Deferred<O>();
  private readonly entry: IdempotencyEntry<O>;

  constructor(
    private readonly cache: IdempotencyCache<O>,
    private readonly key: string,
    fingerprint: string,
    private readonly forward: Sink<O> | null,
    private readonly forwardIndex: number,
  ) {
    this.entry = cache.begin(key, fingerprint, this.shared.promise);
  }

  get promise(): Promise<O> {
    return this.shared.promise;
  }

  deliver(_index: number, outcome: O): void {
    this.cache.complete(this.entry, outcome);
    this.shared.deliver(0, outcome);
    this.forward?.deliver(this.forwardIndex, outcome);
  }

  fail(_index: number, error: unknown): void {
    // Not applied: forget the key so that a retry can apply.
    this.cache.abandon(this.key, this.entry);
    if (this.forward !== null) {
      // The shared promise has no handler unless a duplicate took it: don't leave it
      // rejected and unhandled.
      this.shared.promise.catch(() => {});
      this.forward.fail(this.forwardIndex, error);
    }
    this.shared.fail(0, error);
  }
}

/** Sends a duplicate's shared outcome to its own sink when the first one settles. */
export function follow<O>(pending: Promise<O>, sink: Sink<O>, index: number): void {
  pending.then(
    (outcome) => sink.deliver(index, outcome),
    (error: unknown) => sink.fail(index, error),
  );
}
