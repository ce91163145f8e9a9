/**
 * Drives an engine the way independent clients would: a fixed list of operations,
 * `window` of them in flight at any time, each completion starting the next. The
 * same driver serves lockstock and every peer, so they see the same workload.
 */
import type { OrderRequest, UpdateRequest } from '../src/types.js';

/** What every engine under test offers (reads may answer synchronously). */
export interface Target {
  update(request: UpdateRequest): Promise<unknown>;
  order?(request: OrderRequest): Promise<unknown>;
  get?(productId: string): unknown;
}

export type Op =
  | { kind: 'update'; productId: string; delta: number }
  | { kind: 'read'; productId: string }
  | { kind: 'order'; items: { productId: string; delta: number }[] };

let keySeq = 0;

/** Starts one operation; undefined when it completed synchronously. */
function start(target: Target, op: Op, keyed: boolean): Promise<unknown> | undefined {
  switch (op.kind) {
    case 'update':
      return target.update(
        keyed ? { productId: op.productId, delta: op.delta, idempotencyKey: `k${keySeq++}` } : op,
      );
    case 'read': {
      const read = target.get?.(op.productId);
      return read instanceof Promise ? read : undefined;
    }
    case 'order':
      return target.order?.(
        keyed ? { items: op.items, idempotencyKey: `o${keySeq++}` } : { items: op.items },
      );
  }
}

/**
 * One iteration: every op of `ops` through `target`, `window` in flight. With
 * `keyed`, each update and order carries a new idempotency key.
 */
export function drive(target: Target, ops: readonly Op[], window: number, keyed: boolean) {
  return () =>
    new Promise<void>((resolve, reject) => {
      let next = 0;
      let inFlight = 0;
      let finished = 0;
      const done = () => {
        inFlight--;
        finished++;
        pump();
      };
      const pump = () => {
        while (inFlight < window && next < ops.length) {
          const pending = start(target, ops[next++] as Op, keyed);
          if (pending === undefined) {
            finished++;
            continue;
          }
          inFlight++;
          pending.then(done, reject);
        }
        if (finished === ops.length) resolve();
      };
      pump();
    });
}

/** `total` updates of −1 cycling over `ids`. */
export function updates(ids: readonly string[], total: number): Op[] {
  return Array.from({ length: total }, (_, i) => ({
    kind: 'update',
    productId: ids[i % ids.length] as string,
    delta: -1,
  }));
}
