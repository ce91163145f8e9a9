import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lockDataDir } from '../../src/journal/dir-lock.js';
import { recordingLog, tempDir } from './setup.js';

const compiled = fileURLToPath(new URL('../../dist/src/journal/dir-lock.js', import.meta.url));

/** A child process that takes the lock of `dir`, prints what happened, then waits. */
function child(dir: string): { process: ChildProcess; said: Promise<string> } {
  const code = `
    import { lockDataDir } from ${JSON.stringify(compiled)};
    try { lockDataDir(${JSON.stringify(dir)}); console.log('locked'); }
    catch (error) { console.log(error.code + ' ' + error.message); process.exit(0); }
    process.stdin.resume();`;
  const p = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: 'pipe' });
  const said = new Promise<string>((resolve, reject) => {
    let out = '';
    p.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    p.once('error', reject);
    p.once('exit', (code) => reject(new Error(`child exited (${code}) saying ${out}`)));
  });
  return { process: p, said };
}

function exited(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) resolve();
    else p.once('exit', () => resolve());
  });
}

describe('the data directory lock', () => {
  it('creates the directory and refuses a second lock in the same process', () => {
    const dir = path.join(tempDir(), 'data');
    const release = lockDataDir(dir);
    expect(release.takenFrom).toBeNull();
    expect(readFileSync(path.join(dir, 'LOCK'), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
    expect(() => lockDataDir(dir)).toThrow(
      expect.objectContaining({
        code: 'DATA_DIR_LOCKED',
        message: expect.stringContaining(`${dir} is in use by process ${process.pid}`),
      }),
    );
    release();
    expect(existsSync(path.join(dir, 'LOCK'))).toBe(false);
    lockDataDir(dir)();
  });

  it('refuses another process while one holds it, and takes it over once that one is killed', async () => {
    expect(existsSync(compiled)).toBe(true);
    const dir = tempDir();
    const holder = child(dir);
    expect(await holder.said).toBe('locked');
    const pid = holder.process.pid as number;
    // From here, and from a third process.
    expect(() => lockDataDir(dir)).toThrow(
      expect.objectContaining({
        code: 'DATA_DIR_LOCKED',
        message: expect.stringContaining(`process ${pid}`),
      }),
    );
    const other = child(dir);
    expect(await other.said).toContain(
      `DATA_DIR_LOCKED data directory ${dir} is in use by process ${pid}`,
    );
    holder.process.kill('SIGKILL');
    await exited(holder.process);
    const log = recordingLog();
    const release = lockDataDir(dir, log);
    expect(release.takenFrom).toBe(pid);
    expect(log.warnings).toHaveLength(1);
    release();
  });

  it('takes over a lock whose process is gone', () => {
    const dir = tempDir();
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)']);
    const pid = Number(gone.stdout.toString());
    writeFileSync(path.join(dir, 'LOCK'), `${pid}\n`);
    const release = lockDataDir(dir);
    expect(release.takenFrom).toBe(pid);
    expect(readFileSync(path.join(dir, 'LOCK'), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
    release();
  });

  it('releases only its own lock', () => {
    const dir = tempDir();
    const first = lockDataDir(dir);
    first();
    const second = lockDataDir(dir);
    first();
    expect(existsSync(path.join(dir, 'LOCK'))).toBe(true);
    second();
  });
});
