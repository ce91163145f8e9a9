/**
 * Recovery off the caller's thread: journal/recover.ts's recoverInto runs on a
 * short-lived Worker (workers/recover.ts), which reads, checks and replays the data
 * directory and writes the products straight into the product buffer (not yet shared
 * with the pool). Reading a million products and a million records takes over two
 * seconds, which on the caller's thread would be one stall of its event loop; here
 * the caller only waits. The thread's warnings are logged here as they come, and its
 * errors come back as the same InventoryError (code and message).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SharedViews } from '../../memory/layout.js';
import type { PostedError, RecoverMessage, RecoverSettings } from '../../workers/recover.js';
import { InventoryError, type InventoryErrorCode } from '../errors.js';
import type { RecoveredInto, RecoverLog } from './recover.js';

/** Where the compiled recovery thread is (see src/startup.ts, workerFile). */
export function recoverFile(): string {
  const here = fileURLToPath(import.meta.url);
  const dir = path.dirname(here);
  const file = here.endsWith('.ts')
    ? path.resolve(dir, '../../dist/workers/recover.js')
    : path.resolve(dir, '../../workers/recover.js');
  if (!existsSync(file)) {
    throw new InventoryError(
      'WORKER_NOT_BUILT',
      `the compiled recovery thread ${file} is missing: run \`npm run build\` first`,
    );
  }
  return file;
}

function revive(e: PostedError): Error {
  if (e.inventory) return new InventoryError(e.code as InventoryErrorCode, e.message);
  const error = new Error(e.message) as Error & { code?: string };
  error.name = e.name;
  if (e.code !== undefined) error.code = e.code;
  return error;
}

export interface RecoverThreadOptions {
  readonly repair: boolean;
  readonly ttlMs: number;
  readonly log: RecoverLog;
  readonly now?: number;
}

/** recoverOnThread's answer: `written` settles once every record is in the buffer. */
export interface RecoveringInto extends RecoveredInto {
  readonly written: Promise<void>;
}

/**
 * Recovers `dir` into slots 0 … count − 1 of `v` on a recovery thread; rejects as
 * recover() would throw, and with INVALID_OPTION when the products outnumber the
 * buffer's capacity (nothing is then written). Resolves as soon as the ids are known,
 * while the thread still writes the records: the caller assigns the ids meanwhile,
 * and awaits `written` before the buffer is shared.
 */
export function recoverOnThread(
  dir: string,
  v: SharedViews,
  o: RecoverThreadOptions,
): Promise<RecoveringInto> {
  const settings: RecoverSettings = {
    dir,
    buffer: v.buffer,
    repair: o.repair,
    ttlMs: o.ttlMs,
    now: o.now ?? Date.now(),
  };
  const worker = new Worker(recoverFile(), { workerData: settings });
  let wrote: () => void = () => {};
  let failed: (error: Error) => void = () => {};
  const written = new Promise<void>((resolve, reject) => {
    wrote = resolve;
    failed = reject;
  });
  // Awaited by the caller, unless an earlier step failed first.
  written.catch(() => {});
  return new Promise<RecoveringInto>((resolve, reject) => {
    let settled = false;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      done();
    };
    /** Before the ids: open rejects; after: `written` does. */
    const fail = (error: Error) => {
      if (settled) failed(error);
      else settle(() => reject(error));
    };
    worker.on('message', (m: RecoverMessage) => {
      if (m.type === 'warn') o.log.warn(m.details, m.message);
      else if (m.type === 'ids') settle(() => resolve({ ...m.recovered, written }));
      else if (m.type === 'done') wrote();
      else fail(revive(m.error));
    });
    worker.on('error', (error: Error) =>
      fail(
        new InventoryError('WORKER_FAILED', `the recovery thread failed: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    // After 'done' this rejects nothing: `written` has resolved.
    worker.on('exit', (code) =>
      fail(new InventoryError('WORKER_FAILED', `the recovery thread exited (code ${code}) early`)),
    );
  });
}
