/**
 * The journal on its own, without the engine.
 *
 * - Throughput: two producer threads commit one change at a time into their rings as
 *   fast as the rings take them, for `--seconds`, in 'fsync' and 'write' modes: changes
 *   made durable per second, fsyncs per second, the mean group.
 * - Baseline: the loop a user would write instead, one write and one fdatasync per
 *   change, on the same disk.
 * - `--scale`: a catalog of 1 M products. Producers commit batches of 64 changes and
 *   wait for each to be durable (as the engine's callers do): that wait's p50/p99/max
 *   without and during a checkpoint (a snapshot of the 1 M products); then 1 M more
 *   changes, and recover() of the snapshot + journal.
 *
 *   npm run build && node dist/bench/journal.js [--seconds 3] [--dir DIR] [--scale]
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parentPort, threadId, Worker, workerData } from 'node:worker_threads';
import {
  type ChangeViews,
  changeViews,
  createChangeBuffer,
  durableOffset,
  emptyChange,
  R_OWNER,
  RingWriter,
  TYPE_UPDATED,
} from '../memory/change-log.js';
import {
  attachBuffer,
  counter64,
  createBuffer,
  HDR_OFFSET,
  type SharedViews,
  STATE_LIVE,
} from '../memory/layout.js';
import { emptyRecord, loadRecord, publishStock } from '../memory/records.js';
import { type JournalClient, startJournal } from '../src/journal/client.js';
import { recover } from '../src/journal/recover.js';

const RINGS = 4;
const RING_BYTES = 1 << 20;
const BATCH = 64;

/**
 * 48 bytes: records of 128, which tile the ring with no pad (see the report on
 * RingWriter.reserve, whose short pads write a byte into the next ring).
 */
function productId(slot: number): string {
  return `SKU-${String(slot).padStart(8, '0')}`.padEnd(48, '-');
}

interface ProducerJob {
  readonly changeBuffer: SharedArrayBuffer;
  readonly productBuffer: SharedArrayBuffer;
  readonly firstSlot: number;
  readonly slots: number;
  /** Int32 word 0: 1 stops the producer. */
  readonly stop: SharedArrayBuffer;
  /** Commit BATCH changes, then wait until they are durable, timing the wait. */
  readonly waitDurable: boolean;
  /** Stop after this many changes (0: only when told). */
  readonly changes: number;
}

interface ProducerReport {
  readonly changes: number;
  /** Waits for durability, in microseconds (waitDurable only). */
  readonly waitsUs: number[];
}

/** A pool thread's share of the work: updates of its own slots, no locks needed. */
function produce(job: ProducerJob): ProducerReport {
  const pv = attachBuffer(job.productBuffer);
  const cv = changeViews(job.changeBuffer);
  const ring = RingWriter.claim(cv, threadId, 10_000) as RingWriter;
  const stop = new Int32Array(job.stop);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const counter = counter64(HDR_OFFSET);
  const change = emptyChange();
  const encoder = new TextEncoder();
  change.type = TYPE_UPDATED;
  change.hasDelta = true;
  change.delta = 1;
  const waitsUs: number[] = [];
  let made = 0;
  let slot = job.firstSlot;
  while (Atomics.load(stop, 0) === 0 && (job.changes === 0 || made < job.changes)) {
    let last = 0;
    for (let i = 0; i < (job.waitDurable ? BATCH : 1); i++) {
      ring.setLow(Atomics.load(pv.i64, counter) + 1n);
      const offset = Number(Atomics.add(pv.i64, counter, 1n)) + 1;
      const now = Date.now();
      publishStock(pv, slot, offset, offset, now);
      change.idLength = encoder.encodeInto(productId(slot), change.idBytes).written;
      change.offset = offset;
      change.available = offset;
      change.version = offset;
      change.lastUpdated = now;
      ring.write(change);
      ring.commit();
      ring.clearLow();
      last = offset;
      made++;
      slot = slot + 1 < job.firstSlot + job.slots ? slot + 1 : job.firstSlot;
    }
    if (!job.waitDurable) continue;
    const start = performance.now();
    // The engine's caller is woken by a message; a poll every 20 µs stands in for it.
    while (durableOffset(cv) < last) Atomics.wait(pause, 0, 0, 0.02);
    waitsUs.push((performance.now() - start) * 1000);
  }
  // Free the ring for the next run's producers (what is in it is still consumed).
  Atomics.store(cv.i32, ring.control + R_OWNER, 0);
  return { changes: made, waitsUs };
}

if (parentPort !== null && (workerData as { role?: string } | null)?.role === 'bench-producer') {
  parentPort.postMessage(produce((workerData as { job: ProducerJob }).job));
}

// ---------------------------------------------------------------------------
// The main thread
// ---------------------------------------------------------------------------

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}

function catalog(products: number): SharedViews {
  const pv = createBuffer(products);
  const r = { ...emptyRecord(), state: STATE_LIVE, generation: 1, version: 1, available: 1 };
  for (let slot = 0; slot < products; slot++) {
    loadRecord(pv, slot, r, productId(slot), `Product ${slot}`);
  }
  return pv;
}

interface Run {
  readonly pv: SharedViews;
  readonly cv: ChangeViews;
}

