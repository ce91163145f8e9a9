/** Text output of a sweep: a table per scenario, its terminal chart, and the figures. */
import { describeMachine } from '../src/cli/machine.js';
import { table } from '../src/cli/table.js';
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

export function formatSweep(report: SweepReport, threads: number[], colored: boolean): string {
  const out: string[] = [`lockstock bench — ${describeMachine(report.machine)}`];
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
    out.push(
      '',
      `Scenario ${s.id}: ${s.title}`,
      table([header, ...body], { align: ['right'], indent: 2 }),
    );
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
    const mark = { met: '✓', missed: '✗', tie: '≈' };
    out.push(
      table(
        figures.map((f) => [f.name, x2(f.value), `${mark[f.verdict]} target ${f.target}`]),
        { align: ['left', 'right', 'left'], indent: 2, gap: 2 },
      ),
    );
    if (figures.some((f) => f.verdict === 'tie')) {
      out.push(
        '  (≈: short of the target by less than the spread of the runs: a tie, not a result)',
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
  /** 'tie': short of the target by less than the runs' spread, so undecided. */
  verdict: 'met' | 'missed' | 'tie';
}

type Point = [scenario: string, mode: string, threads?: number];

/** The ratios the project aims for, from whatever this run measured. */
export function checkFigures(report: SweepReport): Figure[] {
  const r = report.results;
  const at = ([scenario, mode, threads]: Point) => pick(r, scenario, mode, threads);
  const figures: Figure[] = [];
  const ratio = (name: string, a: Point, b: Point, target: number, atMost = false) => {
    const x = at(a);
    const y = at(b);
    if (x === undefined || y === undefined || y.opsPerSec === 0) return;
    const value = x.opsPerSec / y.opsPerSec;
    const met = atMost ? value <= target : value >= target;
    const tie = !met && Math.abs(value - target) <= target * (x.spread + y.spread);
    const verdict = met ? 'met' : tie ? 'tie' : 'missed';
    figures.push({ name, value, target: `${atMost ? '≤' : '≥'} ${target}×`, verdict });
  };
  ratio(
    '2 (hold 100 µs): fine at 4 threads vs fine at 1',
    ['io', 'fine', 4],
    ['io', 'fine', 1],
    3.5,
  );
  ratio(
    '2 (hold 100 µs): fine vs global at 4 threads',
    ['io', 'fine', 4],
    ['io', 'global', 4],
    3.5,
  );
  ratio(
    '2 (hold 100 µs): fine at 8 threads vs fine at 1',
    ['io', 'fine', 8],
    ['io', 'fine', 1],
    6.5,
  );
  for (const [id, key] of [
    [6, 'few64'],
    [7, 'few32'],
  ] as const) {
    const inFlight = key.slice(3);
    ratio(
      `${id} (${inFlight} in flight, hold 100 µs): fine at 4 threads vs fine at 1`,
      [key, 'fine', 4],
      [key, 'fine', 1],
      3.5,
    );
    ratio(
      `${id} (${inFlight} in flight, hold 100 µs): fine vs global at 4 threads`,
      [key, 'fine', 4],
      [key, 'global', 4],
      3.5,
    );
  }
  ratio(
    '1 (work 5 µs): fine at 2 threads vs fine at 1',
    ['cpu', 'fine', 2],
    ['cpu', 'fine', 1],
    1.6,
  );
  ratio(
    '1 (work 5 µs): global at 2 threads vs global at 1',
    ['cpu', 'global', 2],
    ['cpu', 'global', 1],
    1.2,
    true,
  );
  const hot = r.filter((x) => x.scenario === 'hot' && x.mode === 'fine');
  for (const { threads } of hot) {
    const label = `${threads} thread${threads === 1 ? '' : 's'}`;
    ratio(
      `3 (hot keys): fine vs global at ${label}`,
      ['hot', 'fine', threads],
      ['hot', 'global', threads],
      1,
    );
  }
  const best = [...hot].sort((a, b) => b.opsPerSec - a.opsPerSec)[0];
  if (best !== undefined) {
    const label = `lockstock at ${best.threads} thread${best.threads === 1 ? '' : 's'}`;
    ratio(
      `3 (hot keys): ${label} vs Redis + Lua`,
      ['hot', 'fine', best.threads],
      ['hot', 'redis-lua'],
      5,
    );
    ratio(
      `3 (hot keys): ${label} vs Redis + Lua, pipelined`,
      ['hot', 'fine', best.threads],
      ['hot', 'redis-lua-pipelined'],
      5,
    );
  }
  return figures;
}
