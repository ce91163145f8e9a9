import { describe, expect, it } from 'vitest';
import { lockstock } from './run.js';

const small = [
  '--products',
  '50',
  '--workers',
  '2',
  '--concurrency',
  '16',
  '--hold-us',
  '0',
  '--json',
];

describe('lockstock load', () => {
  it('reports one JSON object with the figures and a passing verification', async () => {
    const run = await lockstock([
      'load',
      ...small,
      '--mode',
      'fine',
      '--ops',
      '4000',
      '--mix',
      'update=80,read=10,order=5,list=5',
      '--occ',
      '--replay',
      '0.05',
      '--skew',
      'zipf:0.99',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.config).toMatchObject({
      mode: 'fine',
      workers: 2,
      products: 50,
      ops: 4000,
      skew: 'zipf:0.99',
      occ: true,
    });
    expect(report.config.cores).toBeGreaterThanOrEqual(1);
    expect(report.ops).toBe(4000);
    expect(report.throughput).toBeGreaterThan(0);
    for (const kind of ['update', 'read', 'order', 'list']) {
      const l = report.latency[kind];
      expect(l.count, kind).toBeGreaterThan(0);
      expect(l.p50).toBeLessThanOrEqual(l.p90);
      expect(l.p90).toBeLessThanOrEqual(l.p99);
      expect(l.p99).toBeLessThanOrEqual(l.p999);
      expect(l.p999).toBeLessThanOrEqual(l.max);
    }
    expect(report.outcomes.applied).toBeGreaterThan(0);
    expect(report.outcomes.replayed).toBeGreaterThan(0);
    expect(report.lockStats).toMatchObject({
      lock_manager_type: 'fine_grained_per_product',
      total_product_locks: 50,
    });
    expect(report.pool.batches).toBeGreaterThan(0);
    // A delay is in ms and no single one can outlast the run that measured it.
    const loop = report.eventLoopDelayMs;
    expect(loop.p50).toBeLessThanOrEqual(loop.p99);
    expect(loop.p99).toBeLessThanOrEqual(loop.max);
    expect(loop.max).toBeLessThanOrEqual(report.elapsedMs);
    // A counted run has no deadline, so nothing drains.
    expect(report.drain).toBeNull();
    expect(report.verification).toEqual({ ok: true, violations: [] });
  });

  it('stops a timed run at its deadline and reports what was left to settle', async () => {
    const run = await lockstock([
      'load',
      ...small,
      '--mode',
      'fine',
      '--duration',
      '300ms',
      '--occ',
      '--replay',
      '0.5',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.config).toMatchObject({ durationMs: 300, ops: null, concurrency: 16 });
    // At most one operation per client can be in flight, and each is awaited.
    expect(Number.isInteger(report.drain.inFlight)).toBe(true);
    expect(report.drain.inFlight).toBeGreaterThanOrEqual(0);
    expect(report.drain.inFlight).toBeLessThanOrEqual(16);
    expect(report.drain.ms).toBeGreaterThanOrEqual(0);
    // The run's time is the duration plus the drain (each rounded to a millisecond).
    expect(Math.abs(report.elapsedMs - report.drain.ms - 300)).toBeLessThanOrEqual(2);
    expect(report.verification).toEqual({ ok: true, violations: [] });

    const text = await lockstock([
      'load',
      ...small.filter((a) => a !== '--json'),
      '--mode',
      'global',
      '--duration',
      '200ms',
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^in flight at deadline\s+\d+$/m);
    expect(text.stdout).toMatch(/^drain after deadline \(ms\)\s+\d+$/m);
  });

  it('runs one engine per mode with --mode both', async () => {
    const run = await lockstock(['load', ...small, '--mode', 'both', '--ops', '2000']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.runs.map((r: { mode: string }) => r.mode)).toEqual(['fine', 'global']);
    expect(report.runs[1].lockStats.lock_manager_type).toBe('global');
    expect(report.comparison.fineOverGlobal).toBeGreaterThan(0);
    expect(report.verification.ok).toBe(true);
  });

  it('catches a change it did not account for, and exits 1', async () => {
    // A test-only hook applies one update behind the runner's back: a lost update, as
    // verification sees it.
    const fault = { LOCKSTOCK_TEST_FAULT: 'phantom-update' };
    const json = await lockstock(['load', ...small, '--mode', 'fine', '--ops', '500'], fault);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report.verification.ok).toBe(false);
    const violation = report.verification.violations.find(
      (v: { check: string }) => v.check === 'initial + Σ applied deltas = final',
    );
    expect(violation.productId).toBe('SKU-00000');
    expect(violation.expected - violation.actual).toBe(1);

    const text = await lockstock(
      [
        'load',
        '--products',
        '50',
        '--workers',
        '2',
        '--hold-us',
        '0',
        '--mode',
        'fine',
        '--ops',
        '500',
      ],
      fault,
    );
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(
      /VIOLATION \[fine\] SKU-00000: initial \+ Σ applied deltas = final/,
    );
    expect(text.stdout).toMatch(/verification\s+FAILED/);
  });
});
