/**
 * Measuring a multi-threaded system with tinybench: tinybench times calls on the
 * calling thread, so each iteration runs a whole batch of operations (and awaits
 * them), and ops/s = operations per iteration ÷ the iteration's median latency.
 */
import os from 'node:os';
import { Bench } from 'tinybench';

export interface Measured {
  name: string;
  opsPerSec: number;
  /** Median absolute deviation of the iteration time, as a share of the median (%). */
  spreadPct: number;
  samples: number;
}

export function machine() {
  return {
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
  };
}

/** Runs `fn` (one iteration = `ops` operations) for about `timeMs`; reports the median. */
export async function measure(
  name: string,
  ops: number,
  fn: () => unknown,
  timeMs: number,
): Promise<Measured> {
  const bench = new Bench({
    time: timeMs,
    warmupTime: Math.min(500, timeMs / 2),
    iterations: 5,
    throws: true,
  });
  bench.add(name, fn as () => Promise<void>);
  await bench.run();
  const result = bench.tasks[0]?.result;
  if (result === undefined || !('latency' in result)) throw new Error(`${name}: no result`);
  const p50 = result.latency.p50;
  return {
    name,
    opsPerSec: ops / (p50 / 1000),
    spreadPct: (result.latency.mad / p50) * 100,
    samples: result.latency.samplesCount,
  };
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

export function printTable(title: string, rows: Measured[]): void {
  console.log(`\n${title}`);
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    console.log(
      `  ${r.name.padEnd(width)}  ${fmt(r.opsPerSec).padStart(12)} ops/s  ±${r.spreadPct.toFixed(1).padStart(4)}%  (${r.samples} runs)`,
    );
  }
}

export interface Ratio {
  name: string;
  value: number;
  target: number | null;
}

export function printRatios(title: string, ratios: Ratio[]): void {
  console.log(`\n${title}`);
  const width = Math.max(...ratios.map((r) => r.name.length));
  for (const r of ratios) {
    const verdict =
      r.target === null
        ? ''
        : r.value >= r.target
          ? `  ✓ target ≥ ${r.target}×`
          : `  ✗ target ≥ ${r.target}×`;
    console.log(`  ${r.name.padEnd(width)}  ${r.value.toFixed(2).padStart(7)}×${verdict}`);
  }
}
