/**
 * Idempotency keys, after the IETF Idempotency-Key draft and Stripe's rules:
 *
 * - a key maps to the first outcome it produced, whatever it was, for `ttlMs`;
 * - the same key with the same payload gets that outcome again (same offset): the
 *   change is applied once;
 * - the same key with another payload gets `idempotency_key_reused`;
 * - a duplicate that arrives while the first is in flight shares its outcome.
 *
 * At most `maxKeys` keys are remembered, the oldest evicted first. The check runs on
 * the caller's thread and takes no lock.
 *
 * Keys in flight sit in a small Map of their own until their outcome is known. Known
 * outcomes go into a ring held in typed-array columns (one Map from key to slot beside
 * it): a million remembered keys must not become millions of small objects for the
 * garbage collector to trace over and over. The common outcome, an applied stock
 * update, is kept as numbers and rebuilt on a replay; rarer ones are kept as objects.
 * Slots fill in order, so the oldest key is always at the ring's head, and eviction
 * and expiry work from there in O(1).
 */
import { copyOutcome } from './outcomes.js';
import type { UpdateCopy } from './requests.js';
import type { Applied, OrderOutcome, UpdateOutcome } from './types.js';

export type Cached = UpdateOutcome | OrderOutcome;

/** What a key was first used for: an update's fields, or an order's items. */
export interface Payload {
  readonly kind: number;
  readonly productId: string;
  readonly delta: number;
  /** The expected version, or ANY_VERSION (-1) for none. */
  readonly expected: number;
  /** For orders: every item, as one unambiguous string. */
  readonly fingerprint: string;
}

const UPDATE = 1;
const ORDER = 2;

export function updatePayload(r: UpdateCopy): Payload {
  return {
    kind: UPDATE,
    productId: r.productId,
    delta: r.delta,
    expected: r.expected,
    fingerprint: '',
  };
}

/**
 * An order's items as one string that no other list of items produces: each id is
 * preceded by its length, so no character an id may hold (NUL included) can pass for
 * a separator; deltas and versions are integers, written in decimal.
 */
export function orderPayload(items: readonly UpdateCopy[]): Payload {
  let fingerprint = '';
  for (const i of items) {
    fingerprint += `${i.productId.length}:${i.productId}${i.delta},${i.expected};`;
  }
  return { kind: ORDER, productId: '', delta: 0, expected: -1, fingerprint };
}

/**
 * lookup()'s answer when the key is new but `maxKeys` keys are already in flight: it
 * cannot be remembered, so the request is turned away like a full queue.
 */
export const KEYS_FULL = Symbol('keys full');

function samePayload(a: Payload, b: Payload): boolean {
  return (
    a.kind === b.kind &&
    a.productId === b.productId &&
    a.delta === b.delta &&
    a.expected === b.expected &&
    a.fingerprint === b.fingerprint
  );
}

/** A key whose request is in flight: the handle begin() returns. */
export interface InFlight {
  readonly key: string;
  readonly payload: Payload;
  readonly promise: Promise<Cached>;
}

/** Slot states in the ring. */
const EMPTY = 0;
const APPLIED = 1;
const OBJECT = 2;

/** Float64 fields per slot. */
const F_DELTA = 0;
const F_EXPECTED = 1;
const F_EXPIRES = 2;
const F_AVAILABLE = 3;
const F_VERSION = 4;
const F_OFFSET = 5;
const FIELDS = 6;

/** How many expired keys one new key sweeps at most: keeps each call O(1). */
const SWEEP = 4;
const INITIAL_SLOTS = 1024;

