/**
 * The thread-scaling scenarios of `lockstock bench`: each a catalog, the work done
 * inside each product's critical section, and the list of operations one iteration
 * sends. Every engine under test runs the same list.
 */
import { ProductPicker, rng } from '../src/cli/workload.js';
import type { ProductInput } from '../src/types.js';
import type { Op } from './drive.js';

export type PeerKind =
  | 'single-thread'
  | 'one-task-per-update'
  | 'redis-lua'
  | 'redis-lua-pipelined';

export interface Scenario {
  /** 1–7, as the issues and the README number them. */
  id: number;
  key: string;
  title: string;
  /** For the chart's panel headings. */
  short: string;
  products: ProductInput[];
  simulate: { workUs: number; holdUs: number };
  /** One iteration's operations. */
  ops: Op[];
  /** Calls in flight. */
  window: number;
  /** Each update and order carries a new idempotency key. */
  keyed: boolean;
  /**
   * Idempotency keys each engine keeps. Capped low enough that the cache is full (at
   * its steady state) within the warm-up, so that every engine measures the same
   * cache, however long it has run.
   */
  maxKeys: number;
  peers: PeerKind[];
}

const STOCK = 1_000_000_000;

function catalog(count: number): ProductInput[] {
  return Array.from({ length: count }, (_, i) => ({
    productId: `P${i}`,
    name: `Product ${i}`,
    available: STOCK,
    price: 1,
  }));
}

export function scenarios(): Scenario[] {
  const random = rng(7);
  const hot = catalog(1000);
  const zipf = new ProductPicker(hot.length, { kind: 'zipf', theta: 0.99 }, random);
  const reads = catalog(1000);
  const uniform = new ProductPicker(reads.length, { kind: 'uniform' }, random);
  const overlapping = catalog(100);
  const orderPick = new ProductPicker(overlapping.length, { kind: 'zipf', theta: 0.5 }, random);
  const cpu = catalog(2000);
  const io = catalog(800);
  const id = (p: ProductInput[], i: number) => (p[i] as ProductInput).productId;
  const wide = catalog(5000);
  const spread = new ProductPicker(wide.length, { kind: 'uniform' }, rng(11));
  // Slow rows with few calls in flight: each tick writes a handful of rows, and they
  // must still reach every free thread (issue 7).
  const fewInFlight = (number: number, window: number): Scenario => ({
    id: number,
    key: `few${window}`,
    short: `${window} in flight, hold 100 µs`,
    title: `${window} calls in flight over 5000 products, I/O-like wait in the lock (hold 100 µs)`,
    products: wide,
    simulate: { workUs: 0, holdUs: 100 },
    ops: Array.from({ length: 2000 }, () => ({
      kind: 'update',
      productId: id(wide, spread.next()),
      delta: -1,
    })),
    window,
    keyed: false,
    maxKeys: 100_000,
    peers: ['single-thread'],
  });
  return [
    {
      id: 1,
      key: 'cpu',
      short: 'CPU work in the lock (5 µs)',
      title: 'disjoint products, CPU work in the lock (work 5 µs)',
      products: cpu,
      simulate: { workUs: 5, holdUs: 0 },
      ops: cpu.map((p) => ({ kind: 'update', productId: p.productId, delta: -1 })),
      window: cpu.length,
      keyed: false,
      maxKeys: 100_000,
      peers: ['single-thread', 'one-task-per-update'],
    },
    {
      id: 2,
      key: 'io',
      short: 'I/O-like wait in the lock (100 µs)',
      title: 'disjoint products, I/O-like wait in the lock (hold 100 µs)',
      products: io,
      simulate: { workUs: 0, holdUs: 100 },
      ops: io.map((p) => ({ kind: 'update', productId: p.productId, delta: -1 })),
      window: io.length,
      keyed: false,
      maxKeys: 100_000,
      peers: ['single-thread', 'one-task-per-update'],
    },
    {
      id: 3,
      key: 'hot',
      short: 'hot keys (zipf 0.99), idempotency keys',
      title:
        'hot keys (zipf 0.99 over 1000 products), every update with an idempotency key (100k kept)',
      products: hot,
      simulate: { workUs: 0, holdUs: 0 },
      ops: Array.from({ length: 5000 }, () => ({
        kind: 'update',
        productId: id(hot, zipf.next()),
        delta: -1,
      })),
      window: 1000,
      keyed: true,
      maxKeys: 100_000,
      peers: ['single-thread', 'one-task-per-update', 'redis-lua', 'redis-lua-pipelined'],
    },
    {
      id: 4,
      key: 'read',
      short: 'read-heavy: 90% get, 10% updates',
      title: 'read-heavy: 90% get, 10% updates (1000 products)',
      products: reads,
      simulate: { workUs: 0, holdUs: 0 },
      ops: Array.from({ length: 20_000 }, (): Op => {
        const productId = id(reads, uniform.next());
        return random() < 0.9
          ? { kind: 'read', productId }
          : { kind: 'update', productId, delta: -1 };
      }),
      window: 1000,
      keyed: false,
      maxKeys: 100_000,
      peers: ['single-thread', 'redis-lua', 'redis-lua-pipelined'],
    },
    {
      id: 5,
      key: 'orders',
      short: '3-product orders, 100 overlapping products',
      title: 'orders of 3 products over 100 overlapping products (hold 20 µs per item)',
      products: overlapping,
      simulate: { workUs: 0, holdUs: 20 },
      ops: Array.from({ length: 500 }, (): Op => {
        const picked = new Set<number>();
        while (picked.size < 3) picked.add(orderPick.next());
        return {
          kind: 'order',
          items: [...picked].map((i) => ({ productId: id(overlapping, i), delta: -1 })),
        };
      }),
      window: 200,
      keyed: false,
      maxKeys: 100_000,
      peers: ['single-thread'],
    },
    fewInFlight(6, 64),
    fewInFlight(7, 32),
  ];
}
