import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Inventory } from '../../src/index.js';
import { lockstock } from './run.js';

/**
 * lockstock load --data-dir: each mode's changes go to DIR/<mode>, and the books are
 * checked against the state reopened from disk. A second run on the same directory
 * starts from what the first left (its keys are its own, so no earlier key replays).
 */
const dir = mkdtempSync(path.join(tmpdir(), 'lockstock-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The fine mode's last offset after each run, read back from its directory. */
const offsets: number[] = [];
async function lastOffset(): Promise<number> {
  const inv = await Inventory.open({
    dataDir: path.join(dir, 'fine'),
    workers: 1,
    logger: { level: 'silent' },
  });
  try {
    return inv.stats().offset;
  } finally {
    await inv.close();
  }
}

const args = (durability: string) => [
  'load',
  '--products',
  '40',
  '--workers',
  '2',
  '--concurrency',
  '16',
  '--hold-us',
  '0',
  '--ops',
  '3000',
  '--replay',
  '0.05',
  '--mix',
  'update=85,read=5,order=10',
  '--data-dir',
  dir,
  '--durability',
  durability,
  '--json',
];

describe('lockstock load --data-dir', () => {
  it.each(['fsync', 'write'])(
    'verifies the books on the reopened state (%s)',
    async (durability) => {
      const run = await lockstock(args(durability));
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout);
      expect(report.config).toMatchObject({ dataDir: dir, durability });
      for (const mode of ['fine', 'global']) {
        expect(existsSync(path.join(dir, mode))).toBe(true);
        expect(readdirSync(path.join(dir, mode)).some((f) => f.startsWith('snapshot-'))).toBe(true);
      }
      expect(report.runs.map((r: { mode: string }) => r.mode)).toEqual(['fine', 'global']);
      expect(report.verification).toEqual({ ok: true, violations: [] });
      // The second run went on from the first's state: 3000 operations add well over a
      // thousand changes to what was there (a fresh directory would start from 40).
      offsets.push(await lastOffset());
      if (offsets.length === 2) {
        expect(offsets[1] as number).toBeGreaterThan((offsets[0] as number) + 1000);
      }
    },
  );

  it('refuses --durability without --data-dir, and a bad mode', async () => {
    const without = await lockstock(['load', '--durability', 'write']);
    expect(without.code).toBe(2);
    expect(without.stderr).toContain('--durability needs --data-dir');
    const bad = await lockstock(['load', '--data-dir', dir, '--durability', 'sometimes']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--durability');
  });
});
