/**
 * How much V8 heap remembered idempotency keys cost: an engine's heap when empty, and
 * again once `keys` keyed updates have been remembered (the default cap, 1 000 000).
 * The keys themselves should sit in shared memory, off the heap (`arrayBuffers`).
 *
 *   npm run build && node --expose-gc dist/bench/idempotency-heap.js [keys]
 */
import { Inventory } from '../src/index.js';
import { SingleThreadInventory } from './baseline.js';
import { drive, updates } from './drive.js';

const KEYS = Number(process.argv[2] ?? 1_000_000);
const MB = 1024 * 1024;

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) console.warn('run with --expose-gc: figures include garbage');

function heap(): { heapUsed: number; arrayBuffers: number } {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers };
}

function show(label: string, empty: ReturnType<typeof heap>, full: ReturnType<typeof heap>) {
  const mb = (n: number) => `${(n / MB).toFixed(1)} MB`;
  console.log(
    `${label}: heap used ${mb(empty.heapUsed)} empty, ${mb(full.heapUsed)} with ${KEYS} keys ` +
      `(+${mb(full.heapUsed - empty.heapUsed)}); array buffers +${mb(full.arrayBuffers - empty.arrayBuffers)}`,
  );
}

const products = Array.from({ length: 1000 }, (_, i) => ({
  productId: `SKU-${i}`,
  name: `Product ${i}`,
  available: 1e12,
  price: 1,
}));
const ids = products.map((p) => p.productId);

const inv = await Inventory.open({ workers: 2, products, logger: { level: 'silent' } });
const before = heap();
await drive(inv, updates(ids, KEYS), 2000, true)();
const after = heap();
show('lockstock, 2 workers', before, after);
console.log(`  keys remembered: ${inv.stats().idempotencyKeys}`);
await inv.close();

const single = new SingleThreadInventory({ products });
const sBefore = heap();
await drive(single, updates(ids, KEYS), 2000, true)();
show('single-thread engine', sBefore, heap());
