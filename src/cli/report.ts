/** Plain-text reports for a terminal. */
import type { LoadConfig, LoadReport } from './load.js';
import { table } from './table.js';
import { formatMix, formatSkew, OP_KINDS } from './workload.js';

const n = (x: number) => Math.round(x).toLocaleString('en-US');

export function formatLoad(config: LoadConfig, reports: LoadReport[]): string {
  const header = ['', ...reports.map((r) => r.mode)];
  const rows: (string | number)[][] = [
    ['operations', ...reports.map((r) => n(r.ops))],
    ['elapsed (s)', ...reports.map((r) => (r.elapsedMs / 1000).toFixed(2))],
    ['throughput (ops/s)', ...reports.map((r) => n(r.throughput))],
  ];
  if (reports.some((r) => r.drain !== null)) {
    // A timed run sends nothing after its deadline; what was in flight then settles.
    rows.push(
      ['in flight at deadline', ...reports.map((r) => (r.drain ? n(r.drain.inFlight) : '-'))],
      ['drain after deadline (ms)', ...reports.map((r) => (r.drain ? n(r.drain.ms) : '-'))],
    );
  }
  for (const kind of OP_KINDS) {
    if (!reports.some((r) => r.latency[kind])) continue;
    rows.push([
      `${kind} p50/p99/p99.9/max (µs)`,
      ...reports.map((r) => {
        const l = r.latency[kind];
        return l === undefined ? '-' : `${n(l.p50)}/${n(l.p99)}/${n(l.p999)}/${n(l.max)}`;
      }),
    ]);
  }
  const outcomeKeys = [
    'applied',
    'version_conflict',
    'insufficient_inventory',
    'not_found',
    'queue_full',
    'replayed',
    'retried',
  ] as const;
  for (const key of outcomeKeys) {
    if (reports.some((r) => r.outcomes[key] > 0) || key === 'applied') {
      rows.push([key.replace('_', ' '), ...reports.map((r) => n(r.outcomes[key]))]);
    }
  }
  rows.push(
    ['lock acquisitions', ...reports.map((r) => n(r.lockStats.acquisitions))],
    [
      'contended (share)',
      ...reports.map((r) =>
        r.lockStats.acquisitions === 0
          ? '0'
          : `${n(r.lockStats.contended)} (${((r.lockStats.contended / r.lockStats.acquisitions) * 100).toFixed(1)}%)`,
      ),
    ],
    ['lock wait (ms)', ...reports.map((r) => n(r.lockStats.waitMs))],
    ['hottest', ...reports.map((r) => r.lockStats.hottest[0]?.productId ?? '-')],
    ['pool utilization', ...reports.map((r) => `${(r.pool.utilization * 100).toFixed(0)}%`)],
    ['rows per batch', ...reports.map((r) => r.pool.rowsPerBatch.toFixed(1))],
    ['batch queue wait p99 (ms)', ...reports.map((r) => r.pool.queueWaitMs.p99.toFixed(2))],
    ['event-loop delay p99 (ms)', ...reports.map((r) => r.eventLoopDelayMs.p99.toFixed(2))],
    [
      'verification',
      ...reports.map((r) =>
        r.verification.ok ? 'ok' : `FAILED (${r.verification.violations.length})`,
      ),
    ],
  );
  const lines = [
    `workload: mix ${formatMix(config.mix)}, skew ${formatSkew(config.skew)}, order size ${config.orderSize}, ` +
      `work ${config.workUs} µs, hold ${config.holdUs} µs in each lock${config.occ ? `, OCC with ${config.retries} retries` : ''}` +
      `, replay ${config.replay}, seed ${config.seed}`,
    '',
    table([header, ...rows]),
  ];
  const [fine, global] = [
    reports.find((r) => r.mode === 'fine'),
    reports.find((r) => r.mode === 'global'),
  ];
  if (fine !== undefined && global !== undefined && global.throughput > 0) {
    lines.push(
      '',
      `fine-grained locking: ${(fine.throughput / global.throughput).toFixed(2)}× the throughput of one global lock`,
    );
  }
  // Past the deadline nothing new is sent, but what the engine already holds must be
  // applied and awaited for the books to balance: at most one request per client.
  const slow = reports.filter(
    (r) => r.drain !== null && config.durationMs !== null && r.drain.ms > config.durationMs / 10,
  );
  if (slow.length > 0) lines.push('');
  for (const r of slow) {
    lines.push(
      `${r.mode}: ${n(r.drain?.inFlight ?? 0)} operations were in flight at the deadline and took ` +
        `${((r.drain?.ms ?? 0) / 1000).toFixed(2)} s to settle; fewer --concurrency clients drain sooner`,
    );
  }
  for (const r of reports) {
    for (const v of r.verification.violations.slice(0, 20)) {
      lines.push(
        `VIOLATION [${r.mode}] ${v.productId}: ${v.check}: expected ${v.expected}, got ${v.actual}`,
      );
    }
    if (r.verification.violations.length > 20) {
      lines.push(
        `… and ${r.verification.violations.length - 20} more violations in ${r.mode} mode`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
