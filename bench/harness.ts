/**
 * Measuring a multi-threaded system with tinybench: tinybench times calls on the
 * calling thread, so each iteration runs a whole batch of operations (and awaits
 * them), and ops/s = operations per iteration ÷ the iteration's median latency.
 */
import { Bench } from 'tinybench';
import { table } from '../src/cli/table.js';

export interface Measured {
  name: string;
  opsPerSec: number;
  /** Median absolute deviation of the iteration time, as a share of the median (%). */
  spreadPct: number;
  samples: number;
  /**
   * CPU time per operation, every thread of this process together (process.cpuUsage):
   * what an operation costs the machine, whichever thread spends it. On a machine
   * whose cores are all busy, ops/s can never exceed cores ÷ this.
   */
  cpuNsPerOp?: number;
}

/** Runs `fn` (one iteration = `ops` operations) for about `timeMs`; reports the median. */
export async function measure(
  name: string,
  ops: number,
  fn: () => unknown,
  timeMs: number,
  minIterations = 5,
): Promise<Measured> {
  // Warm-up (JIT, caches, pool threads) runs for a share of the time budget, at least
  // one iteration; the measured part for the budget and at least `minIterations`.
  const bench = new Bench({
    time: timeMs,
    warmupTime: Math.min(500, timeMs / 2),
    warmupIterations: 1,
    iterations: minIterations,
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

export interface Contender {
  name: string;
  /** Operations one call of `fn` performs. */
  ops: number;
  fn: () => unknown;
}

/**
 * Measures each contender `rounds` times, interleaved (A B C, A B C, …), so that a
 * noisy neighbour slows every contender alike rather than whichever ran at the time;
 * reports each one's median over the rounds, and half the range as the spread.
 */
export async function compare(
  contenders: Contender[],
  timeMs: number,
  rounds: number,
  minIterations = 5,
  /** Also measure each contender's CPU time per operation (cpuNsPerOp), once, after. */
  cpu = false,
) {
  const runs = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const c of contenders) {
      const m = await measure(c.name, c.ops, c.fn, timeMs, minIterations);
      runs.get(c.name)?.push(m.opsPerSec);
    }
  }
  const cpuNs = new Map<string, number>();
  if (cpu) for (const c of contenders) cpuNs.set(c.name, await cpuPerOp(c, timeMs));
  return contenders.map((c): Measured => {
    const values = [...(runs.get(c.name) ?? [])].sort((a, b) => a - b);
    const median = values[Math.floor(values.length / 2)] ?? 0;
    const range = (values[values.length - 1] ?? 0) - (values[0] ?? 0);
    return {
      name: c.name,
      opsPerSec: median,
      spreadPct: (range / 2 / median) * 100,
      samples: values.length,
      cpuNsPerOp: cpuNs.get(c.name),
    };
  });
}

/** CPU time per operation of `c`, all threads: whole iterations for about `timeMs`. */
async function cpuPerOp(c: Contender, timeMs: number): Promise<number> {
  let ops = 0;
  const start = performance.now();
  const before = process.cpuUsage();
  do {
    await c.fn();
    ops += c.ops;
  } while (performance.now() - start < timeMs);
  const used = process.cpuUsage(before);
  return ((used.user + used.system) * 1000) / ops;
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

export function printTable(title: string, rows: Measured[]): void {
  console.log(`\n${title}`);
  const cells = rows.map((r) => [
    r.name,
    `${fmt(r.opsPerSec)} ops/s`,
    `±${r.spreadPct.toFixed(1)}%`,
    `(${r.samples} rounds)`,
    r.cpuNsPerOp === undefined ? '' : `${fmt(r.cpuNsPerOp)} CPU ns/op`,
  ]);
  console.log(
    table(cells, { align: ['left', 'right', 'right', 'left', 'right'], indent: 2, gap: 2 }),
  );
}

export interface Ratio {
  name: string;
  value: number;
  target: number | null;
}

export function printRatios(title: string, ratios: Ratio[]): void {
  console.log(`\n${title}`);
  const cells = ratios.map((r) => [
    r.name,
    `${r.value.toFixed(2)}×`,
    r.target === null ? '' : `${r.value >= r.target ? '✓' : '✗'} target ≥ ${r.target}×`,
  ]);
  console.log(table(cells, { align: ['left', 'right', 'left'], indent: 2, gap: 2 }));
}
