/** Shared pieces of the journal tests: buffers, temp dirs, producer threads, feed pages. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach } from 'vitest';
import { type Change, type ChangeViews, createChangeBuffer } from '../../memory/change-log.js';
import { counter64, createBuffer, HDR_OFFSET, type SharedViews } from '../../memory/layout.js';
import { type JournalClient, type JournalOptions, startJournal } from '../../src/journal/client.js';
import {
  type ProducerJob,
  type ProducerReport,
  type ProductState,
  seedCatalog,
} from '../fixtures/journal-producer.js';

const fixture = fileURLToPath(
  new URL('../../dist/test/fixtures/journal-producer.js', import.meta.url),
);

const dirs: string[] = [];
const clients: JournalClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) await client.terminate();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lockstock-journal-'));
  dirs.push(dir);
  return dir;
}

export interface Buffers {
  readonly pv: SharedViews;
  readonly cv: ChangeViews;
}

/** A product buffer of `capacity` live products and a change buffer of 4 rings. */
export function buffers(capacity: number, ringBytes = 65_536): Buffers {
  const pv = createBuffer(capacity);
  seedCatalog(pv);
  return { pv, cv: createChangeBuffer(4, ringBytes) };
}

/** The offsets taken so far (the engine-wide counter). */
export function taken(b: Buffers): number {
  return Number(Atomics.load(b.pv.i64, counter64(HDR_OFFSET)));
}

/** Starts a journal thread over `b`, quiet, terminated after the test. */
export async function journal(
  b: Buffers,
  options: Partial<JournalOptions> = {},
): Promise<JournalClient> {
  const client = await startJournal({
    changeBuffer: b.cv.buffer,
    productBuffer: b.pv.buffer,
    nextOffset: 1,
    logLevel: 'silent',
    ...options,
  });
  clients.push(client);
  return client;
}

/** A producer job over `b` owning slots [firstSlot, firstSlot + slots). */
export function job(
  b: Buffers,
  fields: Partial<ProducerJob> & { firstSlot: number; slots: number },
): ProducerJob {
  return {
    changeBuffer: b.cv.buffer,
    productBuffer: b.pv.buffer,
    owner: 1000 + fields.firstSlot,
    changes: 1000,
    seed: 1 + fields.firstSlot,
    keyEvery: 0,
    ...fields,
  };
}

/** Runs `job` in a real worker thread; resolves to its report. */
export function producerThread(j: ProducerJob): Promise<ProducerReport> {
  if (!existsSync(fixture)) throw new Error(`${fixture} is missing: run npm run build`);
  const worker = new Worker(fixture, { workerData: { role: 'journal-producer', job: j } });
  return new Promise<ProducerReport>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`journal-producer exited with ${code}`));
    });
  });
}

/** Every change after `after` the feed holds, page by page. */
export async function readAll(client: JournalClient, after = 0, page = 997): Promise<Change[]> {
  const out: Change[] = [];
  for (let from = after; ; ) {
    const result = await client.read(from, page);
    if (result.expired) throw new Error(`offset ${from + 1} expired (oldest ${result.oldest})`);
    out.push(...result.items);
    if (result.items.length === 0) return out;
    from = (result.items[result.items.length - 1] as Change).offset;
  }
}

/** A log that keeps its warnings. */
export function recordingLog() {
  const warnings: { details: object; message: string }[] = [];
  return {
    warnings,
    warn(details: object, message: string) {
      warnings.push({ details, message });
    },
  };
}

/** The state `changes` (after-images, in offset order) leave on top of `initial`. */
export function fold(initial: readonly ProductState[], changes: readonly Change[]): ProductState[] {
  const products = new Map(initial.map((p) => [p.productId, { ...p }]));
  for (const c of changes) {
    const lastUpdated = Date.parse(c.lastUpdated);
    const product = products.get(c.productId);
    if (c.type === 'aborted') continue;
    if (c.type === 'product_deleted') products.delete(c.productId);
    else if (c.type === 'product_created' || product === undefined) {
      const { productId, available, version } = c;
      const name = c.name ?? '';
      products.set(productId, {
        productId,
        name,
        available,
        price: c.price ?? 0,
        version,
        lastUpdated,
      });
    } else {
      Object.assign(product, { available: c.available, version: c.version, lastUpdated });
      if (c.type !== 'product_modified') continue;
      if (c.name !== undefined) product.name = c.name;
      if (c.price !== undefined) product.price = c.price;
    }
  }
  return sorted([...products.values()]);
}

export function sorted<T extends { productId: string }>(products: T[]): T[] {
  return products.sort((a, b) =>
    a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0,
  );
}

/** Offsets 1…n, each once, in order. */
export function offsetsOf(changes: readonly Change[]): number[] {
  return changes.map((c) => c.offset);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** The offsets recover() must give back as keys: keyed changes and their orders' items. */
export function keyedOffsets(feed: Change[]): number[] {
  const out: number[] = [];
  let order = 0;
  for (const c of feed) {
    if (c.idempotencyKey !== undefined) {
      out.push(c.offset);
      order = c.order === c.offset ? c.offset : 0;
    } else if (order !== 0 && c.order === order) out.push(c.offset);
    else order = 0;
  }
  return out;
}
