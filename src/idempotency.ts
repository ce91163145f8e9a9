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
 * outcomes go into a table off the V8 heap (memory/idempotency-table.ts): the key and
 * product id as bytes, the payload and the outcome as numbers, so a million remembered
 * keys are no objects at all for the garbage collector to trace. Update outcomes
 * (applied, version_conflict, insufficient_inventory, product_not_found) are kept that
 * way and rebuilt on a replay; the rarer rest, an order's outcomes, are kept as objects
 * in a side Map beside it. Keys are remembered in order, so the oldest key is always
 * at the table's head, and eviction and expiry work from there in O(1). The table
 * starts small and doubles, up to maxKeys places.
 */
import { randomBytes } from 'node:crypto';
import {
  E_AVAILABLE,
  E_DELTA,
  E_EXPECTED,
  E_EXPIRES,
  E_KIND,
  E_LAST_UPDATED,
  E_OFFSET,
  E_SIDE,
  E_STATE,
  E_VERSION,
  ENTRY_EMPTY,
  IdempotencyTable,
  OUTCOME_APPLIED,
  OUTCOME_INSUFFICIENT,
  OUTCOME_NOT_FOUND,
  OUTCOME_SIDE,
  OUTCOME_VERSION_CONFLICT,
  PAYLOAD_ORDER,
  PAYLOAD_UPDATE,
} from '../memory/idempotency-table.js';
import { isoTime } from './clock.js';
import { KeysInFlight } from './keys-in-flight.js';
import { copyOutcome } from './outcomes.js';
import type { UpdateCopy } from './requests.js';
import type { OrderOutcome, UpdateOutcome } from './types.js';

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

const UPDATE = PAYLOAD_UPDATE;
const ORDER = PAYLOAD_ORDER;

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
  /** The key's hash in the table, computed once by lookup. */
  readonly hash: number;
  readonly payload: Payload;
  readonly promise: Promise<Cached>;
}

/** How many expired keys one new key sweeps at most: keeps each call O(1). */
const SWEEP = 4;
const INITIAL_PLACES = 1024;
/** Arena bytes per place a table starts with (a UUID key and a short product id). */
const ARENA_BYTES_PER_PLACE = 48;
/** The most bytes a code unit takes in the table's arena. */
const UNIT_BYTES = 3;

/** An outcome kept as an object (an order's), with the payload's order fingerprint. */
interface SideEntry {
  readonly fingerprint: string;
  readonly outcome: Cached;
}

function randomSeed(): number {
  return randomBytes(4).readInt32LE(0);
}

function arenaFor(places: number): number {
  return Math.max(4096, Math.ceil((places * ARENA_BYTES_PER_PLACE) / 8) * 8);
}

