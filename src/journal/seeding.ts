/**
 * A first open journals its initial catalog: one `product_created` change per product,
 * offsets 1…n, written by the journal thread while open runs. Until the last of them
 * is durable, open has not resolved and no call has been answered, so nothing in the
 * directory has been promised to anyone; but a recovery of it would find a catalog cut
 * short at whatever offset the writes had reached (a failed start, a crash) and take
 * it for the whole one, ignoring the products given to the next open.
 *
 * So the seed is bracketed by a marker file, made durable before the first record and
 * removed once the last one is: a directory that still has it was never opened to the
 * end, and the next open removes what that attempt wrote and seeds afresh.
 */
import { closeSync, existsSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fsyncDir, listDataDir, SEEDING_FILE } from './files.js';

/** Marks `dir` as being seeded with `products` products, durably, before any record. */
export function beginSeeding(dir: string, products: number): void {
  const fd = openSync(path.join(dir, SEEDING_FILE), 'w');
  try {
    writeSync(fd, `${products}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  fsyncDir(dir);
}

/** Every seed record is durable: the directory holds a whole catalog. */
export function endSeeding(dir: string): void {
  rmSync(path.join(dir, SEEDING_FILE));
  fsyncDir(dir);
}

/**
 * When an earlier open of `dir` did not finish seeding it, removes the journal files
 * and snapshots that open wrote, then the marker; answers how many files went, or null
 * when the directory was whole.
 */
export function discardUnfinishedSeed(dir: string): number | null {
  const marker = path.join(dir, SEEDING_FILE);
  if (!existsSync(marker)) return null;
  const { segments, snapshots, temps } = listDataDir(dir);
  const files = [...segments.map((s) => s.file), ...snapshots.map((s) => s.file), ...temps];
  for (const file of files) rmSync(file, { force: true });
  // The files first: should this stop half-way, the marker still says what to do.
  fsyncDir(dir);
  rmSync(marker);
  fsyncDir(dir);
  return files.length;
}
