import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { type Endpoint, type Remote, releaseProxy, wrap } from 'comlink';
// @ts-expect-error: comlink types this adapter only beside its UMD build (dist/umd/node-adapter.d.ts)
import nodeAdapter from 'comlink/dist/esm/node-adapter.mjs';
import { CL_NOTIFY, changeViews, durableOffset } from '../../memory/change-log.js';
import type {
  CheckpointResult,
  JournalApi,
  JournalSettings,
  JournalStats,
  ReadResult,
} from '../../workers/journal.js';
import { InventoryError } from '../errors.js';
import { LIMITS } from '../options.js';
import { threadExecArgv, workerFile } from '../worker-file.js';
import { SEGMENT_BYTES } from './files.js';

export type { CheckpointResult, JournalSettings, JournalStats, ReadResult };

const nodeEndpoint: (port: MessagePort | Worker) => Endpoint = nodeAdapter;

/** startJournal's settings: JournalSettings without the port, defaults filled in. */
export type JournalOptions = Pick<
  JournalSettings,
  'changeBuffer' | 'productBuffer' | 'nextOffset'
> &
  Partial<Omit<JournalSettings, 'changeBuffer' | 'productBuffer' | 'nextOffset' | 'notifyPort'>>;

export const JOURNAL_DEFAULTS = {
  dataDir: null,
  seedProducts: 0,
  durability: 'fsync',
  syncIntervalMs: LIMITS.syncIntervalMs.default,
  retainChanges: LIMITS.retainChanges.default,
  snapshotEvery: LIMITS.snapshotEvery.default,
  idempotencyTtlMs: LIMITS['idempotency.ttlMs'].default,
  segmentBytes: SEGMENT_BYTES,
  logLevel: 'info',
  logDestination: 2,
} satisfies Omit<JournalSettings, 'changeBuffer' | 'productBuffer' | 'nextOffset' | 'notifyPort'>;

export interface JournalClient {
  /** Calls `listener` with the durable offset each time it moves (never twice with one value). */
  onDurable(listener: (durable: number) => void): () => void;
  /** Calls `listener` once if the thread fails before it is closed. */
  onFailure(listener: (error: Error) => void): void;
  /** Keep the process alive for the notify port (while calls wait to be durable). */
  ref(): void;
  unref(): void;
  flush(): Promise<number>;
  checkpoint(): Promise<CheckpointResult>;
  stats(): Promise<JournalStats>;
  read(after: number, limit: number): Promise<ReadResult>;
  /** Drains, snapshots (with a data directory), closes the files, ends the thread. */
  close(): Promise<void>;
  /** Ends the thread now: whatever is not durable yet stays in the rings. */
  terminate(): Promise<void>;
}

/** Where the compiled journal thread is. */
export function journalFile(): string {
  return workerFile('journal', 'journal thread');
}

/** Starts the journal thread; rejects, leaving no thread, when it fails to start. */
export async function startJournal(options: JournalOptions): Promise<JournalClient> {
  const file = journalFile();
  const cv = changeViews(options.changeBuffer);
  const { port1: notify, port2: far } = new MessageChannel();
  const settings: JournalSettings = { ...JOURNAL_DEFAULTS, ...options, notifyPort: far };
  const worker = new Worker(file, {
    workerData: settings,
    transferList: [far],
    execArgv: threadExecArgv(),
  });
  worker.unref();
  const remote: Remote<JournalApi> = wrap<JournalApi>(nodeEndpoint(worker));

  let failure: Error | null = null;
  const failers = new Set<(error: Error) => void>();
  let inFlight = 0;
  /** Told once if the thread fails while open (not when it ends because we closed it). */
  const failureListeners = new Set<(error: Error) => void>();
  const failAll = (error: Error) => {
    const unexpected = failure === null;
    failure ??= error;
    for (const fail of failers) fail(failure);
    failers.clear();
    if (unexpected) for (const listener of failureListeners) listener(failure);
  };
  worker.on('error', (error: Error) =>
    failAll(
      new InventoryError('WORKER_FAILED', `the journal thread failed: ${error.message}`, {
        cause: error,
      }),
    ),
  );
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    worker.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  worker.on('exit', (code) =>
    failAll(new InventoryError('WORKER_FAILED', `the journal thread exited (code ${code})`)),
  );

  /** A control call, racing the thread's end; the thread is ref'd while one is out. */
  const call = <T>(send: () => Promise<T>): Promise<T> => {
    if (failure !== null) return Promise.reject(failure);
    if (inFlight++ === 0) worker.ref();
    return new Promise<T>((resolve, reject) => {
      failers.add(reject);
      send()
        .then(resolve, reject)
        .finally(() => {
          failers.delete(reject);
          if (--inFlight === 0) worker.unref();
        });
    });
  };

  const listeners = new Set<(durable: number) => void>();
  let told = durableOffset(cv);
  notify.on('message', () => {
    // Clear first, then read: an offset published after the read posts again. That
    // message may find no newer offset than this read did: listeners hear each once.
    Atomics.store(cv.i32, CL_NOTIFY, 0);
    const durable = durableOffset(cv);
    if (durable <= told) return;
    told = durable;
    for (const listener of listeners) listener(durable);
  });
  notify.unref();

  let ended: Promise<void> | null = null;
  const end = () => {
    ended ??= (async () => {
      // Comlink's release removes the thread's listener, so the thread may also end by
      // itself: wait for the one exit event, however it comes.
      remote[releaseProxy]();
      notify.close();
      // A thread that is exiting no longer keeps the process alive, nor does the promise
      // of its exit: a timer does, until the exit is seen.
      const keepAlive = setInterval(() => {}, 1000);
      try {
        if (!exited) await Promise.all([exit, worker.terminate()]);
      } finally {
        clearInterval(keepAlive);
      }
    })();
    return ended;
  };

  try {
    // The thread exposes its API only once its files are open: the first answer says
    // it started.
    await call(() => remote.stats());
  } catch (error) {
    await end();
    throw (error as { cause?: unknown }).cause instanceof Error ? (error as Error).cause : error;
  }

  return {
    onDurable(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onFailure(listener) {
      failureListeners.add(listener);
    },
    ref: () => notify.ref(),
    unref: () => notify.unref(),
    flush: () => call(() => remote.flush()),
    checkpoint: () => call(() => remote.checkpoint()),
    stats: () => call(() => remote.stats()),
    // Comlink's Remote<> spreads the union over Promise<>: put it back together.
    read: (after, limit) => call(() => remote.read(after, limit) as Promise<ReadResult>),
    async close() {
      if (failure === null) await call(() => remote.close());
      failure ??= new InventoryError('CLOSED', 'the journal is closed');
      await end();
    },
    terminate: async () => {
      failure ??= new InventoryError('CLOSED', 'the journal is closed');
      await end();
    },
  };
}