function producers(run: Run, fields: Partial<ProducerJob>, stop: SharedArrayBuffer) {
  const half = Math.floor(run.pv.capacity / 2);
  return [0, 1].map(
    (i) =>
      new Promise<ProducerReport>((resolve, reject) => {
        const job: ProducerJob = {
          changeBuffer: run.cv.buffer,
          productBuffer: run.pv.buffer,
          firstSlot: i * half,
          slots: half,
          stop,
          waitDurable: false,
          changes: 0,
          ...fields,
        };
        const worker = new Worker(fileURLToPath(import.meta.url), {
          workerData: { role: 'bench-producer', job },
        });
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);

async function startOn(run: Run, dataDir: string, durability: 'fsync' | 'write', nextOffset = 1) {
  return startJournal({
    changeBuffer: run.cv.buffer,
    productBuffer: run.pv.buffer,
    nextOffset,
    dataDir,
    durability,
    logLevel: 'warn',
  });
}

/** Two producers flat out for `seconds`: durable changes and fsyncs per second. */
async function throughput(root: string, durability: 'fsync' | 'write', seconds: number) {
  const dir = mkdtempSync(path.join(root, `${durability}-`));
  const run = { pv: catalog(1000), cv: createChangeBuffer(RINGS, RING_BYTES) };
  const journal = await startOn(run, dir, durability);
  const stop = new SharedArrayBuffer(4);
  const before = await journal.stats();
  const started = performance.now();
  const running = producers(run, {}, stop);
  await sleep(seconds * 1000);
  const after = await journal.stats();
  const ms = performance.now() - started;
  Atomics.store(new Int32Array(stop), 0, 1);
  await Promise.all(running);
  await journal.close();
  rmSync(dir, { recursive: true, force: true });
  const records = after.durableOffset - before.durableOffset;
  return {
    mode: durability,
    'changes/s': rate(records, ms),
    'fsyncs/s': rate(after.fsyncs - before.fsyncs, ms),
    'mean group': Math.round(after.meanGroupSize),
    'fsync p50 ms': after.fsyncP50Ms,
    'fsync p99 ms': after.fsyncP99Ms,
  };
}

/** One write and one fdatasync per change, for `seconds`. */
function perChangeFsync(root: string, seconds: number) {
  const file = path.join(mkdtempSync(path.join(root, 'baseline-')), 'log');
  const fd = openSync(file, 'w');
  const record = new Uint8Array(128).fill(7);
  const started = performance.now();
  let n = 0;
  while (performance.now() - started < seconds * 1000) {
    writeSync(fd, record);
    fdatasyncSync(fd);
    n++;
  }
  const ms = performance.now() - started;
  closeSync(fd);
  rmSync(path.dirname(file), { recursive: true, force: true });
  return { mode: 'fdatasync per change', 'changes/s': rate(n, ms), 'fsyncs/s': rate(n, ms) };
}

function percentiles(us: number[]) {
  const s = [...us].sort((a, b) => a - b);
  const at = (p: number) =>
    Math.round((s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? 0) / 10) / 100;
  return { waits: s.length, 'p50 ms': at(0.5), 'p99 ms': at(0.99), 'max ms': at(1) };
}

/** 1 M products: the durability wait without and during a checkpoint; then recovery. */
async function scale(root: string, seconds: number) {
  const dir = mkdtempSync(path.join(root, 'scale-'));
  const products = 1_000_000;
  let t = performance.now();
  const run = { pv: catalog(products), cv: createChangeBuffer(RINGS, RING_BYTES) };
  console.log(`catalog of ${products} products: ${Math.round(performance.now() - t)} ms`);
  const journal: JournalClient = await startOn(run, dir, 'fsync');
  const seed = await journal.checkpoint();
  console.log(`first snapshot (idle): ${seed.ms} ms, ${Math.round(seed.bytes / 2 ** 20)} MiB`);

  const waits = async (during: boolean) => {
    const stop = new SharedArrayBuffer(4);
    const running = producers(run, { waitDurable: true }, stop);
    let checkpointMs = 0;
    if (during) checkpointMs = (await journal.checkpoint()).ms;
    else await sleep(seconds * 1000);
    Atomics.store(new Int32Array(stop), 0, 1);
    const reports = await Promise.all(running);
    return { ...percentiles(reports.flatMap((r) => r.waitsUs)), 'checkpoint ms': checkpointMs };
  };
  const quiet = await waits(false);
  const busy = await waits(true);
  console.table({ 'without a checkpoint': quiet, 'during a checkpoint': busy });

  const stop = new SharedArrayBuffer(4);
  const from = (await journal.stats()).durableOffset;
  t = performance.now();
  await Promise.all(producers(run, { changes: 500_000 }, stop));
  const made = (await journal.flush()) - from;
  console.log(`${made} more changes: ${rate(made, performance.now() - t)}/s`);
  await journal.terminate();
  t = performance.now();
  const r = recover(dir, { ttlMs: 120_000, log: console });
  const ms = Math.round(performance.now() - t);
  console.log(
    `recover(): ${r.products.length} products, ${r.recordsReplayed} records replayed, ${r.segmentsRead} segments, ${ms} ms`,
  );
  rmSync(dir, { recursive: true, force: true });
}

async function main() {
  const seconds = Number(option('seconds', '3'));
  const root = option('dir', os.tmpdir());
  console.log(`journal bench: ${os.cpus().length} cores, ${seconds} s a run, files under ${root}`);
  const rows = [];
  for (const mode of ['fsync', 'write'] as const) rows.push(await throughput(root, mode, seconds));
  rows.push(perChangeFsync(root, Math.min(seconds, 2)));
  console.table(rows);
  if (process.argv.includes('--scale')) await scale(root, seconds);
}

if (parentPort === null) await main();
