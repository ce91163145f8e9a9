/**
 * Answering a batch that came back: each row's result columns become its outcome
 * (outcomes.ts), which goes to the call's promise or bulk sink, to the idempotency
 * cache under its key, and to the catalog and name cache where the row changed them
 * (a product created, renamed or deleted). A row its worker never reached fails its
 * call instead, with nothing recorded under its key.
 */
import {
  KIND_CREATE,
  KIND_ORDER,
  KIND_SET,
  KIND_UPDATE,
  SET_NAME,
  STATUS_APPLIED,
  STATUS_PENDING,
} from '../memory/protocol.js';
import type { Catalog } from './catalog.js';
import { isoTime } from './clock.js';
import { InventoryError } from './errors.js';
import type { Cached, IdempotencyCache } from './idempotency.js';
import { orderOutcome, rowError, rowOutcome } from './outcomes.js';
import type { NameCache } from './reads.js';
import type { Batch, KeptNames } from './router.js';
import type { LockCounterReader } from './stats.js';
import type { ThreadDeaths } from './thread-death.js';
import type { CreatedProduct, DeleteOutcome, Product, SetOutcome } from './types.js';

export class Settler {
  constructor(
    private readonly idem: IdempotencyCache,
    private readonly catalog: Catalog,
    private readonly names: NameCache,
    private readonly locks: LockCounterReader,
    private readonly deaths: ThreadDeaths,
  ) {}

  /** Answers every row of a completed (or failed) batch, in one pass. */
  settle(b: Batch, error: unknown, names: KeptNames | null): void {
    const c = b.columns;
    if (error !== null) this.rolledForward(b);
    for (let r = 0; r < b.rows; ) {
      const kind = c.kind[r];
      let outcome: unknown;
      if (kind === KIND_UPDATE) outcome = rowOutcome(c, r, b.ids[r] as string);
      else if (kind === KIND_ORDER) outcome = orderOutcome(c, r, b.ids);
      else if (kind === KIND_CREATE) outcome = this.created(b, r);
      else if (kind === KIND_SET) outcome = this.set(b, r, names);
      else outcome = this.deleted(b, r);
      if (outcome !== null) this.answer(b, r, outcome);
      else this.fail(b, r, kind as number, this.failure(b, r, error));
      r += kind === KIND_ORDER ? (c.aux[r] as number) + 1 : 1;
    }
  }

  /**
   * A thread died with this batch: rows whose change it committed were published by
   * the caller's thread (roll forward) and are applied; their result columns were
   * written before the commit. The rest stay pending and fail.
   */
  private rolledForward(b: Batch): void {
    const c = b.columns;
    for (let r = 0; r < b.rows; ) {
      const order = c.kind[r] === KIND_ORDER;
      const first = order ? r + 1 : r;
      if (
        c.status[r] === STATUS_PENDING &&
        (c.resOffset[first] as number) > 0 &&
        this.deaths.rolledForward(c.resOffset[first] as number)
      ) {
        if (order) {
          const count = c.aux[r] as number;
          for (let i = 1; i <= count; i++) {
            this.deaths.rolledForward(c.resOffset[r + i] as number);
            c.status[r + i] = STATUS_APPLIED;
          }
          c.resAux[r] = -1;
        }
        c.status[r] = STATUS_APPLIED;
      }
      r += order ? (c.aux[r] as number) + 1 : 1;
    }
  }

  /**
   * The journal failed before the batch's changes were durable: no row may be answered
   * as if they were. Each fails with `cause`; applied rows were applied in memory.
   */
  notDurable(b: Batch, cause: Error): void {
    const c = b.columns;
    for (let r = 0; r < b.rows; ) {
      const kind = c.kind[r] as number;
      const error = new InventoryError(
        'WORKER_FAILED',
        `the journal failed before this change was durable (${cause.message}); it may be lost on restart`,
        { cause },
      );
      this.fail(b, r, kind, error);
      r += kind === KIND_ORDER ? (c.aux[r] as number) + 1 : 1;
    }
  }

  private answer(b: Batch, r: number, outcome: unknown): void {
    const entry = b.keyed[r];
    if (entry !== undefined) this.idem.complete(entry, outcome as Cached);
    const resolve = b.resolvers[r];
    if (resolve !== undefined) resolve(outcome as never);
    b.sinks[r]?.deliver(b.sinkIndex[r] as number, outcome);
  }

  /** Row `r` was not applied: nothing is cached under its key, so a retry can apply. */
  private fail(b: Batch, r: number, kind: number, error: InventoryError): void {
    const entry = b.keyed[r];
    if (entry !== undefined) this.idem.abandon(entry);
    const resolve = b.resolvers[r];
    if (resolve !== undefined) resolve(Promise.reject(error) as never);
    b.sinks[r]?.fail(b.sinkIndex[r] as number, error);
    // A create applied in memory keeps its slot: the buffer holds the product.
    if (kind === KIND_CREATE && b.columns.status[r] !== STATUS_APPLIED) {
      this.catalog.release(b.columns.slot[r] as number);
    }
  }

  /** The error for a row that was not applied. */
  private failure(b: Batch, r: number, cause: unknown): InventoryError {
    const c = b.columns;
    const subject =
      c.kind[r] === KIND_ORDER
        ? `the order of ${b.ids.slice(r + 1, r + 1 + (c.aux[r] as number)).join(', ')}`
        : `product ${JSON.stringify(b.ids[r])}`;
    const error = rowError(c.status[r] as number, subject);
    if (cause !== null) error.cause = cause;
    return error;
  }

  /** The product a create or set row left behind, as its result columns tell. */
  private product(b: Batch, r: number, name: string): Product {
    const c = b.columns;
    return {
      productId: b.ids[r] as string,
      name,
      available: c.resAvailable[r] as number,
      price: c.price[r] as number,
      version: (c.resVersion[r] as number) >>> 0,
      lastUpdated: isoTime(c.resLastUpdated[r] as number),
    };
  }

  private created(b: Batch, r: number): CreatedProduct | null {
    const c = b.columns;
    if (c.status[r] !== STATUS_APPLIED) return null;
    const name = b.strings[(c.str[r] as number) + 1] as string;
    this.names.set(c.slot[r] as number, c.generation[r] as number, 1, name);
    return { ...this.product(b, r, name), offset: c.resOffset[r] as number };
  }

  private set(b: Batch, r: number, names: KeptNames | null): SetOutcome | null {
    const c = b.columns;
    if (c.status[r] !== STATUS_APPLIED) return rowOutcome(c, r, b.ids[r] as string) as SetOutcome;
    let name: string;
    if (((c.aux[r] as number) & SET_NAME) !== 0) {
      name = b.strings[c.str[r] as number] as string;
    } else {
      // A price-only set: the worker reports the name the product had when it applied.
      name = names?.get(r) ?? '';
    }
    return {
      status: 'applied',
      product: this.product(b, r, name),
      offset: c.resOffset[r] as number,
    };
  }

  private deleted(b: Batch, r: number): DeleteOutcome | null {
    const c = b.columns;
    const productId = b.ids[r] as string;
    if (c.status[r] !== STATUS_APPLIED) return rowOutcome(c, r, productId) as DeleteOutcome;
    const slot = c.slot[r] as number;
    this.locks.retire(slot);
    this.catalog.release(slot);
    return {
      status: 'applied',
      productId,
      version: (c.resVersion[r] as number) >>> 0,
      offset: c.resOffset[r] as number,
    };
  }
}
