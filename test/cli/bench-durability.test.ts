import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockstock } from './run.js';

/**
 * A quick run takes 15–25 s on 2 cores and longer on a loaded machine: give it as long
 * as lockstock() (run.ts) waits for the command.
 */
const RUN_MS = 120_000;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function emptyDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lockstock-bench-durability-'));
  dirs.push(dir);
  return dir;
}

/** `bench --durability --quick --json` with short runs and `extra` flags, into a fresh --dir. */
async function quickRun(...extra: string[]) {
  const dir = emptyDir();
  const args = ['bench', '--durability', '--quick', '--json', '--time', '20', '--dir', dir];
  const run = await lockstock([...args, ...extra]);
  expect(run.code).toBe(0);
  return { dir, stderr: run.stderr, report: JSON.parse(run.stdout) };
}

const result = { engine: expect.any(String), name: expect.any(String), spread: expect.any(Number) };

describe('lockstock bench --durability', () => {
  it(
    '--quick --json reports every case and figure, and leaves nothing in --dir',
    async () => {
      const { dir, stderr, report } = await quickRun();
      // Progress goes to stderr, a line per case.
      expect(stderr).toMatch(/cases 1–4.*\n.*case 5.*\n.*case 6.*\n.*case 6.*\n.*case 7/s);
      expect(report.machine).toEqual({
        cores: expect.any(Number),
        cpu: expect.any(String),
        node: process.version,
      });
      expect(report.dir).toBe(dir);
      const engines = report.perCall.results.map((r: { engine: string }) => r.engine);
      expect(engines).toEqual(
        expect.arrayContaining([
          'memory',
          'fsync',
          'write',
          'single',
          'groupCommit',
          'fsyncPerUpdate',
        ]),
      );
      // Redis is a peer when installed; otherwise the run says how to get it.
      expect(
        engines.includes('redis') ||
          report.notes.some((n: string) => n.includes('apt-get install redis-server')),
      ).toBe(true);
      expect(report.perCall).toMatchObject({ products: 1000, inFlight: 2000, keyed: true });
      expect(report.updateMany.results.map((r: { engine: string }) => r.engine)).toEqual([
        'memory',
        'fsync',
        'write',
      ]);
      for (const r of [...report.perCall.results, ...report.updateMany.results]) {
        expect(r).toMatchObject(result);
        expect(r.opsPerSec).toBeGreaterThan(0);
      }
      // The reopened engine holds exactly what the SIGKILLed writer had acknowledged.
      expect(report.reopen).toMatchObject([
        { layout: 'snapshot', products: 20_000, records: 20_000, verified: true },
        { layout: 'journal', products: 20_000, records: 40_000, verified: true },
      ]);
      for (const o of report.reopen) expect(o.openMs).toBeGreaterThan(0);
      const stretch = {
        calls: expect.any(Number),
        p50Ms: expect.any(Number),
        p99Ms: expect.any(Number),
        stallMs: expect.any(Number),
      };
      expect(report.checkpoint).toMatchObject({
        products: 20_000,
        checkpoints: 1,
        quiet: stretch,
        during: stretch,
      });
      for (const s of [report.checkpoint.quiet, report.checkpoint.during]) {
        expect(s.calls).toBeGreaterThan(0);
        expect(s.p50Ms).toBeLessThanOrEqual(s.p99Ms);
        expect(s.p99Ms).toBeLessThanOrEqual(s.maxMs);
      }
      expect(report.figures).toHaveLength(10);
      for (const f of report.figures) {
        expect(f.value).toEqual(expect.any(Number));
        expect(f.met).toBe(f.bound === '≥' ? f.value >= f.target : f.value <= f.target);
      }
      expect(readdirSync(dir)).toEqual([]);
    },
    RUN_MS,
  );

  it(
    '--skip-heavy leaves cases 6 and 7 out, and says so',
    async () => {
      const { dir, report } = await quickRun('--skip-heavy');
      expect(report.reopen).toBeNull();
      expect(report.checkpoint).toBeNull();
      expect(report.notes).toContain('cases 6 and 7 (reopen, checkpoint) skipped: --skip-heavy');
      const unmeasured = report.figures.filter((f: { met: boolean | null }) => f.met === null);
      expect(unmeasured.map((f: { name: string }) => f.name)).toEqual([
        'reopen, products in a snapshot: Inventory.open ms',
        'reopen, products in the journal: Inventory.open ms',
        'checkpoint: writers p99 during ÷ without',
        'checkpoint: longest stall ms',
      ]);
      expect(readdirSync(dir)).toEqual([]);
    },
    RUN_MS,
  );

  it('refuses flags of the sweep beside --durability, and its own flags without it', async () => {
    const beside = await lockstock(['bench', '--durability', '--threads', '1,2']);
    expect(beside.code).toBe(2);
    expect(beside.stderr).toContain('--threads does not go with --durability');
    const alone = await lockstock(['bench', '--skip-heavy']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--skip-heavy goes with --durability');
  });
});