export class IdempotencyCache {
  private readonly inFlight = new KeysInFlight<InFlight>();
  private table: IdempotencyTable;
  /** Outcomes the table keeps by number (OUTCOME_SIDE), under that number. */
  private readonly side = new Map<number, SideEntry>();
  private nextSide = 1;
  /** The last key hashed and its hash: lookup() then begin() or remember() hash once. */
  private hashedKey = '';
  private hashedValue = 0;
  /** The last lastUpdated string read back to milliseconds. */
  private isoText = '';
  private isoMs = 0;
  /** Requests answered from the cache (a replay, or a duplicate sharing one in flight). */
  replays = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxKeys: number,
    private readonly now: () => number = Date.now,
    seed: number = randomSeed(),
  ) {
    const places = Math.min(INITIAL_PLACES, maxKeys);
    this.table = IdempotencyTable.create(places, arenaFor(places), seed);
  }

  /** Keys that count now: in flight, or remembered and not expired. */
  get size(): number {
    this.expire(this.now());
    return this.table.live + this.inFlight.size;
  }

  /** Forgets every expired key (they sit at the table's head, oldest first). */
  private expire(now: number): void {
    const t = this.table;
    while (t.count > 0) {
      const e = t.head;
      if (t.i32[t.entryBase(e) + E_STATE] !== ENTRY_EMPTY) {
        if (t.number(e, E_EXPIRES) > now) return;
        this.forget(e);
      }
      t.dropHead();
    }
  }

  private hashOf(key: string): number {
    if (key !== this.hashedKey) {
      this.hashedKey = key;
      this.hashedValue = this.table.hash(key);
    }
    return this.hashedValue;
  }

  /**
   * What to answer a request with this key and payload: its first outcome, the
   * promise of the first one still in flight, 'reused' (another payload), or
   * undefined when the key is new.
   */
  check(key: string, payload: Payload): Cached | Promise<Cached> | 'reused' | undefined {
    const h = this.hashOf(key);
    const flying = this.inFlight.get(key, h);
    if (flying !== undefined) {
      if (!samePayload(flying.payload, payload)) return 'reused';
      this.replays++;
      // Each duplicate gets its own copy of the first request's outcome.
      return flying.promise.then(copyOutcome);
    }
    const t = this.table;
    const e = t.find(key, h);
    if (e < 0) return undefined;
    if (t.number(e, E_EXPIRES) <= this.now()) {
      this.forget(e);
      return undefined;
    }
    const base = t.entryBase(e);
    const state = t.i32[base + E_STATE];
    const side = state === OUTCOME_SIDE ? this.side.get(t.i32[base + E_SIDE] as number) : undefined;
    if (
      t.i32[base + E_KIND] !== payload.kind ||
      t.number(e, E_DELTA) !== payload.delta ||
      t.number(e, E_EXPECTED) !== payload.expected ||
      (side === undefined ? '' : side.fingerprint) !== payload.fingerprint ||
      !t.sameProductId(e, payload.productId)
    ) {
      return 'reused';
    }
    this.replays++;
    // Each caller gets its own object: one caller changing its outcome changes no other's.
    // The product id matched byte for byte, so the payload's is the one remembered.
    const productId = payload.productId;
    switch (state) {
      case OUTCOME_APPLIED:
        return {
          status: 'applied',
          productId,
          available: t.number(e, E_AVAILABLE),
          version: t.number(e, E_VERSION),
          lastUpdated: isoTime(t.number(e, E_LAST_UPDATED)),
          offset: t.number(e, E_OFFSET),
        };
      case OUTCOME_VERSION_CONFLICT:
        return {
          status: 'version_conflict',
          productId,
          version: t.number(e, E_VERSION),
          available: t.number(e, E_AVAILABLE),
        };
      case OUTCOME_INSUFFICIENT:
        return {
          status: 'insufficient_inventory',
          productId,
          available: t.number(e, E_AVAILABLE),
          version: t.number(e, E_VERSION),
        };
      case OUTCOME_NOT_FOUND:
        return { status: 'product_not_found', productId };
      default:
        return copyOutcome((side as SideEntry).outcome);
    }
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
    const flying: InFlight = { key, hash: this.hashOf(key), payload, promise };
    this.inFlight.add(flying);
    return flying;
  }

  /**
   * The in-flight request's outcome is known: remember it — unless it is
   * invalid_request (a delta that met the stock bound), which, like every request
   * found malformed, records nothing under its key.
   */
  complete(flying: InFlight, outcome: Cached): void {
    // Duplicates share the first request's entry, so the key maps to this one.
    this.inFlight.delete(flying);
    if (outcome.status !== 'invalid_request') {
      this.store(flying.key, flying.hash, flying.payload, outcome);
    }
  }

  /** The in-flight request was not applied (a lock timed out, a worker failed): forget it. */
  abandon(flying: InFlight): void {
    this.inFlight.delete(flying);
  }

  /**
   * Remembers a key whose outcome is known. The caller has just seen lookup() answer
   * undefined for it (and a key in flight is answered from the in-flight index, never
   * remembered twice), so the key is not in the table.
   */
  remember(key: string, p: Payload, outcome: Cached): void {
    this.store(key, this.hashOf(key), p, outcome);
  }

  private store(key: string, h: number, p: Payload, outcome: Cached): void {
    const now = this.now();
    this.trim(now, true);
    // The key is new to the table: check() forgot it if it had expired there.
    const bytes = (key.length + p.productId.length) * UNIT_BYTES;
    while (!this.table.hasRoom(bytes)) this.makeRoom();
    const t = this.table;
    const e = t.append(key, h, p.productId);
    const base = t.entryBase(e);
    t.i32[base + E_KIND] = p.kind;
    t.setNumber(e, E_DELTA, p.delta);
    t.setNumber(e, E_EXPECTED, p.expected);
    t.setNumber(e, E_EXPIRES, now + this.ttlMs);
    t.i32[base + E_STATE] = this.storeOutcome(t, e, p, outcome);
  }

  /** Writes `outcome` into entry `e` as numbers if it can; returns the entry's state. */
  private storeOutcome(t: IdempotencyTable, e: number, p: Payload, outcome: Cached): number {
    // As numbers: an update's outcomes about the product it named (the id is the
    // payload's, already in the table). Anything else is kept as an object.
    if (p.kind === UPDATE && 'productId' in outcome && outcome.productId === p.productId) {
      switch (outcome.status) {
        case 'applied': {
          const ms = this.msOf(outcome.lastUpdated);
          if (Number.isNaN(ms)) break;
          t.setNumber(e, E_AVAILABLE, outcome.available);
          t.setNumber(e, E_VERSION, outcome.version);
          t.setNumber(e, E_LAST_UPDATED, ms);
          t.setNumber(e, E_OFFSET, outcome.offset);
          return OUTCOME_APPLIED;
        }
        case 'version_conflict':
        case 'insufficient_inventory':
          if ('failedItem' in outcome) break;
          t.setNumber(e, E_AVAILABLE, outcome.available);
          t.setNumber(e, E_VERSION, outcome.version);
          return outcome.status === 'version_conflict'
            ? OUTCOME_VERSION_CONFLICT
            : OUTCOME_INSUFFICIENT;
        case 'product_not_found':
          if ('failedItem' in outcome) break;
          return OUTCOME_NOT_FOUND;
      }
    }
    const id = this.nextSide;
    // Numbers fit E_SIDE's Int32 word; one wraps after 2^31 - 1 orders, long expired.
    this.nextSide = id === 0x7fffffff ? 1 : id + 1;
    // A copy: the caller that received `outcome` may change it.
    this.side.set(id, { fingerprint: p.fingerprint, outcome: copyOutcome(outcome) });
    t.i32[t.entryBase(e) + E_SIDE] = id;
    return OUTCOME_SIDE;
  }

  /**
   * Milliseconds whose ISO string (clock.ts) is `iso` exactly, or NaN: a replay must
   * give back the very string. Calls of one batch share a few milliseconds, so the
   * last one answers most.
   */
  private msOf(iso: string): number {
    if (iso === this.isoText) return this.isoMs;
    const ms = Date.parse(iso);
    if (isoTime(ms) !== iso) return Number.NaN;
    this.isoText = iso;
    this.isoMs = ms;
    return ms;
  }

  /**
   * The table has no room for one more key: a bigger table while below maxKeys places,
   * or a bigger arena (long keys) at maxKeys; at maxKeys places and full, the oldest
   * goes (trim() has normally made that room already).
   */
  private makeRoom(): void {
    const t = this.table;
    if (t.count < t.capacity) {
      this.table = IdempotencyTable.grownFrom(t, t.capacity, t.arenaBytes * 2);
    } else if (t.capacity < this.maxKeys) {
      const places = Math.min(t.capacity * 2, this.maxKeys);
      this.table = IdempotencyTable.grownFrom(
        t,
        places,
        Math.max(t.arenaBytes * 2, arenaFor(places)),
      );
    } else {
      const e = t.head;
      if (t.i32[t.entryBase(e) + E_STATE] !== ENTRY_EMPTY) this.forget(e);
      t.dropHead();
    }
  }

  /**
   * Makes room for one more key, about to be remembered (`needsPlace`: it also takes a
   * place in the table) or to fly: evicts the oldest past maxKeys, and a few expired.
   * Keys expire in the order they were remembered, so the expired ones are at the head.
   */
  private trim(now: number, needsPlace: boolean): void {
    const t = this.table;
    let swept = 0;
    while (t.count > 0) {
      const e = t.head;
      if (t.i32[t.entryBase(e) + E_STATE] !== ENTRY_EMPTY) {
        // Full: maxKeys keys remembered or in flight, or a table of maxKeys places with
        // no place left (places of keys that expired on lookup are reclaimed only from
        // the head).
        const full =
          t.live + this.inFlight.size >= this.maxKeys ||
          (needsPlace && t.count === t.capacity && t.capacity >= this.maxKeys);
        const expired = t.number(e, E_EXPIRES) <= now;
        if (!full && (swept >= SWEEP || !expired)) return;
        this.forget(e);
        swept++;
      }
      // An empty place (expired on lookup) only holds its place in the ring.
      t.dropHead();
    }
  }

  private forget(e: number): void {
    const t = this.table;
    const base = t.entryBase(e);
    if (t.i32[base + E_STATE] === OUTCOME_SIDE) this.side.delete(t.i32[base + E_SIDE] as number);
    t.remove(e);
  }
}
