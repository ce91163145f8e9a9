/** Text output of `lockstock bench --durability`: its tables, and the targets of issue 8. */
import { describeMachine } from '../src/cli/machine.js';
import { table } from '../src/cli/table.js';
import type { DurabilityReport, EngineKey, EngineResult } from './durability.js';
import type { StretchFigures } from './durable-checkpoint.js';
import type { ReopenFigures, ReopenLayout } from './durable-reopen.js';

/** One figure the project aims for, from this run. */
export interface Figure {
  name: string;
  /** null when the case did not run. */
  value: number | null;
  unit: '×' | 'changes/s' | 'ms';
  bound: '≥' | '≤';
  target: number;
  met: boolean | null;
}

const n = (x: number) => Math.round(x).toLocaleString('en-US');

function ops(rows: readonly EngineResult[], engine: EngineKey): number | null {
  return rows.find((r) => r.engine === engine)?.opsPerSec ?? null;
}

function figure(
  name: string,
  value: number | null,
  unit: Figure['unit'],
  bound: Figure['bound'],
  target: number,
): Figure {
  const met = value === null ? null : bound === '≥' ? value >= target : value <= target;
  return { name, value, unit, bound, target, met };
}

function reopened(r: DurabilityReport, layout: ReopenLayout): ReopenFigures | undefined {
  return r.reopen?.find((o) => o.layout === layout);
}

const ratio = (a: number | null, b: number | null) =>
  a === null || b === null || b === 0 ? null : Math.round((a / b) * 100) / 100;

/** The targets of issue 8 § Performance, read from a run. */
export function durabilityFigures(r: DurabilityReport): Figure[] {
  const call = (e: EngineKey) => ops(r.perCall.results, e);
  const fsync = call('fsync');
  const c = r.checkpoint;
  return [
    figure("per call: 'fsync' vs in memory", ratio(fsync, call('memory')), '×', '≥', 0.5),
    figure("per call: 'write' vs in memory", ratio(call('write'), call('memory')), '×', '≥', 0.8),
    figure(
      "per call: 'fsync' vs one fdatasync per update",
      ratio(fsync, call('fsyncPerUpdate')),
      '×',
      '≥',
      50,
    ),
    figure(
      "per call: 'fsync' vs single-thread engine + group commit",
      ratio(fsync, call('groupCommit')),
      '×',
      '≥',
      1.2,
    ),
    figure(
      "per call: 'fsync' vs Redis, appendfsync always",
      ratio(fsync, call('redis')),
      '×',
      '≥',
      5,
    ),
    figure(
      "updateMany, 'fsync': durable changes/s",
      ops(r.updateMany.results, 'fsync'),
      'changes/s',
      '≥',
      1_000_000,
    ),
    figure(
      'reopen, products in a snapshot: Inventory.open ms',
      reopened(r, 'snapshot')?.openMs ?? null,
      'ms',
      '≤',
      3000,
    ),
    figure(
      'reopen, products in the journal: Inventory.open ms',
      reopened(r, 'journal')?.openMs ?? null,
      'ms',
      '≤',
      3000,
    ),
    figure(
      'checkpoint: writers p99 during ÷ without',
      c === null ? null : ratio(c.during.p99Ms, c.quiet.p99Ms),
      '×',
      '≤',
      2,
    ),
    figure('checkpoint: longest stall ms', c?.during.stallMs ?? null, 'ms', '≤', 50),
  ];
}

function formatValue(f: Figure): string {
  if (f.value === null) return '-';
  if (f.unit === '×') return `${f.value.toFixed(2)}×`;
  return f.unit === 'ms' ? `${n(f.value)} ms` : `${n(f.value)}/s`;
}

function engineTable(rows: readonly EngineResult[], unit: string, against: number | null) {
  return table(
    rows.map((r) => [
      r.name,
      `${n(r.opsPerSec)} ${unit}`,
      `±${(r.spread * 100).toFixed(0)}%`,
      against === null ? '' : `${(r.opsPerSec / against).toFixed(2)}× in memory`,
      r.journal === undefined
        ? ''
        : `${n(r.journal.meanGroup)} a group, fsync p50 ${r.journal.fsyncP50Ms} ms`,
    ]),
    { align: ['left', 'right', 'right', 'right', 'left'], indent: 2, gap: 3 },
  );
}

function stretchRow(label: string, s: StretchFigures): string[] {
  return [
    label,
    n(s.callsPerSec),
    s.p50Ms.toFixed(2),
    s.p99Ms.toFixed(2),
    s.maxMs.toFixed(1),
    String(s.stallMs),
  ];
}

export function formatDurability(r: DurabilityReport, figures: readonly Figure[]): string {
  const out = [`lockstock bench --durability — ${describeMachine(r.machine)}, disk under ${r.dir}`];
  const p = r.perCall;
  out.push(
    '',
    `Per-call keyed update(), ${n(p.inFlight)} in flight, ${n(p.products)} products, no work under the lock (median of interleaved runs)`,
    engineTable(p.results, 'ops/s', ops(p.results, 'memory')),
    '',
    `updateMany, batches of ${n(r.updateMany.batch)} over ${n(r.updateMany.products)} products`,
    engineTable(r.updateMany.results, 'changes/s', ops(r.updateMany.results, 'memory')),
  );
  if (r.reopen !== null) {
    const first = r.reopen[0];
    out.push(
      '',
      `Reopen after the writer was SIGKILLed: ${n(first?.products ?? 0)} products and ${n(first?.products ?? 0)} updates in the journal`,
      table(
        [
          ['the products', 'files MB', 'records replayed', 'open ms', 'longest stall ms', 'state'],
          ...r.reopen.map((o) => [
            o.layout === 'snapshot' ? 'in a snapshot' : 'in the journal',
            `${o.snapshotMb} + ${o.journalMb}`,
            n(o.records),
            n(o.openMs),
            n(o.openStallMs),
            o.verified ? 'verified' : 'WRONG',
          ]),
        ],
        { indent: 2, gap: 3 },
      ),
    );
  }
  if (r.checkpoint !== null) {
    const c = r.checkpoint;
    out.push(
      '',
      `Checkpoints of ${n(c.products)} products (${c.snapshotMb} MB, ${n(c.checkpointMs)} ms each, median of ${c.checkpoints}) under ${c.writers} closed-loop writers, 'fsync'`,
      table(
        [
          ['', 'calls/s', 'p50 ms', 'p99 ms', 'max ms', 'longest stall ms'],
          stretchRow('without a checkpoint', c.quiet),
          stretchRow('during a checkpoint', c.during),
        ],
        { indent: 2, gap: 3 },
      ),
    );
  }
  out.push(
    '',
    `Figures (from this run, ${r.machine.cores} cores)`,
    table(
      figures.map((f) => [
        f.name,
        formatValue(f),
        f.met === null
          ? 'not measured'
          : `${f.met ? '✓' : '✗'} target ${f.bound} ${f.unit === '×' ? `${f.target}×` : n(f.target)}`,
      ]),
      { align: ['left', 'right', 'left'], indent: 2, gap: 2 },
    ),
  );
  for (const note of r.notes) out.push(note);
  return `${out.join('\n')}\n`;
}
