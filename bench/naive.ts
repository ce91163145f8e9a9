/**
 * The naive routing a user might try first: one Piscina task per update. Same
 * validation, idempotency, shared records and locks as lockstock; every update pays
 * a whole task round trip.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { createBuffer, type SharedViews } from '../memory/layout.js';
import {
  ANY_VERSION,
  STATUS_APPLIED,
  STATUS_INSUFFICIENT,
  STATUS_VERSION_CONFLICT,
} from '../memory/protocol.js';
import { Catalog } from '../src/catalog.js';
import { isoTime } from '../src/clock.js';
import { IdempotencyCache, type Payload, updatePayload } from '../src/idempotency.js';
import { loadInitial } from '../src/initial.js';
import { resolveOptions } from '../src/options.js';
import { readUpdate } from '../src/requests.js';
import type { ProductInput, UpdateOutcome, UpdateRequest } from '../src/types.js';
import type { NaiveResult, NaiveTask } from './naive-worker.js';

export class NaiveInventory {
  private readonly views: SharedViews;
  private readonly catalog: Catalog;
  private readonly pool: Piscina;
  private readonly idem: IdempotencyCache;

  constructor(options: {
    products: ProductInput[];
    workers: number;
    workUs?: number;
    holdUs?: number;
    maxKeys?: number;
  }) {
    this.idem = new IdempotencyCache(120_000, options.maxKeys ?? 1_000_000);
    this.views = createBuffer(Math.max(1, options.products.length));
    this.catalog = new Catalog(this.views.capacity);
    loadInitial(
      this.views,
      this.catalog,
      resolveOptions({ products: options.products }, {}).products,
    );
    this.pool = new Piscina({
      filename: fileURLToPath(new URL('./naive-worker.js', import.meta.url)),
      minThreads: options.workers,
      maxThreads: options.workers,
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData: {
        buffer: this.views.buffer,
        workUs: options.workUs ?? 0,
        holdUs: options.holdUs ?? 0,
      },
    });
  }

  async update(request: UpdateRequest): Promise<UpdateOutcome> {
    const copy = readUpdate(request, '', 'request.', true);
    if ('status' in copy) return copy;
    const key = copy.key;
    const payload = key === undefined ? null : updatePayload(copy);
    if (key !== undefined) {
      const hit = this.idem.lookup(key, payload as Payload);
      if (hit !== undefined) return hit as UpdateOutcome | Promise<UpdateOutcome>;
    }
    const slot = this.catalog.slotOf(request.productId);
    if (slot === undefined) return { status: 'product_not_found', productId: request.productId };
    const task: NaiveTask = {
      slot,
      generation: this.catalog.generations[slot] as number,
      delta: request.delta,
      expected: request.expectedVersion ?? ANY_VERSION,
    };
    const pending = this.pool.run(task).then((r: NaiveResult) => outcome(request.productId, r));
    if (key === undefined) return pending;
    const entry = this.idem.begin(key, payload as Payload, pending);
    const result = await pending;
    this.idem.complete(entry, result);
    return result;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

function outcome(productId: string, r: NaiveResult): UpdateOutcome {
  if (r.status === STATUS_APPLIED) {
    return {
      status: 'applied',
      productId,
      available: r.available,
      version: r.version,
      lastUpdated: isoTime(r.lastUpdated),
      offset: r.offset,
    };
  }
  if (r.status === STATUS_VERSION_CONFLICT) {
    return { status: 'version_conflict', productId, version: r.version, available: r.available };
  }
  if (r.status === STATUS_INSUFFICIENT) {
    return {
      status: 'insufficient_inventory',
      productId,
      available: r.available,
      version: r.version,
    };
  }
  return { status: 'product_not_found', productId };
}
