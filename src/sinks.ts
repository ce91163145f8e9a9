/**
 * Where a row's outcome goes when its batch comes back: the promise of the call that
 * wrote it, or one slot of a bulk call.
 */

/**
 * `new Promise(capture)` hands the promise's resolve function back through
 * `lastResolve` instead of a closure allocated per call: on the per-update path the
 * promise and its resolve function are then the only allocations.
 */
// biome-ignore lint/suspicious/noExplicitAny: the slot holds any promise's resolve until taken.
let lastResolve: (value: any) => void = () => {};
// biome-ignore lint/suspicious/noExplicitAny: as above.
function capture(resolve: (value: any) => void): void {
  lastResolve = resolve;
}

/** A new promise; call takeResolve() at once for its resolve function. */
export function openPromise<T>(): Promise<T> {
  return new Promise<T>(capture);
}

/** The resolve function of the promise openPromise() just made. */
export function takeResolve<T>(): (value: T | PromiseLike<T>) => void {
  return lastResolve;
}

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

/** Sends a duplicate's shared outcome to its own sink when the first one settles. */
export function follow<O>(pending: Promise<O>, sink: Sink<O>, index: number): void {
  pending.then(
    (outcome) => sink.deliver(index, outcome),
    (error: unknown) => sink.fail(index, error),
  );
}
