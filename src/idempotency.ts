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
 * Keys in flight sit in a small index of their own (keys-in-flight.ts) until their
 * outcome is known. Known outcomes go into a table off the V8 heap
 * (memory/idempotency-table.ts): the key and the payload's text (an update's product
 * id, an order's fingerprint) as bytes, everything else as numbers, so a million
 * remembered keys are no objects at all for the garbage collector to trace. Every
 * outcome the engine produces — an update's applied, version_conflict,
 * insufficient_inventory, product_not_found; an order's applied (its items' numbers) or
 * failed (the item and its numbers) — is rebuilt exactly from those numbers and the
 * payload on a replay. An outcome that could not be (its ids not the payload's, a
 * time the engine's clock would not write: only callers other than the engine) is kept
 * as an object in a side Map. Keys are remembered in order, so the oldest key is
 * always at the table's head, and eviction and expiry work from there in O(1). The
 * table starts small and doubles, up to maxKeys places; long keys may double its arena.
 */
import { randomBytes } from 'node:crypto';
import {
  E_AVAILABLE,
  E_DELTA,
  E_EXPECTED,
  E_EXPIRES,
  E_ITEMS,
  E_KIND,
  E_LAST_UPDATED,
  E_OFFSET,
  E_SIDE,
  E_STATE,
  E_VERSION,
  ENTRY_EMPTY,
  IdempotencyTable,
  ORDER_ITEM_AVAILABLE,
  ORDER_ITEM_BYTES,
  ORDER_ITEM_FLOATS,
  ORDER_ITEM_LAST_UPDATED,
  ORDER_ITEM_OFFSET,
  ORDER_ITEM_VERSION,
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
import { copyOutcome, failedOrder, type StockOutcome, stockOutcome } from './outcomes.js';
import type { UpdateCopy } from './requests.js';
import type { Applied, OrderApplied, OrderOutcome, UpdateOutcome } from './types.js';

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
  /** For orders: the items (a replay takes their product ids from here). */
  readonly items: readonly UpdateCopy[] | null;
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
    items: null,
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
  return { kind: ORDER, productId: '', delta: 0, expected: -1, fingerprint, items };
}

/**
 * The outcomes answered from the cache rather than applied: a replay of the key's first
 * outcome, or a duplicate's copy of one still in flight. Each is an object of its own
 * (one per answer), so the mark is per answer; the HTTP service's Idempotent-Replayed
 * reads it. A WeakSet: the mark goes with the object, and adds no field to an outcome.
 */
const replays = new WeakSet<object>();

/** Whether `outcome` was answered from the idempotency cache: a replay, nothing applied. */
export function isReplay(outcome: object): boolean {
  return replays.has(outcome);
}

function replay<T extends object>(outcome: T): T {
  replays.add(outcome);
  return outcome;
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
  private readonly side = new Map<number, Cached>();
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
      return flying.promise.then((outcome) => replay(copyOutcome(outcome)));
    }
    const t = this.table;
    const e = t.find(key, h);
    if (e < 0) return undefined;
    if (t.number(e, E_EXPIRES) <= this.now()) {
      this.forget(e);
      return undefined;
    }
    const base = t.entryBase(e);
    if (
      t.i32[base + E_KIND] !== payload.kind ||
      t.number(e, E_DELTA) !== payload.delta ||
      t.number(e, E_EXPECTED) !== payload.expected ||
      !t.sameText(e, payload.kind === ORDER ? payload.fingerprint : payload.productId)
    ) {
      return 'reused';
    }
    this.replays++;
    // Each caller gets its own objects: one caller changing its outcome changes no
    // other's. The payload matched byte for byte, so its ids are the ones remembered.
    const state = t.i32[base + E_STATE] as number;
    if (state === OUTCOME_SIDE)
      return replay(copyOutcome(this.side.get(t.i32[base + E_SIDE] as number) as Cached));
    if (payload.kind === ORDER)
      return replay(this.orderReplay(t, e, state, payload.items as readonly UpdateCopy[]));
    return replay(this.stockReplay(t, e, state, payload.productId) as UpdateOutcome);
  }

  /** A stock outcome with entry `e`'s figures, decoded as a row's would be. */
  private stockReplay(t: IdempotencyTable, e: number, state: number, productId: string) {
    const applied = state === OUTCOME_APPLIED;
    return stockOutcome(
      state,
      productId,
      t.number(e, E_AVAILABLE),
      t.number(e, E_VERSION),
      applied ? t.number(e, E_LAST_UPDATED) : 0,
      applied ? t.number(e, E_OFFSET) : 0,
    ) as Exclude<StockOutcome, null>;
  }

  /** An order's outcome rebuilt from entry `e`, its item ids from the payload's items. */
  private orderReplay(
    t: IdempotencyTable,
    e: number,
    state: number,
    items: readonly UpdateCopy[],
  ): OrderOutcome {
    if (state === OUTCOME_APPLIED) {
      const f64 = t.f64;
      let n = t.numbersAt(e);
      const applied: Omit<Applied, 'status'>[] = new Array(items.length);
      for (let i = 0; i < items.length; i++, n += ORDER_ITEM_FLOATS) {
        applied[i] = {
          productId: (items[i] as UpdateCopy).productId,
          available: f64[n + ORDER_ITEM_AVAILABLE] as number,
          version: f64[n + ORDER_ITEM_VERSION] as number,
          lastUpdated: isoTime(f64[n + ORDER_ITEM_LAST_UPDATED] as number),
          offset: f64[n + ORDER_ITEM_OFFSET] as number,
        };
      }
      return { status: 'applied', items: applied };
    }
    const failedItem = t.i32[t.entryBase(e) + E_ITEMS] as number;
    // The item that failed, or for an unknown product, the one it names (which may be
    // past those sent to a worker, but never past the order's items).
    const productId = (items[failedItem] as UpdateCopy).productId;
    return failedOrder(
      this.stockReplay(t, e, state, productId) as Exclude<StockOutcome, Applied | null>,
      failedItem,
    );
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

  /**
   * Remembers a key recovered from the journal as it was first answered at `at` (ms),
   * so that it expires when it would have: open, before any call, in the order the
   * keys were first answered. A key that has expired meanwhile is not remembered.
   * Answers whether it was.
   */
  restore(key: string, p: Payload, outcome: Cached, at: number): boolean {
    if (at + this.ttlMs <= this.now()) return false;
    // Already there (a key is recovered once per change it made): the first stays.
    const h = this.hashOf(key);
    if (this.table.find(key, h) >= 0) return false;
    this.store(key, h, p, outcome, at);
    return true;
  }

  private store(key: string, h: number, p: Payload, outcome: Cached, at?: number): void {
    const wall = this.now();
    const now = at ?? wall;
    this.trim(wall, true);
    // The key is new to the table: check() forgot it if it had expired there.
    const text = p.kind === ORDER ? p.fingerprint : p.productId;
    const state = this.shapeOf(p, outcome);
    const items =
      state === OUTCOME_APPLIED && p.kind === ORDER ? (p.items as UpdateCopy[]).length : 0;
    const numberBytes = items * ORDER_ITEM_BYTES;
    while (!this.table.hasRoom(key, text, numberBytes)) this.makeRoom();
    const t = this.table;
    const e = t.append(key, h, text, numberBytes);
    const base = t.entryBase(e);
    t.i32[base + E_KIND] = p.kind;
    t.i32[base + E_STATE] = state;
    t.setNumber(e, E_DELTA, p.delta);
    t.setNumber(e, E_EXPECTED, p.expected);
    t.setNumber(e, E_EXPIRES, now + this.ttlMs);
    if (state === OUTCOME_SIDE) {
      const id = this.nextSide;
      // Numbers fit E_SIDE's Int32 word; one wraps after 2^31 - 1 of them, long expired.
      this.nextSide = id === 0x7fffffff ? 1 : id + 1;
      // A copy: the caller that received `outcome` may change it.
      this.side.set(id, copyOutcome(outcome));
      t.i32[base + E_SIDE] = id;
      return;
    }
    if (p.kind === ORDER && state !== OUTCOME_APPLIED) {
      t.i32[base + E_ITEMS] = (outcome as { failedItem: number }).failedItem;
    }
    if (state === OUTCOME_APPLIED && p.kind === ORDER) {
      const f64 = t.f64;
      let n = t.numbersAt(e);
      for (const item of (outcome as OrderApplied).items) {
        f64[n + ORDER_ITEM_AVAILABLE] = item.available;
        f64[n + ORDER_ITEM_VERSION] = item.version;
        f64[n + ORDER_ITEM_LAST_UPDATED] = this.msOf(item.lastUpdated);
        f64[n + ORDER_ITEM_OFFSET] = item.offset;
        n += ORDER_ITEM_FLOATS;
      }
      t.i32[base + E_ITEMS] = items;
    } else if (state === OUTCOME_APPLIED) {
      const a = outcome as Applied;
      t.setNumber(e, E_AVAILABLE, a.available);
      t.setNumber(e, E_VERSION, a.version);
      t.setNumber(e, E_LAST_UPDATED, this.msOf(a.lastUpdated));
      t.setNumber(e, E_OFFSET, a.offset);
    } else if (state !== OUTCOME_NOT_FOUND) {
      const o = outcome as { available: number; version: number };
      t.setNumber(e, E_AVAILABLE, o.available);
      t.setNumber(e, E_VERSION, o.version);
    }
  }

  /**
   * How `outcome` is kept: as numbers when a replay can rebuild it exactly from them
   * and the payload (its ids those of the payload, its times ones the engine's clock
   * writes), as an object (OUTCOME_SIDE) otherwise.
   */
  private shapeOf(p: Payload, outcome: Cached): number {
    if (p.kind === UPDATE) {
      if (
        !('productId' in outcome) ||
        outcome.productId !== p.productId ||
        'failedItem' in outcome
      ) {
        return OUTCOME_SIDE;
      }
    } else {
      const items = p.items as readonly UpdateCopy[];
      if ('items' in outcome) {
        if (outcome.items.length !== items.length) return OUTCOME_SIDE;
        for (let i = 0; i < items.length; i++) {
          const item = outcome.items[i] as Omit<Applied, 'status'>;
          if (item.productId !== (items[i] as UpdateCopy).productId) return OUTCOME_SIDE;
          if (Number.isNaN(this.msOf(item.lastUpdated))) return OUTCOME_SIDE;
        }
        return OUTCOME_APPLIED;
      }
      const failed = (outcome as { failedItem?: unknown }).failedItem;
      if (
        !Number.isInteger(failed) ||
        (failed as number) < 0 ||
        (failed as number) >= items.length ||
        !('productId' in outcome) ||
        outcome.productId !== (items[failed as number] as UpdateCopy).productId
      ) {
        return OUTCOME_SIDE;
      }
    }
    switch (outcome.status) {
      case 'applied':
        return Number.isNaN(this.msOf((outcome as Applied).lastUpdated))
          ? OUTCOME_SIDE
          : OUTCOME_APPLIED;
      case 'version_conflict':
        return OUTCOME_VERSION_CONFLICT;
      case 'insufficient_inventory':
        return OUTCOME_INSUFFICIENT;
      case 'product_not_found':
        return OUTCOME_NOT_FOUND;
      default:
        return OUTCOME_SIDE;
    }
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
