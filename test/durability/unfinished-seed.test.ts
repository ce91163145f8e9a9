import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Inventory } from '../../src/index.js';
import { SEEDING_FILE } from '../../src/journal/files.js';

/**
 * A first open journals its initial catalog while it runs. One that is killed before
 * the last of those records is durable has answered nobody, but leaves a journal that
 * holds part of the catalog: the next open must not take that for the whole catalog
 * (and ignore the products it is given), but start over.
 */
const index = pathToFileURL(
  fileURLToPath(new URL('../../dist/src/index.js', import.meta.url)),
).href;
/** Enough products that seeding them takes a while after its marker appears. */
const FIRST = 500_000;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Bytes of journal segments in `dir`. */
function journalBytes(dir: string): number {
  let bytes = 0;
  for (const name of readdirSync(dir)) {
    if (name.startsWith('journal-')) bytes += statSync(path.join(dir, name)).size;
  }
  return bytes;
}

/**
 * Opens `dir` with FIRST products in a child process, and SIGKILLs it once it is
 * seeding and some of the seed is in the journal; answers the journal bytes it left.
 */
function killWhileSeeding(dir: string): Promise<number> {
  const script = `
    import { Inventory } from ${JSON.stringify(index)};
    const products = Array.from({ length: ${FIRST} }, (_, i) => ({ productId: 'P-' + i, available: 5 }));
    await Inventory.open({ dataDir: ${JSON.stringify(dir)}, products, capacity: ${FIRST + 16}, workers: 1, logger: { level: 'silent' } });
    console.log('opened');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let opened = false;
    child.stdout.on('data', () => {
      opened = true;
    });
    const poll = setInterval(() => {
      // Killed only once the marker is there and the seed has begun to reach the disk.
      if (existsSync(path.join(dir, SEEDING_FILE)) && journalBytes(dir) > 64 * 1024) {
        clearInterval(poll);
        child.kill('SIGKILL');
      }
    }, 1);
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearInterval(poll);
      if (opened || signal !== 'SIGKILL') {
        reject(new Error('the first open finished before it could be killed while seeding'));
      } else {
        resolve(journalBytes(dir));
      }
    });
  });
}

describe('a first open killed while it journals its catalog', () => {
  it('leaves a directory the next open starts over in, with the products it is given', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lockstock-unfinished-'));
    dirs.push(dir);
    const left = await killWhileSeeding(dir);
    expect(left).toBeGreaterThan(0);
    expect(existsSync(path.join(dir, SEEDING_FILE))).toBe(true);

    const logFile = path.join(dir, 'open.log');
    const products = ['Q-0', 'Q-1', 'Q-2'].map((productId) => ({ productId, available: 7 }));
    const inv = await Inventory.open({
      dataDir: dir,
      products,
      workers: 1,
      logger: { level: 'warn', destination: logFile },
    });
    try {
      expect(existsSync(path.join(dir, SEEDING_FILE))).toBe(false);
      const page = await inv.list({ limit: 10 });
      expect(page.items.map((p) => [p.productId, p.available])).toEqual([
        ['Q-0', 7],
        ['Q-1', 7],
        ['Q-2', 7],
      ]);
      const feed = await inv.changes({ after: 0, limit: 10 });
      expect(feed.items.map((c) => [c.offset, c.type, c.productId])).toEqual([
        [1, 'product_created', 'Q-0'],
        [2, 'product_created', 'Q-1'],
        [3, 'product_created', 'Q-2'],
      ]);
    } finally {
      await inv.close();
    }
    const warned = readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(warned).toContainEqual(
      expect.objectContaining({ level: 40, dataDir: dir, files: expect.any(Number) }),
    );

    // Whole now: the next open recovers it and ignores the products it is given.
    const again = await Inventory.open({
      dataDir: dir,
      products: [{ productId: 'R-0', available: 1 }],
      workers: 1,
      logger: { level: 'silent' },
    });
    try {
      const page = await again.list({ limit: 10 });
      expect(page.items.map((p) => p.productId)).toEqual(['Q-0', 'Q-1', 'Q-2']);
    } finally {
      await again.close();
    }
  });

  it('a first open that finishes leaves no marker', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lockstock-seeded-'));
    dirs.push(dir);
    const inv = await Inventory.open({
      dataDir: dir,
      products: [{ productId: 'A', available: 1 }],
      workers: 1,
      logger: { level: 'silent' },
    });
    try {
      expect(existsSync(path.join(dir, SEEDING_FILE))).toBe(false);
    } finally {
      await inv.close();
    }
  });
});
