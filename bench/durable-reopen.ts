/**
 * Case 6 of `lockstock bench --durability`: how long `Inventory.open` takes on a data
 * directory of `n` products and `n` journal records of updates, two ways:
 *
 * - `snapshot`: the products in a snapshot, the updates in the journal after it;
 * - `journal`: no snapshot at all: the initial catalog's `n` creations (open journals
 *   them) and the `n` updates, all replayed.
 *
 * The directory is built by a writer in a child process: it opens with `n` products
 * (automatic snapshots off), takes one checkpoint (`snapshot` only), applies one
 * update to every product through updateMany in fsync mode, says so once the last
 * call resolved, and is SIGKILLed: no snapshot on close folds the journal away. A
 * second, fresh process then times `open` on the directory (taking over the dead
 * writer's lock), and checks what it recovered.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Inventory } from '../src/index.js';
import {
  asChild,
  catalog,
  childJson,
  engineOptions,
  productId,
  STOCK,
  StallMeter,
} from './durable-setup.js';

/** What the writer prints once its last update is durable. */
const WRITTEN = 'written';
/** Rows per updateMany call of the writer. */
const WRITE_BATCH = 100_000;

export type ReopenLayout = 'snapshot' | 'journal';

export interface ReopenFigures {
  layout: ReopenLayout;
  products: number;
  /** Journal records replayed: one update per product (`journal`: and each creation). */
  records: number;
  snapshotMb: number;
  journalMb: number;
  /** Inventory.open, wall clock, in a fresh process. */
  openMs: number;
  /** The longest gap a 5 ms timer saw while open ran. */
  openStallMs: number;
  /** The reopened engine holds every product with its update, and the next offset. */
  verified: boolean;
}

/** The writer: builds the directory, then waits to be killed. */
async function write(dir: string, n: number, layout: ReopenLayout): Promise<never> {
  const inv = await Inventory.open(engineOptions(catalog(n), dir, 'fsync'));
  if (layout === 'snapshot') await inv.checkpoint();
  for (let first = 0; first < n; first += WRITE_BATCH) {
    const rows = [];
    for (let i = first; i < Math.min(n, first + WRITE_BATCH); i++) {
      rows.push({ productId: productId(i), delta: -1 });
    }
    await inv.updateMany(rows);
  }
  process.stdout.write(`${WRITTEN}\n`);
  return new Promise<never>(() => setInterval(() => {}, 60_000));
}

/** Times open on the directory, in this (fresh) process. */
async function reopen(dir: string, n: number, layout: ReopenLayout): Promise<ReopenFigures> {
  const sizes = { snapshot: 0, journal: 0 };
  for (const name of readdirSync(dir)) {
    const bytes = statSync(path.join(dir, name)).size;
    if (name.startsWith('snapshot-')) sizes.snapshot += bytes;
    else if (name.startsWith('journal-')) sizes.journal += bytes;
  }
  const meter = new StallMeter();
  meter.take();
  const started = performance.now();
  const inv = await Inventory.open({ ...engineOptions([], dir), capacity: n + 16 });
  const openMs = performance.now() - started;
  const stall = meter.take();
  meter.stop();
  try {
    const stats = inv.stats();
    let verified = stats.products === n && stats.offset === 2 * n;
    for (const i of [0, n >> 1, n - 1]) {
      const p = inv.get(productId(i));
      verified &&= p?.available === STOCK - 1 && p.version === 2;
    }
    const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
    return {
      layout,
      products: n,
      records: layout === 'snapshot' ? n : 2 * n,
      snapshotMb: mb(sizes.snapshot),
      journalMb: mb(sizes.journal),
      openMs: Math.round(openMs),
      openStallMs: Math.round(stall),
      verified,
    };
  } finally {
    await inv.close();
  }
}

/** Builds the directory with a writer that is SIGKILLed once it has written. */
function buildDir(dir: string, n: number, layout: ReopenLayout): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [fileURLToPath(import.meta.url), 'write', dir, String(n), layout],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(`${WRITTEN}\n`)) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' && out.includes(`${WRITTEN}\n`)) resolve();
      else reject(new Error(`the writer ended (${signal ?? code}) before it had written: ${err}`));
    });
  });
}

/** Case 6: builds `dir` (empty) as `layout` says, then times its reopening in a fresh process. */
export async function reopenCase(
  dir: string,
  n: number,
  layout: ReopenLayout,
): Promise<ReopenFigures> {
  await buildDir(dir, n, layout);
  const args = ['reopen', dir, String(n), layout];
  return childJson<ReopenFigures>(fileURLToPath(import.meta.url), args);
}

asChild(import.meta.url, process.argv[1], () => {
  const [mode, dir, count, layout] = process.argv.slice(2);
  const n = Number(count);
  if (dir === undefined || (layout !== 'snapshot' && layout !== 'journal')) {
    throw new Error('usage: durable-reopen.js write|reopen <dir> <products> snapshot|journal');
  }
  return mode === 'write' ? write(dir, n, layout) : reopen(dir, n, layout);
});
