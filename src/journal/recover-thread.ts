import { Worker } from 'node:worker_threads';
import type { SharedViews } from '../../memory/layout.js';
import type { PostedError, RecoverMessage, RecoverSettings } from '../../workers/recover.js';
import { InventoryError, type InventoryErrorCode } from '../errors.js';
import { threadExecArgv, workerFile } from '../worker-file.js';
import type { RecoveredInto, RecoverLog } from './recover.js';

/** Where the compiled recovery thread is. */
export function recoverFile(): string {
  return workerFile('recover', 'recovery thread');
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
  const worker = new Worker(recoverFile(), { workerData: settings, execArgv: threadExecArgv() });
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
