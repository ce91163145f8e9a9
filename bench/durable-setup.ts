/**
 * What the cases of `lockstock bench --durability` share: their catalog, the engine
 * options they differ only by, and running a case in a child process of its own.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { InventoryOptions, ProductInput } from '../src/index.js';

/** Stock no run can exhaust (updates take one unit). */
export const STOCK = 1_000_000_000;

/** Pool threads of every lockstock engine here: one per core of the machines we measure on. */
export const WORKERS = 2;

/** `count` products with 7-character ids (`P000042`), as bench --scale makes them. */
export function catalog(count: number): ProductInput[] {
  return Array.from({ length: count }, (_, i) => ({
    productId: productId(i),
    name: `Item ${i}`,
    available: STOCK,
    price: 1,
  }));
}

export function productId(i: number): string {
  return `P${String(i).padStart(6, '0')}`;
}

/**
 * A lockstock engine's options: in memory when `dataDir` is null, durable in `dataDir`
 * otherwise. Automatic snapshots are off (snapshotEvery at its maximum): a case takes
 * a snapshot only where it means to.
 */
export function engineOptions(
  products: readonly ProductInput[],
  dataDir: string | null,
  durability: 'fsync' | 'write' = 'fsync',
): InventoryOptions {
  return {
    products: [...products],
    capacity: products.length + 16,
    workers: WORKERS,
    logger: { level: 'silent' },
    ...(dataDir === null ? {} : { dataDir, durability, snapshotEvery: 2 ** 40 }),
  };
}

/**
 * The event loop's longest stall: the longest gap between ticks of a 5 ms timer
 * (a gap of about 5 ms is a loop that never stalled).
 */
export class StallMeter {
  private last = performance.now();
  private longest = 0;
  private readonly timer = setInterval(() => this.tick(), 5);

  private tick(): void {
    const now = performance.now();
    this.longest = Math.max(this.longest, now - this.last);
    this.last = now;
  }

  /** The longest gap since the last take (the one running now included); starts anew. */
  take(): number {
    this.tick();
    const longest = this.longest;
    this.longest = 0;
    return longest;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Runs `node file ...args` and parses the one JSON line it prints. */
export function childJson<T>(file: string, args: readonly string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [file, ...args], { maxBuffer: 1 << 20 }, (error, out, err) => {
      if (error !== null) {
        reject(new Error(`${file} ${args.join(' ')} failed: ${err.trim() || error.message}`));
        return;
      }
      try {
        resolve(JSON.parse(out) as T);
      } catch {
        reject(new Error(`${file} ${args.join(' ')} printed no JSON: ${out.slice(0, 200)}`));
      }
    });
  });
}

/** Calls `main` when `url` (a module's import.meta.url) is the script node was started with. */
export function asChild(url: string, script: string | undefined, main: () => Promise<unknown>) {
  if (script !== fileURLToPath(url)) return;
  main().then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : error}\n`);
      process.exitCode = 1;
    },
  );
}
