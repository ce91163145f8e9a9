/**
 * `npm run bench`: lockstock's engine measured side by side, in one run, against
 * the designs a user would otherwise pick: an in-process single-thread engine, one
 * Piscina task per update, and the raw single-thread locked loop. Ratios are what
 * to read; absolute numbers depend on the machine and its neighbours.
 *
 * Each contender's CPU time per operation (every thread of the process together) is
 * measured once after its rounds: where every core is busy, ops/s cannot exceed
 * cores ÷ that time, which is what bounds lockstock's per-call ratios on few cores.
 *
 *   npm run bench -- [--quick] [--json]
 */
import { parseArgs } from 'node:util';
import { describeMachine, machine } from '../src/cli/machine.js';
import type { InventoryOptions, LockMode, ProductInput } from '../src/index.js';
import { Inventory } from '../src/index.js';
import { SingleThreadInventory } from './baseline.js';
import { drive, type Target, updates } from './drive.js';
import {
  type Contender,
  compare,
  type Measured,
  printRatios,
  printTable,
  type Ratio,
} from './harness.js';
import { NaiveInventory } from './naive.js';
import { rawLockedAdd, rawLockedUpdate, rawStore } from './raw.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(
    [
      'Usage: npm run bench -- [--quick] [--json]',
      '',
      '  --quick  a short run (about a minute, noisier)',
      '  --json   print the results as JSON at the end',
    ].join('\n'),
  );
  process.exit(0);
}
/** Per contender per round, and rounds (interleaved). */
const TIME = values.quick ? 250 : 700;
const ROUNDS = values.quick ? 3 : 5;
/** Idempotency keys both engines hold: filled before measuring, so both run at steady state. */
const KEYS = values.quick ? 100_000 : 1_000_000;

function products(count: number, available = 1e12): ProductInput[] {
  return Array.from({ length: count }, (_, i) => ({
    productId: `SKU-${i}`,
    name: `Product ${i}`,
    available,
    price: 1,
  }));
}

function open(options: InventoryOptions): Promise<Inventory> {
  return Inventory.open({ logger: { level: 'silent' }, ...options });
}

/** One iteration: `total` updates, `window` in flight, each keyed when `keyed`. */
function perCall(engine: Target, ids: string[], total: number, window: number, keyed: boolean) {
  return drive(engine, updates(ids, total), window, keyed);
}

const results: Record<string, Measured> = {};
const ratios: Ratio[] = [];

async function measureAll(title: string, contenders: Contender[]) {
  const measured = await compare(contenders, TIME, ROUNDS, 5, true);
  for (const m of measured) results[m.name] = m;
  printTable(title, measured);
}

function ratio(name: string, a: string, b: string, target: number | null) {
  const value = (results[a]?.opsPerSec ?? 0) / (results[b]?.opsPerSec ?? 1);
  ratios.push({ name, value, target });
}

const LS = 'lockstock 2 workers';
const ST = 'single-thread engine';

