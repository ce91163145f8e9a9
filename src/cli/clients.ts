/**
 * One simulated client's operation against the engine: an update (with OCC re-reads
 * and retries, and a replay of its idempotency key), an order, a read or a list page.
 *
 * Once the run is over (`stopped()`), a client sends nothing more: an update that got
 * a version conflict is not retried and a reply is not replayed, so what is left to
 * settle after a deadline is at most one request per client, the one already sent.
 * Every request sent is awaited and counted, so the books stay exact.
 */
import type { Inventory } from '../inventory.js';
import type { UpdateRequest } from '../types.js';
import type { Tally } from './books.js';
import type { Op } from './workload.js';

/** The calls a client makes: the engine's public API, or a stand-in in tests. */
export type Engine = Pick<Inventory, 'get' | 'update' | 'order' | 'list'>;

export interface Client {
  inv: Engine;
  /** Product ids by catalog index. */
  ids: string[];
  occ: boolean;
  retries: number;
  seed: number;
  /**
   * Tells this run's keys from every earlier run's: with a data directory, keys are
   * remembered across runs, and a key from an earlier run would replay its outcome.
   */
  run: string;
  tally: Tally;
  /** True once the run is over: no new request after that. */
  stopped: () => boolean;
}

export async function perform(c: Client, op: Op): Promise<void> {
  switch (op.kind) {
    case 'read':
      c.inv.get(c.ids[op.product] as string);
      c.tally.outcomes.reads++;
      return;
    case 'list':
      await c.inv.list({ limit: 100, after: c.ids[op.product] as string });
      c.tally.outcomes.lists++;
      return;
    case 'order': {
      const items = op.products.map((p, i) => ({
        productId: c.ids[p] as string,
        delta: op.deltas[i] as number,
      }));
      c.tally.order(op.products, op.deltas, await c.inv.order({ items }));
      return;
    }
    case 'update':
      await update(c, op);
  }
}

async function update(c: Client, op: Extract<Op, { kind: 'update' }>): Promise<void> {
  const id = c.ids[op.product] as string;
  for (let attempt = 0; ; attempt++) {
    const request: UpdateRequest = { productId: id, delta: op.delta };
    if (c.occ) {
      const current = c.inv.get(id);
      if (current !== undefined) request.expectedVersion = current.version;
    }
    // A retry after a conflict is a new request, so it takes a new key.
    if (op.replay) request.idempotencyKey = `load-${c.seed}-${c.run}-${op.index}-${attempt}`;
    const outcome = await c.inv.update(request);
    c.tally.update(op.product, op.delta, outcome);
    if (op.replay && !c.stopped()) {
      // The client lost the reply and sends the same request again.
      const again = await c.inv.update({ ...request });
      if (JSON.stringify(again) === JSON.stringify(outcome)) c.tally.outcomes.replayed++;
      else {
        c.tally.violations.push({
          productId: id,
          check: `replayed key ${request.idempotencyKey} answered the same outcome`,
          expected: JSON.stringify(outcome),
          actual: JSON.stringify(again),
        });
      }
    }
    if (outcome.status !== 'version_conflict' || attempt >= c.retries || c.stopped()) return;
    c.tally.outcomes.retried++;
  }
}
