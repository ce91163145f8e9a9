/** `lockstock bench --http`: its report's shape, from a one-second run (no timing asserted). */
import { describe, expect, it } from 'vitest';
import { lockstock } from './run.js';

describe('lockstock bench --http', () => {
  it('--json reports every scenario, the ratios and the machine', async () => {
    const run = await lockstock([
      'bench',
      '--http',
      '--json',
      '--duration',
      '1',
      '--rounds',
      '1',
      '--connections',
      '8',
      '--products',
      '50',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.results.map((r: { scenario: string }) => r.scenario)).toEqual([
      'bare-post',
      'update',
      'batch',
      'bare-get',
      'read',
    ]);
    for (const r of report.results) {
      expect(r.requestsPerSec, r.scenario).toBeGreaterThan(0);
      expect(r.non2xx, r.scenario).toBe(0);
      expect(r.latencyMs.p50).toBeLessThanOrEqual(r.latencyMs.p99);
    }
    expect(report.ratios.update).toBeGreaterThan(0);
    expect(report.rounds).toHaveLength(1);
  });
});
