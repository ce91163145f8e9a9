/**
 * The recovery thread: runs journal/recover.ts's recoverInto on a data directory,
 * writing the products straight into the product buffer (not yet shared with the
 * pool), and posts back what the caller's thread needs (src/journal/recover-thread.ts):
 * warnings as they are logged, then the ids (transferred bytes) and the rest, or the
 * error. One run, then the thread ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { attachBuffer } from '../memory/layout.js';
import { InventoryError } from '../src/errors.js';
import { type RecoveredInto, recoverInto } from '../src/journal/recover.js';

/** What the caller hands the thread. */
export interface RecoverSettings {
  readonly dir: string;
  readonly buffer: SharedArrayBuffer;
  readonly repair: boolean;
  readonly ttlMs: number;
  readonly now: number;
}

/** An error as it crosses threads: an InventoryError keeps its code and message. */
export interface PostedError {
  readonly name: string;
  readonly message: string;
  /** The InventoryError code, or a system error's (ENOENT, …). */
  readonly code?: string;
  readonly inventory: boolean;
}

export type RecoverMessage =
  | { readonly type: 'warn'; readonly details: object; readonly message: string }
  /** The ids and the rest, once known; the records are being written. */
  | { readonly type: 'ids'; readonly recovered: RecoveredInto }
  /** Every record is in the buffer. */
  | { readonly type: 'done' }
  | { readonly type: 'error'; readonly error: PostedError };

function run(port: NonNullable<typeof parentPort>, s: RecoverSettings): void {
  const post = (message: RecoverMessage, transfer: ArrayBuffer[] = []) =>
    port.postMessage(message, transfer);
  try {
    const v = attachBuffer(s.buffer);
    recoverInto(
      s.dir,
      {
        repair: s.repair,
        ttlMs: s.ttlMs,
        now: s.now,
        log: { warn: (details, message) => post({ type: 'warn', details, message }) },
      },
      v,
      (count) =>
        new InventoryError(
          'INVALID_OPTION',
          `option capacity ${v.capacity} is below the ${count} products in ${s.dir}`,
        ),
      (recovered) =>
        post({ type: 'ids', recovered }, [
          recovered.idBytes.buffer as ArrayBuffer,
          recovered.idEnds.buffer as ArrayBuffer,
        ]),
    );
    post({ type: 'done' });
  } catch (error) {
    const e = error as Error & { code?: unknown };
    post({
      type: 'error',
      error: {
        name: e?.name ?? 'Error',
        message: e?.message ?? String(error),
        ...(typeof e?.code === 'string' ? { code: e.code } : {}),
        inventory: error instanceof InventoryError,
      },
    });
  }
}

if (parentPort !== null) run(parentPort, workerData as RecoverSettings);
