/**
 * Starting an engine: the logger, the data directory (locked, then recovered), the
 * shared buffer and its catalog, the journal thread, the pool.
 *
 * Everything that can fail on the caller's input is checked before any thread starts
 * (options.ts reads and checks the options; the log destination is opened here first),
 * and whatever was started when a later step fails is stopped again: a failed open
 * leaves no thread, timer, file handle or directory lock behind.
 */
import { closeSync, fstatSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { Piscina } from 'piscina';
import { type ChangeViews, createChangeBuffer } from '../memory/change-log.js';
import { counter64, createBuffer, HDR_OFFSET, type SharedViews } from '../memory/layout.js';
import { type BatchTask, batchBytes, type WorkerSettings } from '../memory/protocol.js';
import { Catalog } from './catalog.js';
import { InventoryError } from './errors.js';
import { loadInitial, loadRecoveredIds } from './initial.js';
import { type JournalClient, startJournal } from './journal/client.js';
import { lockDataDir } from './journal/dir-lock.js';
import type { RecoveredInto } from './journal/recover.js';
import { recoverOnThread } from './journal/recover-thread.js';
import { beginSeeding, discardUnfinishedSeed, endSeeding } from './journal/seeding.js';
import type { ResolvedOptions } from './options.js';
import { PIPELINE } from './router.js';
import { threadExecArgv, workerFile } from './worker-file.js';

/** What open() hands the engine. */
export interface Started {
  readonly views: SharedViews;
  readonly catalog: Catalog;
  readonly pool: Piscina;
  readonly log: Logger;
  /** Closes the log file open() opened, if it opened one. */
  readonly closeLog: () => void;
  readonly changes: ChangeViews;
  readonly journal: JournalClient;
  /** Releases the data directory's lock; null without a data directory. */
  readonly releaseDir: (() => void) | null;
  /** What was recovered from the data directory, or null for a fresh start. */
  readonly recovered: RecoveredInto | null;
}

/** Bytes of each pool thread's change ring (change-log.ts): a power of two. */
const RING_BYTES = 1 << 20;

/** The log destination as a file descriptor, opened (or checked) before any thread. */
interface Destination {
  readonly fd: number;
  /** Whether open() opened it, and so must close it. */
  readonly owned: boolean;
}

function badDestination(destination: number | string, error: unknown): InventoryError {
  const reason = (error as NodeJS.ErrnoException).code ?? String(error);
  return new InventoryError(
    'INVALID_OPTION',
    `option logger.destination ${JSON.stringify(destination)} cannot be written (${reason})`,
    { cause: error },
  );
}

function openDestination(destination: number | string): Destination {
  try {
    if (typeof destination === 'number') {
      fstatSync(destination);
      return { fd: destination, owned: false };
    }
    mkdirSync(path.dirname(destination), { recursive: true });
    return { fd: openSync(destination, 'a'), owned: true };
  } catch (error) {
    throw badDestination(destination, error);
  }
}

/**
 * Whether pool threads record their changes: always with a data directory (the
 * journal), and in memory unless the feed keeps nothing (`retainChanges: 0`).
 */
export function recording(o: ResolvedOptions): boolean {
  return o.dataDir !== null || o.retainChanges > 0;
}

/** Takes the data directory's lock, creating it if need be; a path that cannot be one is refused. */
function openDataDir(dir: string, log: Logger): () => void {
  try {
    return lockDataDir(dir, log);
  } catch (error) {
    if (error instanceof InventoryError) throw error;
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new InventoryError(
      'INVALID_OPTION',
      `option dataDir ${JSON.stringify(dir)} cannot be used as a data directory (${reason})`,
      { cause: error },
    );
  }
}

export async function start(o: ResolvedOptions): Promise<Started> {
  // A turn first: open has read its options (a million products' array copied) since
  // it was called, and a caller that just built a large catalog often has a major GC
  // pending, which runs in this turn rather than on top of what follows.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const file = workerFile();
  const custom = 'child' in o.logger && typeof o.logger.child === 'function';
  const destination: Destination = custom
    ? { fd: 1, owned: false }
    : openDestination((o.logger as { destination: number | string }).destination);
  const closeLog = () => {
    if (destination.owned) closeSync(destination.fd);
  };
  const log: Logger = custom
    ? (o.logger as Logger)
    : pino(
        { name: 'lockstock', level: (o.logger as { level: string }).level },
        pino.destination({ dest: destination.fd, sync: true }),
      );
  let pool: Piscina | null = null;
  let journal: JournalClient | null = null;
  let releaseDir: (() => void) | null = null;
  try {
    const views = createBuffer(o.capacity);
    const catalog = new Catalog(o.capacity);
    let recovered: RecoveredInto | null = null;
    if (o.dataDir !== null) {
      releaseDir = openDataDir(o.dataDir, log);
      const discarded = discardUnfinishedSeed(o.dataDir);
      if (discarded !== null) {
        log.warn(
          { dataDir: o.dataDir, files: discarded },
          'an earlier open of this data directory did not finish journaling its initial catalog: its files were removed, and the directory starts empty',
        );
      }
      // On a recovery thread, which writes the products into the buffer (slots 0 …
      // count − 1) and refuses more than `capacity` of them (INVALID_OPTION).
      const recovering = await recoverOnThread(o.dataDir, views, {
        repair: o.repair,
        ttlMs: o.idempotency.ttlMs,
        log,
      });
      const { written, ...rest } = recovering;
      if (rest.nextOffset === 1) await written;
      else {
        // The thread writes the records while this one assigns the ids.
        await loadRecoveredIds(views, catalog, rest, rest.nextOffset - 1);
        await written;
        recovered = rest;
      }
    }
    if (recovered === null) {
      await loadInitial(views, catalog, o.products);
    } else {
      if (o.products.length > 0) {
        log.info(
          { products: o.products.length, dataDir: o.dataDir },
          'option products ignored: the data directory holds the catalog',
        );
      }
    }
    // Two rings a thread: a thread Piscina starts in place of a dead one claims a ring
    // before the dead one's is repaired and freed (thread-death.ts).
    const changes = createChangeBuffer(2 * o.workers + 2, RING_BYTES);
    // Recovered changes are durable already; an initial catalog's go through the journal,
    // which makes them from the slots (workers/journal/seed.ts) and publishes the durable
    // offset it starts from.
    const seeded = recovered === null && recording(o) ? o.products.length : 0;
    const last = Atomics.load(views.i64, counter64(HDR_OFFSET)) - BigInt(seeded);
    const settings: WorkerSettings = {
      buffer: views.buffer,
      lockMode: o.lockMode,
      workUs: o.simulate.workUs,
      holdUs: o.simulate.holdUs,
      lockTimeoutMs: o.lockTimeoutMs,
      logLevel: log.level,
      // Threads share the process's descriptors: workers write to the same open file.
      logDestination: destination.fd,
      changeBuffer: changes.buffer,
      recordChanges: recording(o),
      crash: o.simulate.crash,
    };
    pool = new Piscina({
      filename: file,
      minThreads: o.workers,
      maxThreads: o.workers,
      idleTimeout: Number.POSITIVE_INFINITY,
      // A thread's next task waits in its own port while it runs one (router.ts).
      concurrentTasksPerWorker: PIPELINE,
      // Piscina's Atomics wait loop reads every message waiting in a thread's port and
      // runs them all before it posts the first answer: a dispatch's answer would wait
      // for the next dispatch to run. One message event per task answers each in turn.
      atomics: 'disabled',
      workerData: settings,
      execArgv: threadExecArgv(),
    });
    pool.on('error', (error: unknown) => log.error({ err: error }, 'lockstock worker error'));
    // A first open brackets its seed (seeding.ts): should it not finish, the next open
    // starts over rather than recover a catalog cut short.
    const seedingDir = seeded > 0 ? o.dataDir : null;
    if (seedingDir !== null) beginSeeding(seedingDir, seeded);
    // The journal thread and the pool's threads start side by side: each takes a tenth
    // of a second or so, mostly idle time of this thread.
    const [journalStart, poolStart] = await Promise.allSettled([
      startJournal({
        changeBuffer: changes.buffer,
        productBuffer: views.buffer,
        dataDir: o.dataDir,
        durability: o.durability,
        syncIntervalMs: o.syncIntervalMs,
        retainChanges: o.retainChanges,
        snapshotEvery: o.snapshotEvery,
        idempotencyTtlMs: o.idempotency.ttlMs,
        nextOffset: Number(last) + 1,
        seedProducts: seeded,
        logLevel: log.level,
        logDestination: destination.fd,
      }),
      warmUp(pool, o.workers),
    ]);
    if (journalStart.status === 'rejected') throw journalStart.reason;
    journal = journalStart.value;
    if (poolStart.status === 'rejected') throw poolStart.reason;
    // A seed record shows its slot as it is when the journal makes it: no call may
    // change a slot before the last one is made.
    if (seeded > 0) await journal.flush();
    if (seedingDir !== null) endSeeding(seedingDir);
    return { views, catalog, pool, log, closeLog, changes, journal, releaseDir, recovered };
  } catch (error) {
    await pool?.destroy();
    await journal?.terminate();
    releaseDir?.();
    closeLog();
    if (error instanceof InventoryError) throw error;
    throw new InventoryError('WORKER_FAILED', `lockstock workers failed to start: ${error}`, {
      cause: error,
    });
  }
}

/** Runs an empty batch on every thread, so that open fails if a worker cannot start. */
async function warmUp(pool: Piscina, workers: number): Promise<void> {
  // An empty batch exercises the whole path (module load, buffer attach) and applies nothing.
  const task: BatchTask = {
    type: 'batch',
    batches: [
      {
        id: 0,
        buffer: new SharedArrayBuffer(batchBytes(1)),
        capacity: 1,
        rows: 0,
        strings: [],
        keys: [],
      },
    ],
  };
  await Promise.all(Array.from({ length: workers }, () => pool.run(task)));
}
