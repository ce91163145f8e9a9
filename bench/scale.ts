/**
 * `lockstock bench --scale`: what a large catalog costs, through the public API, at
 * 10 k, 100 k and 1 M products, so that the growth of each figure is visible.
 *
 * Each size runs in a fresh Node process, so that its RSS is its own and no size
 * inherits the heap of another. A figure is one measurement (a median where noted),
 * illustration only: the machine is shared and noisy.
 */
import { fileURLToPath } from 'node:url';
import { table } from '../src/cli/table.js';
import { Inventory } from '../src/index.js';
import {
  asChild,
  catalog,
  childJson,
  engineOptions,
  productId,
  StallMeter,
} from './durable-setup.js';

export const SCALE_SIZES = [10_000, 100_000, 1_000_000];

/** What one size measured. */
export interface ScaleFigures {
  products: number;
  /** Inventory.open, wall clock. */
  openMs: number;
  /** The longest gap a 5 ms interval saw while open ran: the event loop's worst stall. */
  openStallMs: number;
  /** The process's resident set after open, products array included (the caller's). */
  rssMb: number;
  /** lockStats(), median of 5. */
  lockStatsMs: number;
  /** list({ limit: 100 }) right after a create or a delete, median of 10. */
  listAfterChangeMs: number;
  /** get() of an id that arrives as a fresh string, per call. */
  getNs: number;
  /** updateMany of the same rows, ops/s here ÷ ops/s over 1 000 products. */
  updateManyRatio: number;
  updateManyOps: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** ops/s of updateMany over `rows` rows spread over the engine's `count` products. */
async function updateManyRate(inv: Inventory, count: number, rows: number): Promise<number> {
  const requests = Array.from({ length: rows }, (_, i) => ({
    productId: productId(i % count),
    delta: -1,
  }));
  await inv.updateMany(requests.slice(0, Math.min(rows, 10_000)));
  const start = performance.now();
  await inv.updateMany(requests);
  return rows / ((performance.now() - start) / 1000);
}

/** Measures one size in this process. */
async function measureScale(count: number): Promise<ScaleFigures> {
  const products = catalog(count);
  const meter = new StallMeter();
  const opened = performance.now();
  const inv = await Inventory.open(engineOptions(products, null));
  const openMs = performance.now() - opened;
  const stall = meter.take();
  meter.stop();
  try {
    const rssMb = process.memoryUsage().rss / 2 ** 20;
    const statsMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      inv.lockStats();
      statsMs.push(performance.now() - t);
    }
    const listMs: number[] = [];
    for (let i = 0; i < 10; i++) {
      const id = `N${i}`;
      if (i % 2 === 0) await inv.createProducts([{ productId: id, available: 1 }]);
      else await inv.deleteProduct(`N${i - 1}`);
      const t = performance.now();
      await inv.list({ limit: 100 });
      listMs.push(performance.now() - t);
    }
    // Ids built at run time, as a request's body would bring them: not interned.
    const reads = 200_000;
    const ids = Array.from({ length: 4096 }, (_, i) =>
      JSON.parse(`"${productId((i * 7919) % count)}"`),
    ) as string[];
    let found = 0;
    const t = performance.now();
    for (let i = 0; i < reads; i++) if (inv.get(ids[i & 4095] as string) !== undefined) found++;
    const getNs = ((performance.now() - t) * 1e6) / reads;
    if (found !== reads) throw new Error('get missed a product');
    const rows = Math.min(count, 1_000_000);
    const ops = await updateManyRate(inv, count, rows);
    const small = await Inventory.open(engineOptions(catalog(1000), null));
    const smallOps = await updateManyRate(small, 1000, rows).finally(() => small.close());
    return {
      products: count,
      openMs: round(openMs),
      openStallMs: round(stall),
      rssMb: Math.round(rssMb),
      lockStatsMs: round(median(statsMs), 2),
      listAfterChangeMs: round(median(listMs), 2),
      getNs: round(getNs),
      updateManyRatio: round(ops / smallOps, 2),
      updateManyOps: Math.round(ops),
    };
  } finally {
    await inv.close();
  }
}

/** Runs each size in a fresh process; `progress` hears each size as it finishes. */
export async function scale(
  sizes: readonly number[],
  progress: (f: ScaleFigures) => void,
): Promise<ScaleFigures[]> {
  const out: ScaleFigures[] = [];
  for (const size of sizes) {
    const figures = await childJson<ScaleFigures>(fileURLToPath(import.meta.url), [String(size)]);
    progress(figures);
    out.push(figures);
  }
  return out;
}

export function formatScale(rows: readonly ScaleFigures[]): string {
  const head = [
    'products',
    'open ms',
    'stall ms',
    'RSS MB',
    'lockStats ms',
    'list ms',
    'get ns',
    'updateMany ×',
  ];
  const body = rows.map((r) => [
    r.products.toLocaleString('en-US'),
    String(r.openMs),
    String(r.openStallMs),
    String(r.rssMb),
    String(r.lockStatsMs),
    String(r.listAfterChangeMs),
    String(r.getNs),
    String(r.updateManyRatio),
  ]);
  return `${table([head, ...body], { align: ['right'], gap: 2 })}\n`;
}

// Run as a child: measure the one size named on the command line.
asChild(import.meta.url, process.argv[1], () => measureScale(Number(process.argv[2])));
