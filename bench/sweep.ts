/**
 * The thread-scaling sweep behind `lockstock bench`: thread counts × lock modes ×
 * scenarios, with the peers a user would pick instead, measured side by side.
 *
 * For each scenario and thread count, lockstock in every mode (and the one-task-per-
 * update design at that thread count) run in interleaved rounds; the peers without
 * threads (the single-thread engine, Redis) join the first group. Each figure is the
 * median over the rounds; its spread is half the range, as a share of the median.
 */
import { type Machine, machine } from '../src/cli/machine.js';
import { Inventory } from '../src/index.js';
import type { LockMode } from '../src/types.js';
import { SingleThreadInventory } from './baseline.js';
import { drive, type Op } from './drive.js';
import { type Contender, compare } from './harness.js';
import { NaiveInventory } from './naive.js';
import { REDIS_MISSING, RedisInventory, RedisServer, redisInstalled } from './peers/redis.js';
import { type PeerKind, type Scenario, scenarios } from './scenarios.js';

export interface SweepOptions {
  threads: number[];
  modes: LockMode[];
  /** Scenario ids (1–7) to run. */
  scenarios: number[];
  peers: boolean;
  /** Per contender per round, ms. */
  timeMs: number;
  rounds: number;
  /** Iterations per run at least, however long they take. */
  minIterations: number;
  /** Progress lines go here (null: silent). */
  progress: ((line: string) => void) | null;
}

export interface SweepResult {
  scenario: string;
  scenarioId: number;
  /** 'fine' | 'global' for lockstock; a peer's name otherwise. */
  mode: string;
  /** Pool threads; 1 for the single-thread engine and for Redis (one server thread). */
  threads: number;
  opsPerSec: number;
  /** Half the range over the rounds, as a share of the median. */
  spread: number;
}

export interface SweepReport {
  machine: Machine;
  results: SweepResult[];
  notes: string[];
  scenarios: { id: number; key: string; title: string; short: string }[];
}

function onlyUpdates(ops: Op[]): boolean {
  return ops.every((op) => op.kind === 'update');
}

export async function sweep(options: SweepOptions): Promise<SweepReport> {
  const chosen = scenarios().filter((s) => options.scenarios.includes(s.id));
  const results: SweepResult[] = [];
  const notes: string[] = [];
  const wantsRedis =
    options.peers && chosen.some((s) => s.peers.some((p) => p.startsWith('redis')));
  let redis: RedisServer | null = null;
  if (wantsRedis) {
    if (redisInstalled()) redis = await RedisServer.start();
    else notes.push(REDIS_MISSING);
  }
  try {
    for (const scenario of chosen) {
      results.push(...(await runScenario(scenario, options, redis)));
    }
  } finally {
    redis?.stop();
  }
  return {
    machine: machine(),
    results,
    notes,
    scenarios: chosen.map(({ id, key, title, short }) => ({ id, key, title, short })),
  };
}

async function runScenario(
  s: Scenario,
  options: SweepOptions,
  redis: RedisServer | null,
): Promise<SweepResult[]> {
  const results: SweepResult[] = [];
  const ops = s.ops.length;
  const peers = new Set<PeerKind>(options.peers ? s.peers : []);
  for (const [index, threads] of options.threads.entries()) {
    options.progress?.(
      `scenario ${s.id} (${s.key}), ${threads} thread${threads === 1 ? '' : 's'}…`,
    );
    const closers: (() => unknown)[] = [];
    const contenders: (Contender & { mode: string; threads: number })[] = [];
    try {
      for (const mode of options.modes) {
        const inv = await Inventory.open({
          workers: threads,
          lockMode: mode,
          products: s.products,
          simulate: s.simulate,
          idempotency: { maxKeys: s.maxKeys },
          logger: { level: 'silent' },
        });
        closers.push(() => inv.close());
        contenders.push({
          name: `${mode} ${threads}`,
          mode,
          threads,
          ops,
          fn: drive(inv, s.ops, s.window, s.keyed),
        });
      }
      if (peers.has('one-task-per-update') && onlyUpdates(s.ops)) {
        const naive = new NaiveInventory({
          products: s.products,
          workers: threads,
          maxKeys: s.maxKeys,
          ...s.simulate,
        });
        closers.push(() => naive.close());
        contenders.push({
          name: `naive ${threads}`,
          mode: 'one-task-per-update',
          threads,
          ops,
          fn: drive(naive, s.ops, s.window, s.keyed),
        });
      }
      if (index === 0) {
        if (peers.has('single-thread')) {
          const single = new SingleThreadInventory({
            products: s.products,
            idempotency: { maxKeys: s.maxKeys },
            ...s.simulate,
          });
          contenders.push({
            name: 'single',
            mode: 'single-thread',
            threads: 1,
            ops,
            fn: drive(single, s.ops, s.window, s.keyed),
          });
        }
        if (redis !== null) {
          for (const pipelined of [false, true]) {
            const mode: PeerKind = pipelined ? 'redis-lua-pipelined' : 'redis-lua';
            if (!peers.has(mode)) continue;
            const inv = await RedisInventory.open(
              redis.client(pipelined),
              s.products,
              mode,
              !pipelined,
            );
            closers.push(() => inv.close());
            contenders.push({
              name: mode,
              mode,
              threads: 1,
              ops,
              fn: drive(inv, s.ops, s.window, s.keyed),
            });
          }
        }
      }
      const measured = await compare(
        contenders,
        options.timeMs,
        options.rounds,
        options.minIterations,
      );
      contenders.forEach((c, i) => {
        const m = measured[i];
        if (m === undefined) return;
        results.push({
          scenario: s.key,
          scenarioId: s.id,
          mode: c.mode,
          threads: c.threads,
          opsPerSec: Math.round(m.opsPerSec),
          spread: Math.round(m.spreadPct * 10) / 1000,
        });
      });
    } finally {
      for (const close of closers) await close();
    }
  }
  return results;
}
