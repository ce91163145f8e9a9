/**
 * `lockstock bench --durability`: what keeping acknowledged changes costs, on this
 * machine's disk, with every figure measured beside its reference in one run.
 *
 *   1–4  per-call keyed update(), 2000 in flight, nothing to do under the lock:
 *        lockstock in memory, durability 'fsync' and 'write'; one write and one
 *        fdatasync per update; the single-thread engine with the same journal and
 *        group commit (and without it, for what its journal costs it); Redis with
 *        appendfsync always running the same Lua script.
 *        Interleaved rounds (bench/harness.ts), the median of each.
 *   5    updateMany, batches of 10 000, in memory and durable (the same engines).
 *   6    reopening N products and N journal records of updates, the products in a
 *        snapshot and, again, with no snapshot (child processes).
 *   7    writers' latency and the event loop's longest stall during checkpoints of N
 *        products (a child process).
 *
 * Everything is written under one temporary directory, removed at the end.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { type Machine, machine } from '../src/cli/machine.js';
import { Inventory } from '../src/index.js';
import { SingleThreadInventory } from './baseline.js';
import { drive, type Op, type Target, updates } from './drive.js';
import { type CheckpointFigures, checkpointCase } from './durable-checkpoint.js';
import { type ReopenFigures, type ReopenLayout, reopenCase } from './durable-reopen.js';
import { catalog, engineOptions } from './durable-setup.js';
import { type Contender, compare } from './harness.js';
import { FsyncPerUpdate } from './peers/fsync-per-update.js';
import { GroupCommitInventory } from './peers/group-commit.js';
import { REDIS_MISSING, RedisInventory, redisInstalled } from './peers/redis.js';
import { DurableRedis } from './peers/redis-aof.js';

/** Case 1–4's workload: as the README's per-call figures. */
export const PER_CALL = { products: 1000, calls: 20_000, inFlight: 2000 } as const;
/** Keys each engine keeps: small enough that every cache is full within the warm-up. */
const MAX_KEYS = 100_000;
/** Case 5: rows per updateMany call. */
export const BATCH = 10_000;

/** The engines of cases 1–5, as the report names them. */
const ENGINES = {
  memory: 'lockstock, in memory',
  fsync: "lockstock, durability 'fsync'",
  write: "lockstock, durability 'write'",
  single: 'single-thread engine, in memory',
  groupCommit: 'single-thread engine + journal, group commit',
  redis: 'Redis + Lua, appendfsync always',
  fsyncPerUpdate: 'one write + fdatasync per update',
} as const;

export type EngineKey = keyof typeof ENGINES;

export interface DurabilityOptions {
  /** Where the temporary directory is made (the disk under test). */
  dir: string;
  /** Interleaved runs per figure of cases 1–5; the median is reported. */
  rounds: number;
  /** Time per run, ms. */
  timeMs: number;
  minIterations: number;
  /** Updates per iteration of the one-fdatasync-per-update loop. */
  loopUpdates: number;
  /** Products (and journal records) of cases 6 and 7; null leaves them out. */
  heavy: { products: number; checkpoints: number; quietMs: number } | null;
  progress: ((line: string) => void) | null;
}

export interface EngineResult {
  engine: EngineKey;
  name: string;
  opsPerSec: number;
  /** Half the range over the rounds, as a share of the median. */
  spread: number;
  /**
   * A durable lockstock engine's journal: records per group commit over the case
   * (warm-ups included), and its fsync latency since open.
   */
  journal?: { meanGroup: number; fsyncP50Ms: number; fsyncP99Ms: number };
}

export interface DurabilityReport {
  machine: Machine;
  /** Where the temporary directory was (its disk is the one measured). */
  dir: string;
  perCall: typeof PER_CALL & { keyed: true; results: EngineResult[] };
  updateMany: { batch: number; products: number; results: EngineResult[] };
  /** Case 6: the products in a snapshot, then in the journal only. */
  reopen: ReopenFigures[] | null;
  checkpoint: CheckpointFigures | null;
  notes: string[];
}

