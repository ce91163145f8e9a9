/**
 * Loading the initial catalog straight into the buffer, in chunks.
 *
 * A million products take about a second to check and write; done in one go that
 * second is one stall of the caller's event loop (its timers, its sockets). So the
 * load works for at most CHUNK_MS at a time and then yields with setImmediate, which
 * lets timers and I/O run before the next chunk. Options other than `products` were
 * read and checked before (options.ts); each product is read, checked and written
 * here, once. The buffer is not shared yet, so records are written with plain stores
 * (records.ts, loadRecord). A bad product rejects the open: the caller of this
 * function drops the buffer and the catalog, and no thread has started.
 *
 * The array was copied when open was called; each product object is read once, when
 * its chunk loads. So a caller that changes a product object after calling open, before
 * it resolves, may see the change taken: as with any call, pass what you mean at the call.
 */
import { counter64, HDR_OFFSET, type SharedViews, STATE_LIVE } from '../memory/layout.js';
import { emptyRecord, loadRecord } from '../memory/records.js';
import type { Catalog } from './catalog.js';
import { InventoryError } from './errors.js';
import type { RecoveredInto } from './journal/recover.js';
import { type ProductCopy, readProduct } from './requests.js';
import { compareIds, sortIds } from './sorted-ids.js';

/** The longest the load works before it lets the event loop turn. */
export const CHUNK_MS = 10;
/** Products written between two looks at the clock. */
const STRIDE = 64;

function refused(message: string): InventoryError {
  return new InventoryError('INVALID_OPTION', `option ${message}`);
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Reads and checks product `i` of the initial catalog; an id already in `known`
 * repeats one before it. The one rule for an initial product, for open and the peers.
 */
export function initialProduct(
  value: unknown,
  i: number,
  known: { has(productId: string): boolean },
): ProductCopy {
  let p: ProductCopy | string;
  try {
    p = readProduct(value, () => `products[${i}]`);
  } catch (error) {
    throw refused((error as Error).message);
  }
  if (typeof p === 'string') throw refused(p);
  if (known.has(p.productId)) {
    throw refused(`products[${i}].productId repeats ${JSON.stringify(p.productId)}`);
  }
  return p;
}

/** The initial catalog read and checked in one go: for the benchmark's peers. */
export function initialProducts(products: readonly unknown[]): ProductCopy[] {
  const seen = new Set<string>();
  return products.map((value, i) => {
    const p = initialProduct(value, i, seen);
    seen.add(p.productId);
    return p;
  });
}

/** One load of an initial catalog, run in slices (loadInitial) or in one go. */
class InitialLoad {
  private readonly record = emptyRecord();
  /** The ids in input order, to be sorted once at the end. */
  readonly loaded: string[];
  private next = 0;

  constructor(
    private readonly v: SharedViews,
    private readonly catalog: Catalog,
    private readonly products: readonly unknown[],
  ) {
    this.record.state = STATE_LIVE;
    this.record.version = 1;
    this.record.nameRev = 1;
    this.record.lastUpdated = Date.now();
    this.loaded = new Array<string>(products.length);
    catalog.startLoading();
  }

  /**
   * Reads, checks and writes products until the clock passes `deadline` (looked at
   * every STRIDE products) or none is left; true when none is left.
   */
  run(deadline: number): boolean {
    const { v, catalog, products, record } = this;
    for (let i = this.next; i < products.length; i++) {
      if (i % STRIDE === 0 && i > this.next && performance.now() >= deadline) {
        this.next = i;
        return false;
      }
      const p = initialProduct(products[i], i, catalog);
      const slot = catalog.assign(p.productId);
      this.loaded[i] = p.productId;
      record.generation = catalog.generations[slot] as number;
      record.available = p.available;
      record.price = p.price;
      loadRecord(v, slot, record, p.productId, p.name);
    }
    this.next = products.length;
    return true;
  }

  /** Hands the catalog its ids in order. Each product took one change offset. */
  finish(sorted: readonly string[]): void {
    this.catalog.ordered(sorted);
    Atomics.store(this.v.i64, counter64(HDR_OFFSET), BigInt(this.products.length));
  }
}

/**
 * Reads, checks and writes `products` into the buffer before any worker exists,
 * working at most CHUNK_MS at a time.
 */
export async function loadInitial(
  v: SharedViews,
  catalog: Catalog,
  products: readonly unknown[],
): Promise<void> {
  const load = new InitialLoad(v, catalog, products);
  // A turn before each chunk, the first included: open has run without one since it
  // was called (options, the buffer, the catalog: ~30 ms at a million products).
  do await turn();
  while (!load.run(performance.now() + CHUNK_MS));
  const sorted = await sortIds(load.loaded, CHUNK_MS, turn);
  // And one after the sort, whose last slice the blocks of the order would lengthen.
  await turn();
  load.finish(sorted);
}

/**
 * Hands the catalog the products recovery wrote to slots 0 … count − 1 of the buffer
 * (journal/recover-thread.ts): decodes their ids from the bytes the recovery thread
 * sent and assigns each its slot, at most CHUNK_MS at a time; `lastOffset` is the last
 * change offset the journal holds.
 */
export async function loadRecoveredIds(
  v: SharedViews,
  catalog: Catalog,
  r: Pick<RecoveredInto, 'count' | 'idBytes' | 'idEnds' | 'ascii'>,
  lastOffset: number,
): Promise<void> {
  const bytes = Buffer.from(r.idBytes.buffer, r.idBytes.byteOffset, r.idBytes.byteLength);
  const ids = new Array<string>(r.count);
  catalog.startLoading();
  let start = 0;
  let i = 0;
  let deadline = performance.now() + CHUNK_MS;
  while (i < r.count) {
    const stop = Math.min(r.count, i + 8 * STRIDE);
    // ASCII: one string of the chunk's ids, sliced (byte offsets are string offsets).
    const base = start;
    const chunk = r.ascii ? bytes.toString('latin1', base, r.idEnds[stop - 1] as number) : '';
    for (; i < stop; i++) {
      const end = r.idEnds[i] as number;
      const id = r.ascii
        ? chunk.slice(start - base, end - base)
        : bytes.toString('utf8', start, end);
      start = end;
      ids[i] = id;
      if (catalog.assign(id) !== i) throw new Error(`recovered product ${i} missed its slot`);
    }
    if (i < r.count && performance.now() >= deadline) {
      await turn();
      deadline = performance.now() + CHUNK_MS;
    }
  }
  catalog.ordered(await sortIds(ids, CHUNK_MS, turn));
  Atomics.store(v.i64, counter64(HDR_OFFSET), BigInt(lastOffset));
}

/** The same load in one go, for an engine built in a constructor (the bench's peer). */
export function loadInitialNow(
  v: SharedViews,
  catalog: Catalog,
  products: readonly unknown[],
): void {
  const load = new InitialLoad(v, catalog, products);
  load.run(Number.POSITIVE_INFINITY);
  load.finish(load.loaded.sort(compareIds));
}
