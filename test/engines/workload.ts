/**
 * The conformance workload: one seeded sequence of calls that every engine must
 * answer alike. A few scripted passages reach the corners (the stock bound, keys that
 * record nothing, orders failing at a chosen item); seeded steps around them mix
 * applied changes, conflicts, shortages, unknown products, bad requests, replays and
 * reused keys.
 */
import { inspect } from 'node:util';
import { rng } from '../../src/cli/workload.js';
import type { OrderRequest, ProductInput, UpdateRequest } from '../../src/index.js';

export const MAX = Number.MAX_SAFE_INTEGER;
/** Starts 100 units below the bound: the scripted passage walks it across. */
export const BIG = 'BIG';
/** Never created. */
export const GHOST = 'GHOST';

export type Step =
  /** A call sent as is (it may be malformed on purpose). */
  | { readonly kind: 'update'; readonly request: unknown; readonly label: string }
  | { readonly kind: 'order'; readonly request: unknown; readonly label: string }
  /**
   * A read-then-write client: reads the product's version from the engine, sends
   * expectedVersion = that version + skew (at least 1). Skew 0 meets the current
   * version; ±1 does not.
   */
  | {
      readonly kind: 'occ';
      readonly productId: string;
      readonly delta: number;
      readonly skew: number;
      readonly label: string;
    };

export interface Workload {
  readonly products: readonly ProductInput[];
  readonly steps: readonly Step[];
}

export function label(request: unknown): string {
  // inspect never runs a getter, so a request built to throw is described safely.
  return inspect(request, { depth: 4, breakLength: Number.POSITIVE_INFINITY });
}

function update(request: unknown): Step {
  return { kind: 'update', request, label: `update ${label(request)}` };
}

function order(request: unknown): Step {
  return { kind: 'order', request, label: `order ${label(request)}` };
}

/** Scripted: the stock bound, crossed one way and the other, keyed and not. */
function boundPassage(): Step[] {
  return [
    // MAX − 100 + 150 is past the bound: invalid_request, nothing recorded under 'edge'.
    update({ productId: BIG, delta: 150, idempotencyKey: 'edge' }),
    update({ productId: BIG, delta: 150, idempotencyKey: 'edge' }),
    // Up to the bound exactly: allowed. One more unit: not.
    update({ productId: BIG, delta: 100 }),
    update({ productId: BIG, delta: 1 }),
    update({ productId: BIG, delta: 1, idempotencyKey: 'edge-2' }),
    update({ productId: BIG, delta: -300 }),
    // The same keyed request, now within the bound: it applies, once.
    update({ productId: BIG, delta: 150, idempotencyKey: 'edge' }),
    update({ productId: BIG, delta: 150, idempotencyKey: 'edge' }),
    update({ productId: BIG, delta: 151, idempotencyKey: 'edge' }),
    // An order whose second item crosses the bound is malformed as a whole.
    order({
      items: [
        { productId: 'P0', delta: 1 },
        { productId: BIG, delta: 200 },
      ],
    }),
    order({ items: [{ productId: BIG, delta: 200 }], idempotencyKey: 'edge-order' }),
    update({ productId: BIG, delta: -60 }),
    order({ items: [{ productId: BIG, delta: 200 }], idempotencyKey: 'edge-order' }),
    order({ items: [{ productId: BIG, delta: 200 }], idempotencyKey: 'edge-order' }),
    // A delta that is itself no safe integer never reaches the rule.
    update({ productId: BIG, delta: MAX + 1 }),
  ];
}