async function routing() {
  const catalog = products(1000);
  const ids = catalog.map((p) => p.productId);
  // 20 000 calls per iteration, 2 000 in flight at a time.
  const N = 20_000;
  const W = 2_000;
  for (const workUs of [0, 5]) {
    const idempotency = { maxKeys: KEYS };
    const single = new SingleThreadInventory({ products: catalog, workUs, idempotency });
    const inv = await open({ workers: 2, products: catalog, simulate: { workUs }, idempotency });
    await perCall(single, ids, KEYS, W, true)();
    await perCall(inv, ids, KEYS, W, true)();
    const w = `work ${workUs} µs`;
    const contenders: Contender[] = [
      { name: `${ST}, per call + key, ${w}`, ops: N, fn: perCall(single, ids, N, W, true) },
      { name: `${LS}, per call + key, ${w}`, ops: N, fn: perCall(inv, ids, N, W, true) },
      { name: `${ST}, per call, no key, ${w}`, ops: N, fn: perCall(single, ids, N, W, false) },
      { name: `${LS}, per call, no key, ${w}`, ops: N, fn: perCall(inv, ids, N, W, false) },
    ];
    let naive: NaiveInventory | null = null;
    if (workUs === 0) {
      const bulk = ids.flatMap((productId) =>
        Array.from({ length: 20 }, () => ({ productId, delta: -1 })),
      );
      contenders.push({
        name: `${LS}, updateMany`,
        ops: bulk.length,
        fn: () => inv.updateMany(bulk),
      });
      // The naive design is two orders of magnitude slower: a tenth of the calls.
      naive = new NaiveInventory({ products: catalog, workers: 2 });
      const n = naive;
      contenders.push(
        {
          name: 'one Piscina task per update, per call + key',
          ops: N / 10,
          fn: perCall(n, ids, N / 10, W, true),
        },
        {
          name: 'one Piscina task per update, per call, no key',
          ops: N / 10,
          fn: perCall(n, ids, N / 10, W, false),
        },
      );
    }
    await measureAll(`Per-call API, 1000 products, ${w} in each critical section`, contenders);
    await naive?.close();
    await inv.close();
  }
  const v = rawStore(1000);
  const field = new Float64Array(1000).fill(1e15);
  const RAW = 200_000;
  await measureAll('The physical limit of one thread', [
    {
      name: 'raw loop: lock, add to a field, unlock',
      ops: RAW,
      fn: () => rawLockedAdd(v, RAW, field),
    },
    {
      name: 'raw loop: lock, publish the record, unlock',
      ops: RAW,
      fn: () => rawLockedUpdate(v, RAW),
    },
  ]);
  ratio(
    'per call + key vs single-thread (work 0 µs)',
    `${LS}, per call + key, work 0 µs`,
    `${ST}, per call + key, work 0 µs`,
    1.5,
  );
  ratio(
    'per call + key vs single-thread (work 5 µs)',
    `${LS}, per call + key, work 5 µs`,
    `${ST}, per call + key, work 5 µs`,
    1.5,
  );
  for (const workUs of [0, 5]) {
    ratio(
      `per call + key vs no key, lockstock (work ${workUs} µs)`,
      `${LS}, per call + key, work ${workUs} µs`,
      `${LS}, per call, no key, work ${workUs} µs`,
      0.7,
    );
  }
  ratio(
    'per call, no key vs single-thread (work 0 µs)',
    `${LS}, per call, no key, work 0 µs`,
    `${ST}, per call, no key, work 0 µs`,
    0.35,
  );
  ratio(
    'per call, no key vs single-thread (work 5 µs)',
    `${LS}, per call, no key, work 5 µs`,
    `${ST}, per call, no key, work 5 µs`,
    null,
  );
  ratio(
    'per call + key vs one task per update',
    `${LS}, per call + key, work 0 µs`,
    'one Piscina task per update, per call + key',
    20,
  );
  ratio(
    'per call, no key vs one task per update',
    `${LS}, per call, no key, work 0 µs`,
    'one Piscina task per update, per call, no key',
    20,
  );
  ratio(
    'updateMany vs raw loop (lock, publish, unlock)',
    `${LS}, updateMany`,
    'raw loop: lock, publish the record, unlock',
    0.2,
  );
  ratio(
    'updateMany vs raw loop (lock, add, unlock)',
    `${LS}, updateMany`,
    'raw loop: lock, add to a field, unlock',
    null,
  );
}

async function scaling() {
  const scenarios = [
    { label: 'hold 100 µs', simulate: { holdUs: 100 }, n: 400 },
    { label: 'work 5 µs', simulate: { workUs: 5 }, n: 4000 },
  ];
  for (const s of scenarios) {
    // Disjoint products: each update of an iteration names a different product.
    const catalog = products(s.n);
    const ids = catalog.map((p) => p.productId);
    const engines: Inventory[] = [];
    const contenders: Contender[] = [];
    for (const workers of [1, 2, 4]) {
      for (const lockMode of ['fine', 'global'] as LockMode[]) {
        const inv = await open({ workers, lockMode, products: catalog, simulate: s.simulate });
        engines.push(inv);
        contenders.push({
          name: `${s.label}, ${lockMode}, ${workers} workers`,
          ops: s.n,
          fn: perCall(inv, ids, s.n, s.n, false),
        });
      }
    }
    await measureAll(
      `Fine vs global lock, ${s.label} in each critical section, ${s.n} disjoint products`,
      contenders,
    );
    await Promise.all(engines.map((e) => e.close()));
  }
  ratio(
    'hold 100 µs, 4 workers: fine vs global',
    'hold 100 µs, fine, 4 workers',
    'hold 100 µs, global, 4 workers',
    3.5,
  );
  ratio(
    'hold 100 µs, fine: 4 workers vs 1',
    'hold 100 µs, fine, 4 workers',
    'hold 100 µs, fine, 1 workers',
    3.5,
  );
  ratio(
    'hold 100 µs, fine: 2 workers vs 1',
    'hold 100 µs, fine, 2 workers',
    'hold 100 µs, fine, 1 workers',
    null,
  );
  ratio(
    'work 5 µs, fine: 2 workers vs 1',
    'work 5 µs, fine, 2 workers',
    'work 5 µs, fine, 1 workers',
    null,
  );
  ratio(
    'work 5 µs, 2 workers: fine vs global',
    'work 5 µs, fine, 2 workers',
    'work 5 µs, global, 2 workers',
    null,
  );
}

const host = machine();
console.log(`lockstock engine benchmarks — ${describeMachine(host)}`);
await routing();
await scaling();
printRatios(`Ratios (measured side by side in this run, ${host.cores} cores)`, ratios);
if (values.json)
  console.log(JSON.stringify({ machine: host, results: Object.values(results), ratios }, null, 2));