interface Entrant {
  engine: EngineKey;
  /** One per-call iteration (case 1–4) and the updates it makes. */
  iteration: () => unknown;
  updates: number;
  /** A lockstock engine (case 5 runs these), and whether it has a data directory. */
  lockstock: { inv: Inventory; durable: boolean } | null;
  close: () => unknown;
}

/**
 * Opens every engine of cases 1–4 under `root`, each iteration driving `ops` through
 * it (the fdatasync loop: `loopUpdates` updates). Redis is left out, with a note, where
 * it is not installed. If one fails to open, those opened are closed again.
 */
async function openEngines(
  root: string,
  ops: readonly Op[],
  loopUpdates: number,
  notes: string[],
): Promise<Entrant[]> {
  const products = catalog(PER_CALL.products);
  const sub = (name: string) => {
    const dir = path.join(root, name);
    mkdirSync(dir);
    return dir;
  };
  const entrants: Entrant[] = [];
  const add = (
    engine: EngineKey,
    target: Target,
    close: () => unknown,
    lockstock: Entrant['lockstock'] = null,
  ) =>
    entrants.push({
      engine,
      iteration: drive(target, ops, PER_CALL.inFlight, true),
      updates: ops.length,
      lockstock,
      close,
    });
  const lockstock = async (engine: EngineKey, dataDir: string | null, mode?: 'fsync' | 'write') => {
    const inv = await Inventory.open({
      ...engineOptions(products, dataDir, mode),
      idempotency: { maxKeys: MAX_KEYS },
    });
    add(engine, inv, () => inv.close(), { inv, durable: dataDir !== null });
  };
  try {
    await lockstock('memory', null);
    await lockstock('fsync', sub('fsync'), 'fsync');
    await lockstock('write', sub('write'), 'write');
    // The peer below without its journal: what its durability costs it.
    const single = new SingleThreadInventory({ products, idempotency: { maxKeys: MAX_KEYS } });
    add('single', single, () => single.close());
    const group = new GroupCommitInventory({
      products,
      dir: sub('group-commit'),
      idempotency: { maxKeys: MAX_KEYS },
    });
    add('groupCommit', group, () => group.close());
    if (redisInstalled()) {
      const server = await DurableRedis.start(sub('redis'));
      const redis = await RedisInventory.open(server.client(), products, 'aof', true).catch(
        async (error: unknown) => {
          await server.stop();
          throw error;
        },
      );
      add('redis', redis, () => {
        redis.close();
        return server.stop();
      });
    } else {
      notes.push(REDIS_MISSING);
    }
    const loop = new FsyncPerUpdate(sub('fsync-per-update'));
    entrants.push({
      engine: 'fsyncPerUpdate',
      iteration: () => loop.run(loopUpdates),
      updates: loopUpdates,
      lockstock: null,
      close: () => loop.close(),
    });
    return entrants;
  } catch (error) {
    for (const e of entrants) await e.close();
    throw error;
  }
}

/** A durable engine's journal counters at the end of the last case. */
const counted = new WeakMap<Inventory, { records: number; groups: number }>();

/** Each entrant's figure; a durable engine's journal over the case. */
async function results(
  entrants: readonly Entrant[],
  measured: { opsPerSec: number; spreadPct: number }[],
): Promise<EngineResult[]> {
  const out: EngineResult[] = [];
  for (const [i, e] of entrants.entries()) {
    const result: EngineResult = {
      engine: e.engine,
      name: ENGINES[e.engine],
      opsPerSec: Math.round(measured[i]?.opsPerSec ?? 0),
      spread: Math.round((measured[i]?.spreadPct ?? 0) * 10) / 1000,
    };
    if (e.lockstock?.durable === true) {
      const inv = e.lockstock.inv;
      const j = await inv.journalStats();
      const before = counted.get(inv) ?? { records: 0, groups: 0 };
      counted.set(inv, { records: j.records, groups: j.groups });
      result.journal = {
        meanGroup: Math.round((j.records - before.records) / Math.max(1, j.groups - before.groups)),
        fsyncP50Ms: j.fsyncP50Ms,
        fsyncP99Ms: j.fsyncP99Ms,
      };
    }
    out.push(result);
  }
  return out;
}