/** Scripted: what a key records, and what it does not. */
function keyPassage(): Step[] {
  const throwing = {
    get productId(): string {
      throw new Error('getter failed');
    },
    delta: 1,
  };
  return [
    // Malformed: nothing recorded, so the key is still free for a good request.
    update({ productId: 'P1', delta: 0, idempotencyKey: 'bad-then-good' }),
    update({ productId: 'P1', delta: 2, idempotencyKey: 'bad-then-good' }),
    update({ productId: 'P1', delta: 2, idempotencyKey: 'bad-then-good' }),
    update({ productId: 'P1', delta: 3, idempotencyKey: 'bad-then-good' }),
    // An unknown product is an outcome, and is recorded.
    update({ productId: GHOST, delta: 1, idempotencyKey: 'ghost' }),
    update({ productId: GHOST, delta: 1, idempotencyKey: 'ghost' }),
    update({ productId: 'P1', delta: 1, idempotencyKey: 'ghost' }),
    // So are a conflict and a shortage.
    update({ productId: 'P2', delta: 1, expectedVersion: 999, idempotencyKey: 'conflict' }),
    update({ productId: 'P2', delta: 1, expectedVersion: 999, idempotencyKey: 'conflict' }),
    update({ productId: 'P2', delta: 1, idempotencyKey: 'conflict' }),
    update({ productId: 'P2', delta: -1_000_000, idempotencyKey: 'short' }),
    update({ productId: 'P2', delta: -1_000_000, idempotencyKey: 'short' }),
    // Keys themselves checked.
    update({ productId: 'P1', delta: 1, idempotencyKey: '' }),
    update({ productId: 'P1', delta: 1, idempotencyKey: 'k'.repeat(256) }),
    update({ productId: 'P1', delta: 1, idempotencyKey: 42 }),
    // A field that cannot be read: the call fails, nothing applied.
    { kind: 'update', request: throwing, label: 'update whose productId getter throws' },
  ];
}

/** Scripted: orders failing at a chosen item, malformed orders, keyed orders. */
function orderPassage(): Step[] {
  return [
    // The first item always passes (more stock, no version named): the second fails.
    order({
      items: [
        { productId: 'P2', delta: 1 },
        { productId: GHOST, delta: -1 },
      ],
    }),
    order({
      items: [
        { productId: GHOST, delta: -1 },
        { productId: 'P2', delta: 1 },
      ],
    }),
    // Items are checked in item order: the short first item fails before the unknown one.
    order({
      items: [
        { productId: 'P4', delta: -1_000_000 },
        { productId: GHOST, delta: -1 },
      ],
    }),
    order({
      items: [
        { productId: 'P3', delta: 1 },
        { productId: 'P4', delta: -1_000_000 },
      ],
    }),
    order({
      items: [
        { productId: 'P5', delta: 1, expectedVersion: 999 },
        { productId: 'P3', delta: 1 },
      ],
    }),
    order({
      items: [
        { productId: 'P3', delta: 1 },
        { productId: 'P3', delta: 1 },
      ],
    }),
    order({ items: [] }),
    order({ items: 'P3' }),
    order({ items: [{ productId: 'P3', delta: 0.5 }] }),
    order({ items: [{ productId: 'P3', delta: 1 }], idempotencyKey: '' }),
    order(null),
    order({
      items: [
        { productId: 'P3', delta: 2 },
        { productId: 'P4', delta: 2 },
        { productId: 'P5', delta: 2 },
      ],
      idempotencyKey: 'cart',
    }),
    order({
      items: [
        { productId: 'P3', delta: 2 },
        { productId: 'P4', delta: 2 },
        { productId: 'P5', delta: 2 },
      ],
      idempotencyKey: 'cart',
    }),
    order({
      items: [
        { productId: 'P3', delta: 2 },
        { productId: 'P5', delta: 2 },
        { productId: 'P4', delta: 2 },
      ],
      idempotencyKey: 'cart',
    }),
    // An update's key used for an order is another payload.
    order({ items: [{ productId: 'P1', delta: 2 }], idempotencyKey: 'bad-then-good' }),
  ];
}

/** Malformed updates the seeded steps draw from. */
const MALFORMED: readonly unknown[] = [
  { productId: 'P0', delta: 0 },
  { productId: 'P0', delta: 1.5 },
  { productId: 'P0', delta: Number.NaN },
  { productId: 'P0', delta: Number.POSITIVE_INFINITY },
  { productId: 'P0', delta: '3' },
  { productId: 'P0', delta: -0 },
  { productId: '', delta: 1 },
  { delta: 1 },
  { productId: 'x'.repeat(65), delta: 1 },
  { productId: 'P0', delta: 1, expectedVersion: 0 },
  { productId: 'P0', delta: 1, expectedVersion: 1.5 },
  { productId: 'P0', delta: 1, idempotencyKey: '' },
  null,
  'P0',
  [],
];

