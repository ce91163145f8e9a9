/**
 * Case 7 of `lockstock bench --durability`: what a checkpoint of `n` products costs the
 * writers that keep running through it. In a process of its own, an fsync-mode engine
 * with `n` products serves WRITERS closed-loop clients (each sends its next update
 * when the last resolved, to a product picked at random), while quiet stretches
 * alternate with `checkpoint()` calls: quiet, checkpoint, quiet, …, quiet. Each call's
 * latency counts in the stretch it completed in; a 5 ms timer measures the longest
 * event-loop stall of each. The first checkpoint (of the initial catalog,
 * which open journaled) is a warm-up and is not measured.
 */
import { fileURLToPath } from 'node:url';
import { Inventory } from '../src/index.js';
import {
  asChild,
  catalog,
  childJson,
  engineOptions,
  productId,
  StallMeter,
} from './durable-setup.js';

/** Closed-loop writers: calls in flight. */
export const WRITERS = 64;

export interface StretchFigures {
  /** Calls completed, and their rate. */
  calls: number;
  callsPerSec: number;
  /** Latency of the calls completed in the stretch, ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The longest gap a 5 ms timer saw. */
  stallMs: number;
}

export interface CheckpointFigures {
  products: number;
  writers: number;
  checkpoints: number;
  /** checkpoint() wall clock, the median of the measured ones; the snapshot's size. */
  checkpointMs: number;
  snapshotMb: number;
  quiet: StretchFigures;
  during: StretchFigures;
}

/** One kind of stretch: its calls' latencies (ms), its time, and its longest stall. */
class Stretch {
  readonly latencyMs: number[] = [];
  ms = 0;
  stallMs = 0;

  figures(): StretchFigures {
    const sorted = Float64Array.from(this.latencyMs).sort();
    const at = (p: number) =>
      sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
    const r2 = (x: number) => Math.round(x * 100) / 100;
    return {
      calls: sorted.length,
      callsPerSec: Math.round(sorted.length / (this.ms / 1000)),
      p50Ms: r2(at(0.5)),
      p99Ms: r2(at(0.99)),
      maxMs: r2(sorted[sorted.length - 1] ?? 0),
      stallMs: Math.round(this.stallMs),
    };
  }
}

async function measure(dir: string, n: number, checkpoints: number, quietMs: number) {
  const inv = await Inventory.open(engineOptions(catalog(n), dir, 'fsync'));
  try {
    await inv.checkpoint();
    const quiet = new Stretch();
    const during = new Stretch();
    let current = quiet;
    let stopped = false;
    let random = 12345;
    const writer = async () => {
      while (!stopped) {
        // xorshift32: a product at random, the same sequence every run.
        random ^= random << 13;
        random ^= random >>> 17;
        random ^= random << 5;
        const started = performance.now();
        await inv.update({ productId: productId((random >>> 0) % n), delta: -1 });
        current.latencyMs.push(performance.now() - started);
      }
    };
    const meter = new StallMeter();
    const running = Array.from({ length: WRITERS }, writer);
    const stretch = async (into: Stretch, body: () => Promise<void>) => {
      current = into;
      meter.take();
      const started = performance.now();
      await body();
      into.ms += performance.now() - started;
      into.stallMs = Math.max(into.stallMs, meter.take());
    };
    const sleep = () => new Promise<void>((resolve) => setTimeout(resolve, quietMs));
    const checkpointMs: number[] = [];
    let snapshotBytes = 0;
    await stretch(quiet, sleep);
    for (let i = 0; i < checkpoints; i++) {
      await stretch(during, async () => {
        const c = await inv.checkpoint();
        checkpointMs.push(c.ms);
        snapshotBytes = c.bytes;
      });
      await stretch(quiet, sleep);
    }
    stopped = true;
    await Promise.all(running);
    meter.stop();
    checkpointMs.sort((a, b) => a - b);
    return {
      products: n,
      writers: WRITERS,
      checkpoints,
      checkpointMs: Math.round(checkpointMs[checkpointMs.length >> 1] as number),
      snapshotMb: Math.round(snapshotBytes / 2 ** 20),
      quiet: quiet.figures(),
      during: during.figures(),
    } satisfies CheckpointFigures;
  } finally {
    await inv.close();
  }
}

/** Case 7, in a child process: `dir` must be empty. */
export function checkpointCase(
  dir: string,
  n: number,
  checkpoints: number,
  quietMs: number,
): Promise<CheckpointFigures> {
  return childJson<CheckpointFigures>(fileURLToPath(import.meta.url), [
    dir,
    String(n),
    String(checkpoints),
    String(quietMs),
  ]);
}

asChild(import.meta.url, process.argv[1], () => {
  const [dir, n, checkpoints, quietMs] = process.argv.slice(2);
  if (dir === undefined)
    throw new Error('usage: durable-checkpoint.js <dir> <products> <checkpoints> <quiet ms>');
  return measure(dir, Number(n), Number(checkpoints), Number(quietMs));
});
