import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Inventory, InventoryOptions } from '../../src/index.js';
import { open } from '../helpers.js';

/**
 * Model-based: random sequences of calls against a sequential model of the documented
 * semantics, with restarts (close → open) and crashes (the files as a crash leaves
 * them: copied while the engine runs, the copy opened) inserted. fast-check shrinks a
 * failure to the shortest sequence that shows it.
 *
 * The model: stock never below zero; an applied change bumps the version by one and
 * takes the next offset; an order applies all items or none, naming the first that
 * fails; a key answers its first outcome, and another payload under it is reused.
 * Across a restart or crash, keys whose first outcome applied a change come back;
 * keys whose first outcome changed nothing are decided afresh (documented).
 */
const IDS = ['A', 'B', 'C'];

interface ModelProduct {
  available: number;
  version: number;
}
interface Model {
  products: Map<string, ModelProduct>;
  offset: number;
  keys: Map<string, { payload: string; outcome: unknown; applied: boolean }>;
}

interface Real {
  inv: Inventory;
  dir: string;
  options: InventoryOptions;
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function newDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lockstock-prop-'));
  dirs.push(dir);
  return dir;
}

type Step = { status: string; offset?: number; failedItem?: number };

function decide(m: Model, id: string, delta: number, expected: number | undefined): string {
  const p = m.products.get(id);
  if (p === undefined) return 'product_not_found';
  if (expected !== undefined && expected !== p.version) return 'version_conflict';
  if (p.available + delta < 0) return 'insufficient_inventory';
  return 'applied';
}

function keyed(m: Model, key: string | undefined, payload: string, run: () => Step): Step {
  if (key !== undefined) {
    const k = m.keys.get(key);
    if (k !== undefined) {
      return k.payload === payload ? (k.outcome as Step) : { status: 'idempotency_key_reused' };
    }
  }
  const outcome = run();
  if (key !== undefined) {
    m.keys.set(key, { payload, outcome, applied: outcome.status === 'applied' });
  }
  return outcome;
}

class Update implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly id: string,
    readonly delta: number,
    readonly expected: number | undefined,
    readonly key: string | undefined,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const want = keyed(m, this.key, `u${this.id}:${this.delta}:${this.expected}`, () => {
      const status = decide(m, this.id, this.delta, this.expected);
      if (status !== 'applied') return { status };
      const p = m.products.get(this.id) as ModelProduct;
      p.available += this.delta;
      p.version += 1;
      return { status, offset: ++m.offset };
    });
    const got = await r.inv.update({
      productId: this.id,
      delta: this.delta,
      expectedVersion: this.expected,
      idempotencyKey: this.key,
    });
    expect({ status: got.status, offset: 'offset' in got ? got.offset : undefined }).toEqual({
      status: want.status,
      offset: want.offset,
    });
  }
  toString = () => `update(${this.id}, ${this.delta}, v${this.expected}, ${this.key})`;
}

class Order implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly items: { id: string; delta: number }[],
    readonly key: string | undefined,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const payload = `o${this.items.map((i) => `${i.id}:${i.delta}`).join(',')}`;
    const want = keyed(m, this.key, payload, () => {
      for (let i = 0; i < this.items.length; i++) {
        const item = this.items[i] as { id: string; delta: number };
        const status = decide(m, item.id, item.delta, undefined);
        if (status !== 'applied') return { status, failedItem: i };
      }
      const first = m.offset + 1;
      for (const item of this.items) {
        const p = m.products.get(item.id) as ModelProduct;
        p.available += item.delta;
        p.version += 1;
        m.offset++;
      }
      return { status: 'applied', offset: first };
    });
    const got = await r.inv.order({
      items: this.items.map((i) => ({ productId: i.id, delta: i.delta })),
      idempotencyKey: this.key,
    });
    expect({
      status: got.status,
      offset: 'items' in got ? got.items[0]?.offset : undefined,
      failedItem: 'failedItem' in got ? got.failedItem : undefined,
    }).toEqual({ status: want.status, offset: want.offset, failedItem: want.failedItem });
  }
  toString = () => `order(${this.items.map((i) => `${i.id}${i.delta}`).join(' ')}, ${this.key})`;
}

class Restart implements fc.AsyncCommand<Model, Real> {
  constructor(readonly crash: boolean) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    if (this.crash) {
      // What a crash leaves: the files as they are now (every acknowledged change is
      // on disk in fsync mode), without the final snapshot close would write.
      const copy = newDir();
      for (const f of readdirSync(r.dir)) {
        if (f !== 'LOCK') cpSync(path.join(r.dir, f), path.join(copy, f));
      }
      await r.inv.close();
      r.dir = copy;
    } else {
      await r.inv.close();
    }
    r.inv = await open({ ...r.options, dataDir: r.dir });
    for (const [key, k] of m.keys) if (!k.applied) m.keys.delete(key);
    for (const [id, p] of m.products) {
      expect(r.inv.get(id)).toMatchObject({ available: p.available, version: p.version });
    }
    expect(r.inv.stats().offset).toBe(m.offset);
  }
  toString = () => (this.crash ? 'crash' : 'restart');
}

const id = fc.constantFrom(...IDS);
const key = fc.option(fc.constantFrom('k1', 'k2', 'k3', 'k4'), { nil: undefined });
const commands = [
  fc
    .tuple(
      id,
      fc.integer({ min: -4, max: 3 }).filter((d) => d !== 0),
      fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
      key,
    )
    .map(([i, d, v, k]) => new Update(i, d, v, k)),
  fc
    .tuple(fc.uniqueArray(id, { minLength: 1, maxLength: 3 }), fc.integer({ min: -3, max: 2 }), key)
    .map(
      ([ids, d, k]) =>
        new Order(
          ids.map((i, n) => ({ id: i, delta: d - n || -1 })),
          k,
        ),
    ),
  fc.boolean().map((crash) => new Restart(crash)),
];

describe('the engine against a sequential model, with restarts and crashes', () => {
  it('agrees on every outcome and every product', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 30 }), async (cmds) => {
        const options: InventoryOptions = { workers: 2, durability: 'fsync' };
        const dir = newDir();
        const model: Model = {
          products: new Map(IDS.map((i) => [i, { available: 5, version: 1 }])),
          offset: IDS.length,
          keys: new Map(),
        };
        const real: Real = {
          inv: await open({
            ...options,
            dataDir: dir,
            products: IDS.map((productId) => ({ productId, available: 5 })),
          }),
          dir,
          options,
        };
        try {
          await fc.asyncModelRun(() => ({ model, real }), cmds);
          for (const [i, p] of model.products) {
            expect(real.inv.get(i)).toMatchObject({ available: p.available, version: p.version });
          }
        } finally {
          await real.inv.close();
        }
      }),
      { numRuns: 20, seed: 20261130 },
    );
  }, 300_000);
});
