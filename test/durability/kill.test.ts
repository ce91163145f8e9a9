import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type {
  Applied,
  Change,
  Inventory,
  OrderOutcome,
  OrderRequest,
  UpdateOutcome,
  UpdateRequest,
} from '../../src/index.js';
import { open, random } from '../helpers.js';

/**
 * kill -9 at random moments: a child process runs keyed updates and orders and prints
 * each acknowledged outcome; the parent SIGKILLs it, reopens the data directory, and
 * checks that every acknowledged change is there with its offset, that stock is
 * conserved, versions consecutive and offsets gap-free. Ten kills per durability
 * mode, each reopening the directory the last one left.
 */
const child = fileURLToPath(new URL('../../dist/test/fixtures/durable-child.js', import.meta.url));
const PRODUCTS = 12;
const KILLS = 10;
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Ack {
  request: { update?: UpdateRequest; order?: OrderRequest };
  outcome: UpdateOutcome | OrderOutcome;
}

/** Runs the child until `killAfterMs` past its first acknowledgement, then SIGKILLs it. */
function runAndKill(dir: string, durability: string, seed: number, killAfterMs: number) {
  return new Promise<Ack[]>((resolve, reject) => {
    const p = spawn(process.execPath, [child, dir, durability, String(seed), String(PRODUCTS)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const acks: Ack[] = [];
    let buffered = '';
    let timer: NodeJS.Timeout | null = null;
    p.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const message = JSON.parse(line) as Ack | { opened: number };
        if ('outcome' in message) acks.push(message);
        if (timer === null && 'outcome' in message) {
          timer = setTimeout(() => p.kill('SIGKILL'), killAfterMs);
        }
      }
    });
    p.on('error', reject);
    p.on('exit', (code, signal) => {
      if (timer !== null) clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`child exited with ${code} ${signal}`));
      else resolve(acks);
    });
  });
}

async function wholeFeed(inv: Inventory): Promise<Change[]> {
  const all: Change[] = [];
  let after = 0;
  for (;;) {
    const page = await inv.changes({ after, limit: 10_000 });
    all.push(...page.items);
    if (!page.hasMore) return all;
    after = page.next;
  }
}

describe.each(['fsync', 'write'] as const)('kill -9 (%s)', (durability) => {
  it(`keeps every acknowledged change through ${KILLS} kills`, async () => {
    expect(existsSync(child), `${child} is missing: run npm run build`).toBe(true);
    const dir = mkdtempSync(path.join(tmpdir(), `lockstock-kill-${durability}-`));
    dirs.push(dir);
    const next = random(durability === 'fsync' ? 11 : 12);
    const acked: Ack[] = [];
    for (let run = 0; run < KILLS; run++) {
      const seed = 1 + Math.floor(next() * 1e9);
      acked.push(...(await runAndKill(dir, durability, seed, 50 + Math.floor(next() * 400))));
      const inv = await open({ dataDir: dir, workers: 2 });
      try {
        const feed = await wholeFeed(inv);
        // Offsets gap-free from 1; the catalog's creations first.
        expect(feed.map((c) => c.offset)).toEqual(feed.map((_, i) => i + 1));
        expect(feed.slice(0, PRODUCTS).every((c) => c.type === 'product_created')).toBe(true);
        // Per product: versions consecutive, stock = initial + the deltas in the feed.
        const stock = new Map<string, { available: number; version: number }>();
        for (const c of feed) {
          if (c.type === 'product_created') {
            stock.set(c.productId, { available: c.available, version: 1 });
            continue;
          }
          const s = stock.get(c.productId) as { available: number; version: number };
          expect(c.version).toBe(s.version + 1);
          expect(c.available).toBe(s.available + (c.delta as number));
          stock.set(c.productId, { available: c.available, version: c.version });
        }
        for (const [productId, s] of stock) {
          expect(inv.get(productId)).toMatchObject(s);
        }
        // Every acknowledged change is there, at its offset.
        const byOffset = new Map(feed.map((c) => [c.offset, c]));
        for (const { outcome } of acked) {
          if (outcome.status !== 'applied') continue;
          const items: Omit<Applied, 'status'>[] = 'items' in outcome ? outcome.items : [outcome];
          for (const item of items) {
            expect(byOffset.get(item.offset)).toMatchObject({
              productId: item.productId,
              available: item.available,
              version: item.version,
            });
          }
        }
        // A replay of an acknowledged key answers the same and applies nothing.
        const last = acked.filter((a) => a.outcome.status === 'applied').slice(-5);
        const offset = inv.stats().offset;
        for (const { request, outcome } of last) {
          const replay = request.order
            ? await inv.order(request.order)
            : await inv.update(request.update as UpdateRequest);
          expect(replay).toEqual(outcome);
        }
        expect(inv.stats().offset).toBe(offset);
      } finally {
        await inv.close();
      }
    }
    expect(acked.length).toBeGreaterThan(KILLS);
  }, 120_000);
});
