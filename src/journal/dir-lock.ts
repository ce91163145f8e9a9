/**
 * One engine per data directory: a LOCK file holding the owner's pid.
 *
 * The lock is taken atomically with link(2): the pid is written to a file of our own
 * first and then linked to LOCK, which fails with EEXIST when LOCK exists, so no
 * process ever sees a LOCK without its pid (O_EXCL followed by a write would leave a
 * moment with an empty one). A LOCK whose pid is not alive (`kill(pid, 0)` answers
 * ESRCH) was left by a process that died: it is taken over.
 *
 * Limits: a dead owner's pid reused by an unrelated live process reads as alive (the
 * error names the pid and the file, so a person can remove it), and the lock means
 * nothing across machines sharing a network file system.
 */
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { InventoryError } from '../errors.js';
import { LOCK_FILE } from './files.js';

/** Releases the lock (idempotent); `takenFrom` is the dead owner's pid when one was. */
export interface DataDirLock {
  (): void;
  readonly takenFrom: number | null;
}

export interface LockLog {
  warn(details: object, message: string): void;
}

/** The pid in a LOCK file's text, or null when it holds none. */
function ownerOf(text: string): number | null {
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function readOwner(file: string): number | null | 'gone' {
  try {
    return ownerOf(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user's process.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone.
  }
}

const ATTEMPTS = 5;

/** Links `mine` to LOCK; answers the dead owner's pid it took the lock from, or null. */
function takeLock(dir: string, mine: string, lockFile: string, log?: LockLog): number | null {
  let takenFrom: number | null = null;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    try {
      linkSync(mine, lockFile);
      return takenFrom;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = readOwner(lockFile);
    if (owner === 'gone') continue;
    if (owner !== null && alive(owner)) {
      throw new InventoryError(
        'DATA_DIR_LOCKED',
        `data directory ${dir} is in use by process ${owner} (${lockFile})`,
      );
    }
    // A dead owner's lock: move it aside (atomic), and check that what moved is the
    // lock we judged — another process taking over at the same moment may have put its
    // own in place, which then goes back.
    const stale = `${mine}.stale`;
    try {
      renameSync(lockFile, stale);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    const moved = readOwner(stale);
    if (moved !== owner) {
      try {
        linkSync(stale, lockFile);
      } finally {
        removeQuietly(stale);
      }
      continue;
    }
    removeQuietly(stale);
    takenFrom = owner ?? 0;
    log?.warn({ dir, pid: owner }, 'took over the data directory lock of a process that is gone');
  }
  throw new InventoryError(
    'DATA_DIR_LOCKED',
    `data directory ${dir}: ${lockFile} keeps changing hands`,
  );
}

/**
 * Takes `dir`'s lock, creating `dir` if need be; throws DATA_DIR_LOCKED naming the
 * directory and the owner's pid while a live process (this one included) holds it.
 */
export function lockDataDir(dir: string, log?: LockLog): DataDirLock {
  mkdirSync(dir, { recursive: true });
  const lockFile = path.join(dir, LOCK_FILE);
  // pid and a token: a release must not remove a lock this process took again since.
  const token = `${process.pid} ${threadId} ${Math.random().toString(36).slice(2)}\n`;
  const mine = path.join(dir, `${LOCK_FILE}.${token.trim().replaceAll(' ', '.')}`);
  writeFileSync(mine, token);
  let takenFrom: number | null = null;
  try {
    takenFrom = takeLock(dir, mine, lockFile, log);
  } finally {
    removeQuietly(mine);
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    try {
      if (readFileSync(lockFile, 'utf8') === token) unlinkSync(lockFile);
    } catch {
      // Removed by someone else already.
    }
  };
  return Object.assign(release, { takenFrom });
}