/** Cases 1–5 on one set of engines. */
async function lightCases(root: string, o: DurabilityOptions, notes: string[]) {
  const ids = catalog(PER_CALL.products).map((p) => p.productId);
  const entrants = await openEngines(root, updates(ids, PER_CALL.calls), o.loopUpdates, notes);
  try {
    o.progress?.(
      `cases 1–4: per-call keyed update(), ${PER_CALL.inFlight} in flight, ${entrants.length} engines × ${o.rounds} rounds…`,
    );
    const perCall: Contender[] = entrants.map((e) => ({
      name: e.engine,
      ops: e.updates,
      fn: e.iteration,
    }));
    const perCallResults = await results(
      entrants,
      await compare(perCall, o.timeMs, o.rounds, o.minIterations),
    );
    o.progress?.(`case 5: updateMany, batches of ${BATCH.toLocaleString('en-US')}…`);
    const batch = Array.from({ length: BATCH }, (_, i) => ({
      productId: ids[i % ids.length] as string,
      delta: -1,
    }));
    const many = entrants.filter((e) => e.lockstock !== null);
    const manyResults = await results(
      many,
      await compare(
        many.map((e) => ({
          name: e.engine,
          ops: BATCH,
          fn: () => e.lockstock?.inv.updateMany(batch),
        })),
        o.timeMs,
        o.rounds,
        o.minIterations,
      ),
    );
    return { perCallResults, manyResults };
  } finally {
    for (const e of entrants) await e.close();
  }
}

export async function durability(o: DurabilityOptions): Promise<DurabilityReport> {
  const notes: string[] = [];
  const root = mkdtempSync(path.join(o.dir, 'lockstock-durability-'));
  const removeRoot = () => rmSync(root, { recursive: true, force: true });
  // Interrupted, the run still removes what it wrote.
  const interrupted = (signal: NodeJS.Signals) => {
    removeRoot();
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const { perCallResults, manyResults } = await lightCases(root, o, notes);
    let reopen: ReopenFigures[] | null = null;
    let checkpoint: CheckpointFigures | null = null;
    if (o.heavy === null) {
      notes.push('cases 6 and 7 (reopen, checkpoint) skipped: --skip-heavy');
    } else {
      const { products, checkpoints, quietMs } = o.heavy;
      const count = products.toLocaleString('en-US');
      reopen = [];
      for (const layout of ['snapshot', 'journal'] as ReopenLayout[]) {
        o.progress?.(
          `case 6: ${count} products ${layout === 'snapshot' ? 'in a snapshot' : 'in the journal'} + ${count} journal records of updates, then reopening…`,
        );
        const reopenDir = path.join(root, `reopen-${layout}`);
        mkdirSync(reopenDir);
        reopen.push(await reopenCase(reopenDir, products, layout));
        rmSync(reopenDir, { recursive: true, force: true });
      }
      o.progress?.(`case 7: ${checkpoints} checkpoint(s) of ${count} products under writers…`);
      const checkpointDir = path.join(root, 'checkpoint');
      mkdirSync(checkpointDir);
      checkpoint = await checkpointCase(checkpointDir, products, checkpoints, quietMs);
    }
    return {
      machine: machine(),
      dir: o.dir,
      perCall: { ...PER_CALL, keyed: true, results: perCallResults },
      updateMany: { batch: BATCH, products: PER_CALL.products, results: manyResults },
      reopen,
      checkpoint,
      notes,
    };
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    removeRoot();
  }
}
