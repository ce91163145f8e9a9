/**
 * The honest baseline: the in-process, single-thread engine a user might write
 * instead of lockstock. Same semantics, same promise-per-call API, no threads, no
 * shared memory, no locks: one Map of records mutated on the caller's thread.
 *
 * It reads requests (src/requests.ts), decides (memory/rules.ts), builds outcomes
 * (src/outcomes.ts) and remembers keys (src/idempotency.ts) with lockstock's own
 * code, so that a comparison measures the architecture (routing through batches to
 * threads) and not differences in those pieces, and so that it cannot drift from the
 * engine's rules (test/engines/conformance.test.ts holds it to the same answers).
 */
import { STATUS_APPLIED } from '../memory/protocol.js';
import { decideStock } from '../memory/rules.js';
import { isoTime } from '../src/clock.js';
import {
  type Cached,
  IdempotencyCache,
  KEYS_FULL,
  orderPayload,
  type Payload,
  updatePayload,
} from '../src/idempotency.js';
import { initialProducts } from '../src/initial.js';
import { MAX_ORDER_ITEMS, resolveOptions } from '../src/options.js';
import { failedOrder, type StockOutcome, stockOutcome } from '../src/outcomes.js';
import { readOrder, readUpdate, type UpdateCopy } from '../src/requests.js';
import type {
  Applied,
  OrderOutcome,
  OrderRequest,
  Product,
  ProductInput,
  UpdateOutcome,
  UpdateRequest,
} from '../src/types.js';
import { simulation } from '../workers/simulate.js';

/** A stock change's outcome when the rule refuses it. */
type Refusal = Exclude<StockOutcome, Applied>;

interface Row {
  readonly productId: string;
  readonly name: string;
  readonly price: number;
  available: number;
  version: number;
  lastUpdated: number;
}

export interface BaselineOptions {
  products: readonly ProductInput[];
  idempotency?: { ttlMs?: number; maxKeys?: number };
  /** CPU spin per update, as lockstock's simulate.workUs. */
  workUs?: number;
  /**
   * Blocking wait per update, as lockstock's simulate.holdUs: on one thread, I/O done
   * while holding the data blocks everything, which is what this engine would do.
   */
  holdUs?: number;
}

export class SingleThreadInventory {
  private readonly rows = new Map<string, Row>();
  private readonly idem: IdempotencyCache;
  private readonly simulate: (() => void) | null;
  /** The last offset taken: each initial product took one, as in lockstock. */
  private offset = 0;

  constructor(options: BaselineOptions) {
    const now = Date.now();
    // The same checks of the initial catalog as Inventory.open.
    for (const p of initialProducts(
      resolveOptions({ products: [...options.products] }, {}).products,
    )) {
      this.rows.set(p.productId, {
        productId: p.productId,
        name: p.name,
        price: p.price,
        available: p.available,
        version: 1,
        lastUpdated: now,
      });
      this.offset++;
    }
    this.idem = new IdempotencyCache(
      options.idempotency?.ttlMs ?? 120_000,
      options.idempotency?.maxKeys ?? 1_000_000,
    );
    this.simulate = simulation(options.workUs ?? 0, options.holdUs ?? 0);
  }

  async update(request: UpdateRequest): Promise<UpdateOutcome> {
    return this.keyedUpdate(request);
  }

  async updateMany(requests: readonly UpdateRequest[]): Promise<UpdateOutcome[]> {
    return requests.map((r) => this.keyedUpdate(r));
  }

  get(productId: string): Product | undefined {
    const row = this.rows.get(productId);
    if (row === undefined) return undefined;
    return {
      productId: row.productId,
      name: row.name,
      available: row.available,
      price: row.price,
      version: row.version,
      lastUpdated: isoTime(row.lastUpdated),
    };
  }

  async order(request: OrderRequest): Promise<OrderOutcome> {
    const copy = readOrder(request, MAX_ORDER_ITEMS);
    if ('status' in copy) return copy;
    const key = copy.key;
    if (key === undefined) return this.applyOrder(copy.items);
    const payload = orderPayload(copy.items);
    const hit = this.cached(key, payload);
    if (hit !== undefined) return hit as OrderOutcome;
    const outcome = this.applyOrder(copy.items);
    this.remember(key, payload, outcome);
    return outcome;
  }