/**
 * `count` seeded steps around the scripted passages. Without `orders`, the same steps
 * less every order (for engines that offer no orders).
 */
export function workload(seed: number, count: number): Workload {
  const random = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const nonZero = (lo: number, hi: number) => {
    for (;;) {
      const d = int(lo, hi);
      if (d !== 0) return d;
    }
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
  const shuffled = <T>(xs: readonly T[]): T[] => {
    const out = [...xs];
    for (let i = out.length - 1; i > 0; i--) {
      const j = int(0, i);
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  };
  const ids = ['P0', 'P1', 'P2', 'P3', 'P4', 'P5'];
  const products: ProductInput[] = ids.map((productId, i) => ({
    productId,
    name: `Product ${i}`,
    available: int(0, 20),
    price: 1 + i,
  }));
  products.push({ productId: BIG, name: 'Near the bound', available: MAX - 100, price: 1 });

  const updates: UpdateRequest[] = [];
  const orders: OrderRequest[] = [];
  let keys = 0;
  const seeded = (): Step => {
    const roll = random();
    if (roll < 0.25) {
      return update({ productId: pick([...ids, BIG]), delta: nonZero(-8, 6) });
    }
    if (roll < 0.33) {
      return update({ productId: pick(ids), delta: nonZero(-4, 4), expectedVersion: int(1, 4) });
    }
    if (roll < 0.43) {
      const productId = pick(ids);
      const delta = nonZero(-5, 5);
      const skew = pick([0, 0, 0, -1, 1]);
      return { kind: 'occ', productId, delta, skew, label: `occ ${productId} ${delta} ${skew}` };
    }
    if (roll < 0.55) {
      const r: UpdateRequest = {
        productId: pick([...ids, ...ids, GHOST]),
        delta: nonZero(-6, 6),
        idempotencyKey: `k${keys++}`,
      };
      if (random() < 0.2) r.expectedVersion = int(1, 5);
      updates.push(r);
      return update(r);
    }
    if (roll < 0.63 && updates.length > 0) return update({ ...pick(updates) });
    if (roll < 0.67 && updates.length > 0) {
      const r = pick(updates);
      return update({ ...r, delta: r.delta === 1 ? 2 : r.delta - 1 });
    }
    if (roll < 0.74) return update(pick(MALFORMED));
    if (roll < 0.88) {
      const chosen = shuffled(ids).slice(0, int(1, 3));
      const r: OrderRequest = {
        items: chosen.map((productId) =>
          random() < 0.15
            ? { productId, delta: nonZero(-6, 4), expectedVersion: int(1, 5) }
            : { productId, delta: nonZero(-6, 4) },
        ),
      };
      if (random() < 0.4) {
        r.idempotencyKey = `o${keys++}`;
        orders.push(r);
      }
      return order(r);
    }
    if (roll < 0.94 && orders.length > 0) {
      const r = pick(orders);
      if (random() < 0.7) return order({ ...r, items: r.items.map((i) => ({ ...i })) });
      return order({ ...r, items: r.items.slice(0, -1).concat({ productId: BIG, delta: -1 }) });
    }
    const items = [
      { productId: pick(ids), delta: nonZero(-3, 3) },
      { productId: pick(ids), delta: nonZero(-3, 3) },
    ];
    // Two items on one product (invalid) or on two (a plain order).
    return order({ items });
  };

  const third = Math.floor(count / 3);
  const steps: Step[] = [
    ...boundPassage(),
    ...Array.from({ length: third }, seeded),
    ...keyPassage(),
    ...Array.from({ length: third }, seeded),
    ...orderPassage(),
    ...Array.from({ length: count - 2 * third }, seeded),
  ];
  return { products, steps };
}

/** The same workload without its orders. */
export function withoutOrders(w: Workload): Workload {
  return { products: w.products, steps: w.steps.filter((s) => s.kind !== 'order') };
}
