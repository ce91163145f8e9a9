/**
 * The engine API that issue 6 (durability) is adding on main, declared here with the
 * names and shapes agreed for it, so that the HTTP routes that need it are written
 * against exactly those names and build before it lands.
 *
 * DELETE THIS FILE when main has the API: then `npm run typecheck` checks those routes
 * against the real signatures (the declarations below merge with the real ones, so
 * while this file exists a mismatch would not show). test/http/engine-next.test.ts
 * fails as soon as the engine has `changes`, to say so. The routes that use it:
 * routes/events.ts, routes/snapshot.ts, the `available` of routes/admin.ts's set, the
 * `durableOffset` of routes/health.ts, and `--data-dir`/`--durability` (config.ts).
 */
import { Inventory } from '../inventory.js';

/** One change of the journal, as `changes()` returns it. */
interface ChangeItem {
  offset: number;
  type:
    | 'inventory_updated'
    | 'product_created'
    | 'product_modified'
    | 'product_deleted'
    | 'aborted';
  productId: string;
  delta?: number;
  available: number;
  version: number;
  lastUpdated: string;
  name?: string;
  price?: number;
  idempotencyKey?: string;
  order?: unknown;
}

declare module '../inventory.js' {
  interface Inventory {
    /**
     * Changes after offset `after` (default 0), at most `limit` (default 100); waits up
     * to `waitMs` for the first when there is none. `next` is the last offset returned.
     * Rejects InventoryError OFFSET_EXPIRED (with `oldest`) when `after` is no longer kept.
     */
    changes(options?: { after?: number; limit?: number; waitMs?: number }): Promise<{
      items: ChangeItem[];
      next: number;
      hasMore: boolean;
    }>;
    /** One consistent cut of the catalog, and the offset it was taken at. */
    snapshot(): Promise<{
      lastOffset: number;
      timestamp: string;
      total: number;
      products: Iterable<import('../types.js').Product>;
    }>;
  }
}

declare module '../types.js' {
  interface InventoryOptions {
    /** Keep the journal and snapshots here (else INVENTORY_DATA_DIR). */
    dataDir?: string;
    /** Acknowledge after fdatasync, or after write (else INVENTORY_DURABILITY). */
    durability?: 'fsync' | 'write';
  }
  interface SetProductRequest {
    /** An absolute count after a stock take. */
    available?: number;
  }
  interface EngineStats {
    /**
     * The largest offset below which every change is on disk. Optional here only so
     * that the engine's own stats() builds before it sets it; main declares it required.
     */
    durableOffset?: number;
  }
}

/**
 * Whether an engine has issue 6's API. Until it does, the routes that need it answer
 * 501 (not_implemented) instead of failing on a missing method. Asked of the engine
 * object itself, so the routes' own logic can be tested today over a stand-in engine.
 */
export function hasJournal(inventory: Partial<Inventory>): boolean {
  return typeof inventory.changes === 'function' && typeof inventory.snapshot === 'function';
}

/** Whether this build's engine has issue 6's API. */
export const ENGINE_HAS_JOURNAL: boolean = hasJournal(Inventory.prototype);
