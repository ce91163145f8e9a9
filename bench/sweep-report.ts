/** Text output of a sweep: a table per scenario, its terminal chart, and the figures. */
import { SERIES_NAMES, terminalChart } from './chart.js';
import type { SweepReport, SweepResult } from './sweep.js';

const n = (x: number) => Math.round(x).toLocaleString('en-US');
const x2 = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '-');

function pick(
  results: SweepResult[],
  scenario: string,
  mode: string,
  threads?: number,
): SweepResult | undefined {
  return results.find(
    (r) =>
      r.scenario === scenario &&
      r.mode === mode &&
      (threads === undefined || r.threads === threads),
  );
}

function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) => `  ${r.map((cell, c) => cell.padStart(widths[c] ?? 0)).join('   ')}`)
    .join('\n');
}

export function formatSweep(report: SweepReport, threads: number[], colored: boolean): string {
  const out: string[] = [
    `lockstock bench — ${report.machine.cores} cores (${report.machine.cpu}), Node ${report.machine.node}`,
  ];
  for (const s of report.scenarios) {
    const rows = report.results.filter((r) => r.scenario === s.key);
    const has = (mode: string) => rows.some((r) => r.mode === mode);
    const header = ['threads'];
    if (has('fine')) header.push('fine ops/s', 'speed-up');
    if (has('global')) header.push('global ops/s', 'speed-up');
    if (has('fine') && has('global')) header.push('fine/global');
    if (has('one-task-per-update')) header.push('one task/update');
    const body = threads.map((t) => {
      const row = [String(t)];
      const fine = pick(rows, s.key, 'fine', t);
      const global = pick(rows, s.key, 'global', t);
      if (has('fine'))
        row.push(
          fine ? n(fine.opsPerSec) : '-',
          fine
            ? x2(fine.opsPerSec / (pick(rows, s.key, 'fine', threads[0])?.opsPerSec ?? Number.NaN))
            : '-',
        );
      if (has('global'))
        row.push(
          global ? n(global.opsPerSec) : '-',
          global
            ? x2(
                global.opsPerSec /
                  (pick(rows, s.key, 'global', threads[0])?.opsPerSec ?? Number.NaN),
              )
            : '-',
        );
      if (has('fine') && has('global'))
        row.push(fine && global ? x2(fine.opsPerSec / global.opsPerSec) : '-');
      if (has('one-task-per-update')) {
        const naive = pick(rows, s.key, 'one-task-per-update', t);
        row.push(naive ? n(naive.opsPerSec) : '-');
      }
      return row;
    });
    out.push('', `Scenario ${s.id}: ${s.title}`, table([header, ...body]));
    const flat = rows.filter((r) => r.mode === 'single-thread' || r.mode.startsWith('redis'));
    if (flat.length > 0) {
      out.push(
        `  peers: ${flat.map((r) => `${SERIES_NAMES[r.mode] ?? r.mode} ${n(r.opsPerSec)} ops/s`).join(' · ')}`,
      );
    }
    if (colored) {
      // Lines are told apart by colour: drawn only on a terminal.
      const chart = terminalChart(rows, threads);
      if (chart !== '') out.push('', chart);
    }
  }
  const figures = checkFigures(report);
  if (figures.length > 0) {
    out.push('', `Figures (ratios from this run, ${report.machine.cores} cores)`);
    const width = Math.max(...figures.map((f) => f.name.length));
    for (const f of figures) {
      out.push(
        `  ${f.name.padEnd(width)}  ${x2(f.value).padStart(8)}  ${f.ok ? '✓' : '✗'} target ${f.target}`,
      );
    }
  }
  for (const note of report.notes) out.push('', note);
  return `${out.join('\n')}\n`;
}

export interface Figure {
  name: string;
  value: number;
  target: string;
  ok: boolean;
}

/** The ratios the project aims for, from whatever this run measured. */
export function checkFigures(report: SweepReport): Figure[] {
  const r = report.results;
  const ops = (scenario: string, mode: string, threads?: number) =>
    pick(r, scenario, mode, threads)?.opsPerSec;
  const figures: Figure[] = [];
  const ratio = (
    name: string,
    a: number | undefined,
    b: number | undefined,
    target: number,
    atMost = false,
  ) => {
    if (a === undefined || b === undefined || b === 0) return;
    const value = a / b;
    figures.push({
      name,
      value,
      target: `${atMost ? '≤' : '≥'} ${target}×`,
      ok: atMost ? value <= target : value >= target,
    });
  };
  ratio(
    '2 (hold 100 µs): fine at 4 threads vs fine at 1',
    ops('io', 'fine', 4),
    ops('io', 'fine', 1),
    3.5,
  );
  ratio(
    '2 (hold 100 µs): fine vs global at 4 threads',
    ops('io', 'fine', 4),
    ops('io', 'global', 4),
    3.5,
  );
  ratio(
    '2 (hold 100 µs): fine at 8 threads vs fine at 1',
    ops('io', 'fine', 8),
    ops('io', 'fine', 1),
    6.5,
  );
  ratio(
    '1 (work 5 µs): fine at 2 threads vs fine at 1',
    ops('cpu', 'fine', 2),
    ops('cpu', 'fine', 1),
    1.6,
  );
  ratio(
    '1 (work 5 µs): global at 2 threads vs global at 1',
    ops('cpu', 'global', 2),
    ops('cpu', 'global', 1),
    1.2,
    true,
  );
  const hotThreads = [
    ...new Set(r.filter((x) => x.scenario === 'hot' && x.mode === 'fine').map((x) => x.threads)),
  ];
  const worst = Math.min(
    ...hotThreads.map(
      (t) => (ops('hot', 'fine', t) ?? 0) / (ops('hot', 'global', t) ?? Number.POSITIVE_INFINITY),
    ),
  );
  if (hotThreads.length > 0 && Number.isFinite(worst)) {
    figures.push({
      name: '3 (hot keys): fine vs global, lowest over thread counts',
      value: worst,
      target: '≥ 1×',
      ok: worst >= 1,
    });
  }
  const bestHot = Math.max(
    0,
    ...r.filter((x) => x.scenario === 'hot' && x.mode === 'fine').map((x) => x.opsPerSec),
  );
  ratio(
    '3 (hot keys): lockstock (best thread count) vs Redis + Lua',
    bestHot || undefined,
    ops('hot', 'redis-lua'),
    5,
  );
  ratio(
    '3 (hot keys): lockstock (best thread count) vs Redis + Lua, pipelined',
    bestHot || undefined,
    ops('hot', 'redis-lua-pipelined'),
    5,
  );
  return figures;
}