export class IdempotencyCache {
  private readonly inFlight = new Map<string, InFlight>();
  private readonly slots = new Map<string, number>();
  // The ring's columns: `count` slots from `head` (mod capacity) hold keys, oldest first.
  private keys: (string | undefined)[] = [];
  private productIds: string[] = [];
  private fingerprints: string[] = [];
  private lastUpdated: string[] = [];
  private objects: (Cached | undefined)[] = [];
  private state = new Uint8Array(0);
  private kinds = new Uint8Array(0);
  private numbers = new Float64Array(0);
  private capacity = 0;
  private head = 0;
  private count = 0;
  /** Requests answered from the cache (a replay, or a duplicate sharing one in flight). */
  replays = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxKeys: number,
    private readonly now: () => number = Date.now,
  ) {
    this.grow(Math.min(INITIAL_SLOTS, maxKeys));
  }

  /** Keys that count now: in flight, or remembered and not expired. */
  get size(): number {
    this.expire(this.now());
    return this.slots.size + this.inFlight.size;
  }

  /** Forgets every expired key (they sit at the ring's head, oldest first). */
  private expire(now: number): void {
    while (this.count > 0) {
      const slot = this.head;
      if (
        this.keys[slot] !== undefined &&
        (this.numbers[slot * FIELDS + F_EXPIRES] as number) > now
      ) {
        return;
      }
      if (this.keys[slot] !== undefined) this.forget(slot);
      this.head = (this.head + 1) % this.capacity;
      this.count--;
    }
  }

  /**
   * What to answer a request with this key and payload: its first outcome, the
   * promise of the first one still in flight, 'reused' (another payload), or
   * undefined when the key is new.
   */
  check(key: string, payload: Payload): Cached | Promise<Cached> | 'reused' | undefined {
    const flying = this.inFlight.get(key);
    if (flying !== undefined) {
      if (!samePayload(flying.payload, payload)) return 'reused';
      this.replays++;
      // Each duplicate gets its own copy of the first request's outcome.
      return flying.promise.then(copyOutcome);
    }
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    const n = slot * FIELDS;
    if ((this.numbers[n + F_EXPIRES] as number) <= this.now()) {
      this.forget(slot);
      return undefined;
    }
    if (
      this.kinds[slot] !== payload.kind ||
      this.productIds[slot] !== payload.productId ||
      this.numbers[n + F_DELTA] !== payload.delta ||
      this.numbers[n + F_EXPECTED] !== payload.expected ||
      this.fingerprints[slot] !== payload.fingerprint
    ) {
      return 'reused';
    }
    this.replays++;
    // Each caller gets its own copy: one caller changing its outcome changes no other's.
    if (this.state[slot] === OBJECT) return copyOutcome(this.objects[slot] as Cached);
    const applied: Applied = {
      status: 'applied',
      productId: this.productIds[slot] as string,
      available: this.numbers[n + F_AVAILABLE] as number,
      version: this.numbers[n + F_VERSION] as number,
      lastUpdated: this.lastUpdated[slot] as string,
      offset: this.numbers[n + F_OFFSET] as number,
    };
    return applied;
  }

  /**
   * The answer a keyed request gets without being applied: idempotency_key_reused for
   * another payload, the first outcome (or the promise of the first request still in
   * flight), KEYS_FULL when the key is new and maxKeys keys are in flight; undefined
   * when the key is new and may begin. The key has been checked (requests.ts).
   */
  lookup(key: string, payload: Payload): Cached | Promise<Cached> | typeof KEYS_FULL | undefined {
    const hit = this.check(key, payload);
    if (hit === 'reused') return { status: 'idempotency_key_reused', idempotencyKey: key };
    if (hit === undefined && this.inFlight.size >= this.maxKeys) return KEYS_FULL;
    return hit;
  }

  /** Records `key` as in flight; `promise` is what its duplicates will share. */
  begin(key: string, payload: Payload, promise: Promise<Cached>): InFlight {
    // A key in flight counts toward maxKeys: make room for it among the remembered.
    this.trim(this.now(), false);
    const flying: InFlight = { key, payload, promise };
    this.inFlight.set(key, flying);
    return flying;
  }

  /**
   * The in-flight request's outcome is known: remember it — unless it is
   * invalid_request (a delta that met the stock bound), which, like every request
   * found malformed, records nothing under its key.
   */
  complete(flying: InFlight, outcome: Cached): void {
    // Duplicates share the first request's entry, so the key maps to this one.
    this.inFlight.delete(flying.key);
    if (outcome.status !== 'invalid_request') this.remember(flying.key, flying.payload, outcome);
  }

  /** The in-flight request was not applied (a lock timed out, a worker failed): forget it. */
  abandon(flying: InFlight): void {
    this.inFlight.delete(flying.key);
  }

  /** Remembers a key whose outcome is known. */
  remember(key: string, p: Payload, outcome: Cached): void {
    const now = this.now();
    this.trim(now, true);
    if (this.count === this.capacity) this.grow(Math.min(this.capacity * 2, this.maxKeys));
    const slot = (this.head + this.count) % this.capacity;
    this.count++;
    // The key is new to the ring: check() forgot it if it had expired there.
    this.slots.set(key, slot);
    this.keys[slot] = key;
    this.productIds[slot] = p.productId;
    this.fingerprints[slot] = p.fingerprint;
    this.kinds[slot] = p.kind;
    const n = slot * FIELDS;
    this.numbers[n + F_DELTA] = p.delta;
    this.numbers[n + F_EXPECTED] = p.expected;
    this.numbers[n + F_EXPIRES] = now + this.ttlMs;
    if (outcome.status === 'applied' && 'offset' in outcome) {
      this.numbers[n + F_AVAILABLE] = outcome.available;
      this.numbers[n + F_VERSION] = outcome.version;
      this.numbers[n + F_OFFSET] = outcome.offset;
      this.lastUpdated[slot] = outcome.lastUpdated;
      this.state[slot] = APPLIED;
    } else {
      // A copy: the caller that received `outcome` may change it.
      this.objects[slot] = copyOutcome(outcome);
      this.state[slot] = OBJECT;
    }
  }

  /**
   * Makes room for one more key, about to be remembered (`needsPlace`: it also takes a
   * place in the ring) or to fly: evicts the oldest past maxKeys, and a few expired.
   * Keys expire in the order they were remembered, so the expired ones are at the head.
   */
  private trim(now: number, needsPlace: boolean): void {
    let swept = 0;
    while (this.count > 0) {
      const slot = this.head;
      if (this.keys[slot] !== undefined) {
        // Full: maxKeys keys remembered or in flight, or a ring of maxKeys places with
        // no place left (places of keys that expired on lookup are reclaimed only from
        // the head).
        const full =
          this.slots.size + this.inFlight.size >= this.maxKeys ||
          (needsPlace && this.count === this.capacity && this.capacity >= this.maxKeys);
        const expired = (this.numbers[slot * FIELDS + F_EXPIRES] as number) <= now;
        if (!full && (swept >= SWEEP || !expired)) return;
        this.forget(slot);
        swept++;
      }
      // An empty slot (expired on lookup) only holds its place in the ring.
      this.head = (this.head + 1) % this.capacity;
      this.count--;
    }
  }

  private forget(slot: number): void {
    // A key holds one slot at a time: check() forgets an expired slot before its key
    // can be remembered again.
    const key = this.keys[slot];
    if (key !== undefined) this.slots.delete(key);
    this.keys[slot] = undefined;
    this.objects[slot] = undefined;
    this.state[slot] = EMPTY;
  }

  /** Widens the ring to `capacity` slots, oldest first from slot 0. */
  private grow(capacity: number): void {
    const order = Array.from({ length: this.count }, (_, i) => (this.head + i) % this.capacity);
    const keys = new Array<string | undefined>(capacity).fill(undefined);
    const productIds = new Array<string>(capacity).fill('');
    const fingerprints = new Array<string>(capacity).fill('');
    const lastUpdated = new Array<string>(capacity).fill('');
    const objects = new Array<Cached | undefined>(capacity).fill(undefined);
    const state = new Uint8Array(capacity);
    const kinds = new Uint8Array(capacity);
    const numbers = new Float64Array(capacity * FIELDS);
    order.forEach((from, to) => {
      const key = this.keys[from];
      keys[to] = key;
      productIds[to] = this.productIds[from] as string;
      fingerprints[to] = this.fingerprints[from] as string;
      lastUpdated[to] = this.lastUpdated[from] as string;
      objects[to] = this.objects[from];
      state[to] = this.state[from] as number;
      kinds[to] = this.kinds[from] as number;
      numbers.set(this.numbers.subarray(from * FIELDS, (from + 1) * FIELDS), to * FIELDS);
      if (key !== undefined) this.slots.set(key, to);
    });
    this.keys = keys;
    this.productIds = productIds;
    this.fingerprints = fingerprints;
    this.lastUpdated = lastUpdated;
    this.objects = objects;
    this.state = state;
    this.kinds = kinds;
    this.numbers = numbers;
    this.capacity = capacity;
    this.head = 0;
  }
}
