/**
 * Writing rows into the router's staging batches: the one place that fills the
 * columns every row has. Each call's module (stock-calls.ts, admin-calls.ts) adds only
 * the columns of its own kind.
 */
import type { Catalog } from './catalog.js';
import type { Batch, Router } from './router.js';

export class RowWriter {
  constructor(
    private readonly router: Router,
    private readonly catalog: Catalog,
  ) {}

  /**
   * Claims `count` rows in the partition of `slot` (an order's rows travel with its
   * lowest slot); they are `batch.rows - count` to `batch.rows - 1`.
   */
  claim(slot: number, count: number): Batch {
    const b = this.router.claim(slot, count);
    b.rows += count;
    return b;
  }

  /** Fills row `r` with the columns every row has: what it is, which product, how much. */
  fill(
    b: Batch,
    r: number,
    kind: number,
    slot: number,
    productId: string,
    amount: number,
    expected: number,
  ): void {
    const c = b.columns;
    c.kind[r] = kind;
    c.slot[r] = slot;
    c.generation[r] = this.catalog.generations[slot] as number;
    c.amount[r] = amount;
    c.expected[r] = expected;
    c.key[r] = -1;
    // Read after a thread's death: a row it prepared has its offset here (thread-death.ts).
    c.resOffset[r] = 0;
    b.ids[r] = productId;
  }

  /** Claims and fills one row; it is the batch's last. */
  row(kind: number, slot: number, productId: string, amount: number, expected: number): Batch {
    const b = this.claim(slot, 1);
    this.fill(b, b.rows - 1, kind, slot, productId, amount, expected);
    return b;
  }
}
