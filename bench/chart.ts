/**
 * Charts of a sweep: an SVG rendered by Vega-Lite (one panel per scenario, ops/s
 * against threads, a line per lock mode and peer), and a terminal chart by asciichart.
 */
import asciichart from 'asciichart';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { SweepReport, SweepResult } from './sweep.js';

export const SERIES_NAMES: Record<string, string> = {
  fine: 'lockstock, lock per product',
  global: 'lockstock, one global lock',
  'one-task-per-update': 'one Piscina task per update',
  'single-thread': 'single-thread engine (no threads)',
  'redis-lua': 'Redis + Lua (one server thread)',
  'redis-lua-pipelined': 'Redis + Lua, pipelined',
};

/** Peers without threads are drawn flat across the thread counts, for comparison. */
function plotted(report: SweepReport): (SweepResult & { series: string })[] {
  const threads = [
    ...new Set(
      report.results.filter((r) => r.mode === 'fine' || r.mode === 'global').map((r) => r.threads),
    ),
  ];
  return report.results.flatMap((r) => {
    const series = SERIES_NAMES[r.mode] ?? r.mode;
    const flat = r.mode === 'single-thread' || r.mode.startsWith('redis');
    return flat ? threads.map((t) => ({ ...r, threads: t, series })) : [{ ...r, series }];
  });
}

export async function svgChart(report: SweepReport): Promise<string> {
  const titles = Object.fromEntries(report.scenarios.map((s) => [s.key, `${s.id}. ${s.short}`]));
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: {
      text: 'lockstock: throughput against pool threads',
      subtitle: `${report.machine.cores} cores (${report.machine.cpu}), Node ${report.machine.node}`,
    },
    data: {
      values: plotted(report).map((r) => ({ ...r, panel: titles[r.scenario] ?? r.scenario })),
    },
    facet: {
      field: 'panel',
      type: 'nominal',
      title: null,
      header: { labelLimit: 420, labelFontSize: 11 },
    },
    columns: 2,
    spec: {
      width: 380,
      height: 220,
      mark: { type: 'line', point: true },
      encoding: {
        x: {
          field: 'threads',
          type: 'quantitative',
          scale: { type: 'log', base: 2 },
          axis: { values: [1, 2, 4, 8, 16] },
        },
        y: { field: 'opsPerSec', type: 'quantitative', title: 'ops/s' },
        color: { field: 'series', type: 'nominal', title: null },
        strokeDash: {
          condition: {
            test: "datum.mode === 'single-thread' || indexof(datum.mode, 'redis') === 0",
            value: [4, 3],
          },
          value: [1, 0],
        },
      },
    },
    resolve: { scale: { y: 'independent' } },
    config: { legend: { orient: 'bottom', columns: 3, labelLimit: 300 } },
  };
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}

/** One scenario's lock modes as a colour terminal chart, thread counts along the x axis. */
export function terminalChart(results: SweepResult[], threads: number[]): string {
  const modes = ['fine', 'global'].filter((m) => results.some((r) => r.mode === m));
  const series = modes.map((mode) =>
    threads.map((t) => results.find((r) => r.mode === mode && r.threads === t)?.opsPerSec ?? 0),
  );
  if (series.length === 0 || threads.length < 2) return '';
  // Stretch the x axis: asciichart plots one column per point.
  const stretch = 8;
  const wide = series.map((s) =>
    s.flatMap((v, i) =>
      i === s.length - 1
        ? [v]
        : Array.from({ length: stretch }, (_, k) => v + ((s[i + 1] as number) - v) * (k / stretch)),
    ),
  );
  const colors = [asciichart.green, asciichart.red];
  const chart = asciichart.plot(wide, {
    height: 8,
    colors,
    format: (x) => `${Math.round(x).toLocaleString('en-US')}`.padStart(10),
  });
  const axis = `${' '.repeat(12)}${threads.map((t) => String(t).padEnd(stretch)).join('')} threads`;
  const legend = modes
    .map((m, i) => `${colors[i]}── ${SERIES_NAMES[m]}${asciichart.reset}`)
    .join('   ');
  return `${chart}\n${axis}\n${' '.repeat(12)}${legend}`;
}
