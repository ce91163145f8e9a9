import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockstock } from './run.js';

/** Output directories made by the tests, removed after each. */
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('lockstock bench', () => {
  it('--quick --json reports { machine, results } and writes the JSON and the SVG chart', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'lockstock-bench-'));
    dirs.push(out);
    // A narrowed quick sweep: two scenarios, two thread counts, short runs.
    const run = await lockstock([
      'bench',
      '--quick',
      '--json',
      '--threads',
      '1,2',
      '--scenarios',
      'io,hot',
      '--time',
      '30',
      '--out',
      out,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.machine).toEqual({
      cores: expect.any(Number),
      cpu: expect.any(String),
      node: process.version,
    });
    for (const r of report.results) {
      expect(r).toMatchObject({
        scenario: expect.any(String),
        mode: expect.any(String),
        threads: expect.any(Number),
      });
      expect(r.opsPerSec).toBeGreaterThan(0);
      expect(r.spread).toBeGreaterThanOrEqual(0);
    }
    const keys = report.results.map(
      (r: { scenario: string; mode: string; threads: number }) =>
        `${r.scenario} ${r.mode} ${r.threads}`,
    );
    for (const scenario of ['io', 'hot']) {
      for (const mode of ['fine', 'global']) {
        for (const threads of [1, 2]) expect(keys).toContain(`${scenario} ${mode} ${threads}`);
      }
      expect(keys).toContain(`${scenario} single-thread 1`);
    }
    // Redis is a peer when installed; otherwise the run says how to get it.
    const redis = keys.includes('hot redis-lua 1');
    expect(
      redis || report.notes.some((n: string) => n.includes('apt-get install redis-server')),
    ).toBe(true);
    expect(JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')).results).toEqual(
      report.results,
    );
    expect(readFileSync(path.join(out, 'scaling.svg'), 'utf8')).toMatch(/^<svg[^>]*>/);
  });
});
