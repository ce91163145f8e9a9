/**
 * The pool thread's entry point: Piscina loads this module once per thread and calls
 * its default export with each task.
 */
import { threadId } from 'node:worker_threads';
import pino, { type Logger } from 'pino';
import { workerData } from 'piscina';
import { changeViews, RingWriter } from '../memory/change-log.js';
import { attachBuffer } from '../memory/layout.js';
import type {
  BatchResult,
  BatchTask,
  ListResult,
  ListTask,
  WorkerSettings,
} from '../memory/protocol.js';
import { Applier } from './applier.js';
import type { Owner } from './lock-mode.js';
import { Recorder } from './recorder.js';
import { simulation } from './simulate.js';

const settings = workerData as WorkerSettings;

/** The per-lock debug lines cost one null check each when debug is off. */
function debugLogger(s: WorkerSettings): Logger | null {
  const level = pino.levels.values[s.logLevel] ?? Number.POSITIVE_INFINITY;
  if (level > (pino.levels.values.debug as number)) return null;
  const logger = pino(
    { level: s.logLevel, base: { worker_id: threadId } },
    // Each thread writes its own lines; a logger cannot cross threads.
    pino.destination({ dest: s.logDestination, sync: true, mkdir: true, append: true }),
  );
  return logger;
}

const views = attachBuffer(settings.buffer);

/**
 * This thread's ring of the change log: the Owner of its locks always (how a dead
 * thread's locks are found), and where it records its changes unless the engine records
 * none (in memory with no feed).
 */
function claimRing(cb: SharedArrayBuffer): { owner: Owner; recorder: Recorder | null } {
  const ring = RingWriter.claim(changeViews(cb), threadId, settings.lockTimeoutMs);
  if (ring === null) throw new Error(`no free change ring for thread ${threadId}`);
  return { owner: ring, recorder: settings.recordChanges ? new Recorder(views, ring) : null };
}

const applier = new Applier(views, {
  lockMode: settings.lockMode,
  lockTimeoutMs: settings.lockTimeoutMs,
  simulate: simulation(settings.workUs, settings.holdUs),
  debug: debugLogger(settings),
  ...claimRing(settings.changeBuffer),
  crash: settings.crash,
});

export default function run(task: BatchTask | ListTask): BatchResult | ListResult {
  return task.type === 'batch' ? applier.applyTask(task) : applier.list(task);
}
