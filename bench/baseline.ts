/**
 * The honest baseline: the in-process, single-thread engine a user might write
 * instead of lockstock. Same semantics (validation, OCC, never-negative stock,
 * versions, gap-free offsets, idempotency with the same cache, ISO timestamps), same
 * promise-per-call API, no threads, no shared memory, no locks: one Map of records
 * mutated on the caller's thread.
 *
 * It shares lockstock's validation, idempotency cache and timestamp formatting, so
 * that a comparison measures the architecture (routing through batches to threads)
 * and not differences in those pieces.
 */
import { isoTime } from '../src/clock.js';
import { IdempotencyCache, orderPayload, type Payload, updatePayload } from '../src/idempotency.js';
import { readOrder, readUpdate } from '../src/requests.js';
import type {
  OrderOutcome,
  OrderRequest,
  Product,
  ProductInput,
  UpdateOutcome,
  UpdateRequest,
} from '../src/types.js';
import { simulation } from '../workers/simulate.js';

interface Row {
  productId: string;
  name: string;
  available: number;
  price: number;
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
  private offset = 0;

  constructor(options: BaselineOptions) {
    const now = Date.now();
    for (const p of options.products) {
      this.rows.set(p.productId, {
        productId: p.productId,
        name: p.name ?? '',
        available: p.available,
        price: p.price ?? 0,
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
    return this.apply(request);
  }

  async updateMany(requests: readonly UpdateRequest[]): Promise<UpdateOutcome[]> {
    return requests.map((r) => this.apply(r));
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
    const copy = readOrder(request, 1024);
    if ('status' in copy) return copy;
    const key = copy.key;
    const payload = key === undefined ? null : orderPayload(copy.items);
    if (key !== undefined) {
      const cached = this.idem.lookup(key, payload as Payload);
      if (cached !== undefined) return cached as OrderOutcome;
    }
    const outcome = this.applyOrder(request);
    if (key !== undefined) this.idem.remember(key, payload as Payload, outcome);
    return outcome;
  }

  private applyOrder(request: OrderRequest): OrderOutcome {
    const rows: Row[] = [];
    for (let i = 0; i < request.items.length; i++) {
      const item = request.items[i] as UpdateRequest;
      const row = this.rows.get(item.productId);
      if (row === undefined)
        return { status: 'product_not_found', productId: item.productId, failedItem: i };
      this.simulate?.();
      if (item.expectedVersion !== undefined && item.expectedVersion !== row.version) {
        return {
          status: 'version_conflict',
          productId: item.productId,
          version: row.version,
          available: row.available,
          failedItem: i,
        };
      }
      if (row.available + item.delta < 0) {
        return {
          status: 'insufficient_inventory',
          productId: item.productId,
          available: row.available,
          version: row.version,
          failedItem: i,
        };
      }
      rows.push(row);
    }
    const now = Date.now();
    const items = rows.map((row, i) => {
      row.available += (request.items[i] as UpdateRequest).delta;
      row.version++;
      row.lastUpdated = now;
      return {
        productId: row.productId,
        available: row.available,
        version: row.version,
        lastUpdated: isoTime(now),
        offset: ++this.offset,
      };
    });
    return { status: 'applied', items };
  }

  private apply(request: UpdateRequest): UpdateOutcome {
    const copy = readUpdate(request, '', 'request.', true);
    if ('status' in copy) return copy;
    const key = copy.key;
    let payload: Payload | null = null;
    if (key !== undefined) {
      payload = updatePayload(copy);
      // Everything here completes synchronously: nothing is ever in flight.
      const cached = this.idem.lookup(key, payload);
      if (cached !== undefined) return cached as UpdateOutcome;
    }
    const outcome = this.applyUpdate(request);
    if (key !== undefined) this.idem.remember(key, payload as Payload, outcome);
    return outcome;
  }

  private applyUpdate(request: UpdateRequest): UpdateOutcome {
    const row = this.rows.get(request.productId);
    if (row === undefined) return { status: 'product_not_found', productId: request.productId };
    this.simulate?.();
    if (request.expectedVersion !== undefined && request.expectedVersion !== row.version) {
      return {
        status: 'version_conflict',
        productId: row.productId,
        version: row.version,
        available: row.available,
      };
    }
    const next = row.available + request.delta;
    if (next < 0) {
      return {
        status: 'insufficient_inventory',
        productId: row.productId,
        available: row.available,
        version: row.version,
      };
    }
    row.available = next;
    row.version++;
    row.lastUpdated = Date.now();
    return {
      status: 'applied',
      productId: row.productId,
      available: next,
      version: row.version,
      lastUpdated: isoTime(row.lastUpdated),
      offset: ++this.offset,
    };
  }
}
