/**
 * Admission of stock changes: `update`, `updateMany` and `order`, from requests
 * already read once (requests.ts) to rows in the router's batches.
 *
 * A request is answered at once when it can be (invalid, unknown product, an
 * idempotency hit, a full queue); a duplicate of a keyed request in flight shares its
 * outcome; otherwise its row is written and its answer waits for the batch (settle.ts).
 */
import { KIND_ORDER, KIND_ORDER_ITEM, KIND_UPDATE, ORDER_PROBE } from '../memory/protocol.js';
import type { Activity } from './activity.js';
import type { Catalog } from './catalog.js';
import {
  type Cached,
  type IdempotencyCache,
  type InFlight,
  KEYS_FULL,
  orderPayload,
  type Payload,
  updatePayload,
} from './idempotency.js';
import { notFound } from './outcomes.js';
import type { OrderCopy, UpdateCopy } from './requests.js';
import type { Batch, Router } from './router.js';
import type { RowWriter } from './rows.js';
import { follow, ManyCall, openPromise, type Sink, takeResolve } from './sinks.js';
import type { InvalidRequest, OrderOutcome, UpdateOutcome } from './types.js';

/** admit*() results: the queue had no room (nothing done) / the row was written. */
export const FULL = Symbol('full');
const ADMITTED = Symbol('admitted');

function ignore(): void {}

export class StockCalls {
  constructor(
    private readonly router: Router,
    private readonly catalog: Catalog,
    private readonly rows: RowWriter,
    private readonly idem: IdempotencyCache,
    private readonly activity: Activity,
  ) {}

  /**
   * Answers an update at once (an outcome, or a duplicate's promise), or writes its
   * row and returns the promise of its outcome. FULL: no room, nothing was done.
   */
  update(u: UpdateCopy): UpdateOutcome | Promise<UpdateOutcome> | typeof FULL {
    return this.admitUpdate(u, null, 0) as UpdateOutcome | Promise<UpdateOutcome> | typeof FULL;
  }

  /**
   * Each request on its own, one outcome each in input order. Rather than answer
   * queue_full it waits for room and feeds its rows as workers take them.
   */
  updateMany(copies: readonly (UpdateCopy | InvalidRequest)[]): Promise<UpdateOutcome[]> {
    const many = new ManyCall<UpdateOutcome>(copies.length);
    this.activity.feed(
      copies.length,
      (i) => {
        const copy = copies[i] as UpdateCopy | InvalidRequest;
        if ('status' in copy) {
          many.deliver(i, copy);
          return true;
        }
        const result = this.admitUpdate(copy, many, i);
        if (result === FULL) return false;
        if (result instanceof Promise) follow(result, many, i);
        else if (result !== ADMITTED) many.deliver(i, result);
        return true;
      },
      (from, error) => {
        for (let i = from; i < copies.length; i++) many.fail(i, error);
      },
    );
    return many.promise;
  }

  /**
   * Answers an update at once, or shares a duplicate's promise, or writes its row. A
   * written row answers `into` at `index` (ADMITTED), or, without `into`, a new
   * promise that is returned.
   */
  private admitUpdate(
    u: UpdateCopy,
    into: Sink<UpdateOutcome> | null,
    index: number,
  ): UpdateOutcome | Promise<UpdateOutcome> | typeof FULL | typeof ADMITTED {
    const key = u.key;
    let payload: Payload | null = null;
    if (key !== undefined) {
      payload = updatePayload(u);
      const hit = this.idem.lookup(key, payload);
      if (hit === KEYS_FULL) return FULL;
      if (hit !== undefined) return hit as UpdateOutcome | Promise<UpdateOutcome>;
    }
    const slot = this.catalog.slotOf(u.productId);
    if (slot === undefined) {
      const outcome = notFound(u.productId);
      if (key !== undefined) this.idem.remember(key, payload as Payload, outcome);
      return outcome;
    }
    if (!this.router.hasRoom(1)) return FULL;
    // The hot path: the row, plus one promise whose resolve function goes beside it;
    // settle() decodes a whole batch in one pass and resolves each row's promise.
    const b = this.rows.row(KIND_UPDATE, slot, u.productId, u.delta, u.expected);
    return this.answerRow(b, b.rows - 1, into, index, key, payload);
  }

  /** All items or none; the worker locks them in ascending slot order. */
  order(o: OrderCopy): OrderOutcome | Promise<OrderOutcome> | typeof FULL {
    const { items, key } = o;
    const payload = key === undefined ? null : orderPayload(items);
    if (key !== undefined) {
      const hit = this.idem.lookup(key, payload as Payload);
      if (hit === KEYS_FULL) return FULL;
      if (hit !== undefined) return hit as OrderOutcome | Promise<OrderOutcome>;
    }
    // Items are checked in item order: an unknown product fails the order only if every
    // item before it passes, which only their locks can tell (a probe, protocol.ts).
    let count = items.length;
    const slots = new Int32Array(count);
    let lowest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < count; i++) {
      const slot = this.catalog.slotOf((items[i] as UpdateCopy).productId);
      if (slot === undefined) {
        count = i;
        break;
      }
      slots[i] = slot;
      if (slot < lowest) lowest = slot;
    }
    if (count === 0) {
      const outcome: OrderOutcome = {
        ...notFound((items[0] as UpdateCopy).productId),
        failedItem: 0,
      };
      if (key !== undefined) this.idem.remember(key, payload as Payload, outcome);
      return outcome;
    }
    if (!this.router.hasRoom(count + 1)) return FULL;
    const b = this.rows.claim(lowest, count + 1);
    const h = b.rows - count - 1;
    const probe = count < items.length;
    const missing = probe ? (items[count] as UpdateCopy).productId : '';
    this.rows.fill(b, h, KIND_ORDER, lowest, missing, probe ? ORDER_PROBE : 0, 0);
    b.columns.aux[h] = count;
    for (let i = 0; i < count; i++) {
      const item = items[i] as UpdateCopy;
      this.rows.fill(
        b,
        h + 1 + i,
        KIND_ORDER_ITEM,
        slots[i] as number,
        item.productId,
        item.delta,
        item.expected,
      );
    }
    return this.answerRow<OrderOutcome>(b, h, null, 0, key, payload) as Promise<OrderOutcome>;
  }

  /**
   * Says where row `r`'s outcome goes: to `into` at `index`, or to a new promise that
   * is returned; with a key, also to the idempotency cache and to the duplicates that
   * arrive while the row is in flight.
   */
  private answerRow<O>(
    b: Batch,
    r: number,
    into: Sink<O> | null,
    index: number,
    key: string | undefined,
    payload: Payload | null,
  ): Promise<O> | typeof ADMITTED {
    let promise: Promise<O> | null = null;
    if (into === null || key !== undefined) {
      promise = openPromise<O>();
      b.resolvers[r] = takeResolve<O>();
    }
    if (into !== null) {
      b.sinks[r] = into as Sink<unknown>;
      b.sinkIndex[r] = index;
    }
    if (key !== undefined) {
      // The key travels with the row into the change log.
      b.columns.key[r] = b.keys.push(key) - 1;
      const shared = promise as Promise<O>;
      b.keyed[r] = this.idem.begin(key, payload as Payload, shared as Promise<Cached>) as InFlight;
      // With a sink, nobody need listen on the shared promise: never leave it unhandled.
      if (into !== null) shared.catch(ignore);
    }
    return into === null ? (promise as Promise<O>) : ADMITTED;
  }
}
