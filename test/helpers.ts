/** Shared test helpers: real threads for the lock tests, engines for the rest. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { rng } from '../src/cli/workload.js';
import type { InventoryOptions, ProductInput } from '../src/index.js';
import { Inventory } from '../src/index.js';
import type { Report, Role } from './fixtures/lock-worker.js';

const fixture = fileURLToPath(new URL('../dist/test/fixtures/lock-worker.js', import.meta.url));

/** Starts a real thread doing `job` on `buffer`; resolves to its report. */
export function thread(buffer: SharedArrayBuffer, job: Role, capacity?: number) {
  if (!existsSync(fixture)) throw new Error(`${fixture} is missing: run npm run build`);
  const worker = new Worker(fixture, { workerData: { buffer, job, capacity } });
  const report = new Promise<Report>((resolve, reject) => {
    worker.once('message', (r: Report) => resolve(r));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`lock-worker exited with ${code}`));
    });
  });
  return { worker, report };
}

/** Waits until `check()` is true, polling; fails naming `what` past `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export function catalog(count: number, available = 1_000, prefix = 'SKU-'): ProductInput[] {
  return Array.from({ length: count }, (_, i) => ({
    productId: `${prefix}${String(i).padStart(4, '0')}`,
    name: `Product ${i}`,
    available,
    price: 1 + i / 100,
  }));
}

/** Opens an engine with quiet logs and two workers unless told otherwise. */
export function open(options: InventoryOptions = {}): Promise<Inventory> {
  return Inventory.open({ workers: 2, logger: { level: 'silent' }, ...options });
}

/** A small deterministic PRNG, so stress runs can be replayed. */
export const random = rng;