  /** Nothing to release: kept so that every engine under test closes the same way. */
  async close(): Promise<void> {}

  private keyedUpdate(request: UpdateRequest): UpdateOutcome {
    const copy = readUpdate(request, '', 'request.', true);
    if ('status' in copy) return copy;
    const key = copy.key;
    if (key === undefined) return this.applyUpdate(copy);
    const payload = updatePayload(copy);
    const hit = this.cached(key, payload);
    if (hit !== undefined) return hit as UpdateOutcome;
    const outcome = this.applyUpdate(copy);
    this.remember(key, payload, outcome);
    return outcome;
  }

  /**
   * The cache's answer for a key, if it has one. Every call completes before the next
   * starts, so no key is ever in flight: the answer is never a promise, and KEYS_FULL
   * (maxKeys keys in flight) cannot happen.
   */
  private cached(key: string, payload: Payload): Cached | undefined {
    const hit = this.idem.lookup(key, payload);
    return hit === KEYS_FULL ? undefined : (hit as Cached | undefined);
  }

  /**
   * Remembers an outcome under its key, as IdempotencyCache.complete does for a
   * request that was in flight: a request found malformed (a delta past MAX_STOCK)
   * records nothing, so the same request may apply once stock allows it.
   */
  private remember(key: string, payload: Payload, outcome: Cached): void {
    if (outcome.status !== 'invalid_request') this.idem.remember(key, payload, outcome);
  }

  private applyUpdate(copy: UpdateCopy): UpdateOutcome {
    const row = this.rows.get(copy.productId);
    if (row !== undefined) this.simulate?.();
    const status = decide(row, copy);
    if (status !== STATUS_APPLIED) return refusal(status, copy, row, 'delta');
    const r = row as Row;
    this.applyRow(r, copy.delta);
    return stockOutcome(
      STATUS_APPLIED,
      r.productId,
      r.available,
      r.version,
      r.lastUpdated,
      ++this.offset,
    ) as Applied;
  }

  private applyRow(row: Row, delta: number): void {
    row.available += delta;
    row.version++;
    // Never earlier than the product's last change, as lockstock stamps it.
    row.lastUpdated = Math.max(Date.now(), row.lastUpdated);
  }

  /** All items or none, checked in item order; the items take consecutive offsets. */
  private applyOrder(items: readonly UpdateCopy[]): OrderOutcome {
    const rows: Row[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as UpdateCopy;
      const row = this.rows.get(item.productId);
      if (row !== undefined) this.simulate?.();
      const status = decide(row, item);
      if (status !== STATUS_APPLIED) {
        return failedOrder(refusal(status, item, row, `items[${i}].delta`), i);
      }
      rows[i] = row as Row;
    }
    const applied: Omit<Applied, 'status'>[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const row = rows[i] as Row;
      this.applyRow(row, (items[i] as UpdateCopy).delta);
      applied[i] = {
        productId: row.productId,
        available: row.available,
        version: row.version,
        lastUpdated: isoTime(row.lastUpdated),
        offset: ++this.offset,
      };
    }
    return { status: 'applied', items: applied };
  }
}

/** The rule's verdict (memory/rules.ts) on a change of `copy` to `row`, if it exists. */
function decide(row: Row | undefined, copy: UpdateCopy): number {
  return row === undefined
    ? decideStock(false, 0, 0, copy.delta, copy.expected)
    : decideStock(true, row.version, row.available, copy.delta, copy.expected);
}

/** The outcome of a change the rule refused with `status`; `deltaField` names the delta. */
function refusal(
  status: number,
  copy: UpdateCopy,
  row: Row | undefined,
  deltaField: string,
): Refusal {
  const available = row?.available ?? 0;
  const version = row?.version ?? 0;
  return stockOutcome(status, copy.productId, available, version, 0, 0, deltaField) as Refusal;
}
