/**
 * The load runner's books: what every operation's outcome said was applied, and the
 * check at the end that the engine's records agree.
 */
import type { OrderOutcome, Product, UpdateOutcome } from '../types.js';

export interface Outcomes {
  applied: number;
  version_conflict: number;
  insufficient_inventory: number;
  not_found: number;
  invalid_request: number;
  queue_full: number;
  /** Re-sent updates answered from the idempotency cache. */
  replayed: number;
  /** OCC re-reads and re-tries after a version conflict. */
  retried: number;
  reads: number;
  lists: number;
}

export interface Violation {
  productId: string;
  check: string;
  expected: number | string;
  actual: number | string;
}

/** Every outcome the runner saw, summed per product. */
export class Tally {
  readonly deltas: Float64Array;
  readonly changes: Int32Array;
  readonly outcomes: Outcomes = {
    applied: 0,
    version_conflict: 0,
    insufficient_inventory: 0,
    not_found: 0,
    invalid_request: 0,
    queue_full: 0,
    replayed: 0,
    retried: 0,
    reads: 0,
    lists: 0,
  };
  readonly violations: Violation[] = [];
  /** Lowest stock any outcome reported. */
  lowest = Number.POSITIVE_INFINITY;

  constructor(products: number) {
    this.deltas = new Float64Array(products);
    this.changes = new Int32Array(products);
  }

  update(product: number, delta: number, o: UpdateOutcome): void {
    this.count(o.status);
    if (o.status === 'applied') {
      this.deltas[product] = (this.deltas[product] as number) + delta;
      this.changes[product] = (this.changes[product] as number) + 1;
    }
    if ('available' in o) this.lowest = Math.min(this.lowest, o.available);
  }

  order(products: number[], deltas: number[], o: OrderOutcome): void {
    this.count(o.status);
    if (o.status !== 'applied') return;
    products.forEach((p, i) => {
      this.deltas[p] = (this.deltas[p] as number) + (deltas[i] as number);
      this.changes[p] = (this.changes[p] as number) + 1;
    });
    for (const item of o.items) this.lowest = Math.min(this.lowest, item.available);
  }

  private count(status: string): void {
    const o = this.outcomes;
    if (status === 'applied') o.applied++;
    else if (status === 'version_conflict') o.version_conflict++;
    else if (status === 'insufficient_inventory') o.insufficient_inventory++;
    else if (status === 'product_not_found') o.not_found++;
    else if (status === 'queue_full') o.queue_full++;
    else o.invalid_request++;
  }
}

/**
 * The books: every product's stock and version against what the runner saw applied.
 * Sound only once every operation issued has settled: an outcome still on its way
 * would read as a lost or a phantom change.
 */
export function verify(
  ids: string[],
  initial: (Product | undefined)[],
  final: (Product | undefined)[],
  tally: Tally,
): Violation[] {
  const violations = [...tally.violations];
  ids.forEach((id, i) => {
    const before = initial[i];
    const after = final[i];
    if (before === undefined || after === undefined) {
      violations.push({
        productId: id,
        check: 'product exists',
        expected: 'present',
        actual: 'missing',
      });
      return;
    }
    const available = before.available + (tally.deltas[i] as number);
    if (after.available !== available) {
      violations.push({
        productId: id,
        check: 'initial + Σ applied deltas = final',
        expected: available,
        actual: after.available,
      });
    }
    const version = before.version + (tally.changes[i] as number);
    if (after.version !== version) {
      violations.push({
        productId: id,
        check: 'version = initial + applied changes',
        expected: version,
        actual: after.version,
      });
    }
    if (after.available < 0) {
      violations.push({
        productId: id,
        check: 'stock never negative',
        expected: '≥ 0',
        actual: after.available,
      });
    }
  });
  if (tally.lowest < 0) {
    violations.push({
      productId: '*',
      check: 'no outcome reported negative stock',
      expected: '≥ 0',
      actual: tally.lowest,
    });
  }
  return violations;
}
