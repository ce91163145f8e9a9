import { describe, expect, it } from 'vitest';
import { Tally } from '../../src/cli/books.js';
import { type Client, type Engine, perform } from '../../src/cli/clients.js';
import type { Op } from '../../src/cli/workload.js';
import type { UpdateOutcome, UpdateRequest } from '../../src/types.js';

/**
 * A stand-in engine that answers every update with `answer` and records the
 * requests; `onUpdate` runs as each one is sent (here: the deadline passing).
 */
function engine(answer: UpdateOutcome, onUpdate: () => void = () => {}) {
  const sent: UpdateRequest[] = [];
  const inv: Engine = {
    get: (productId) => ({
      productId,
      name: 'p',
      available: 10,
      price: 1,
      version: 3,
      lastUpdated: '',
    }),
    update: async (request) => {
      sent.push(request);
      onUpdate();
      return answer;
    },
    order: async () => {
      throw new Error('not in this test');
    },
    list: async () => {
      throw new Error('not in this test');
    },
  };
  return { inv, sent };
}

const conflict: UpdateOutcome = {
  status: 'version_conflict',
  productId: 'SKU-0',
  version: 4,
  available: 10,
};
const applied: UpdateOutcome = {
  status: 'applied',
  productId: 'SKU-0',
  available: 9,
  version: 4,
  lastUpdated: '',
  offset: 1,
};

function client(inv: Engine, stopped: () => boolean): Client {
  return {
    inv,
    ids: ['SKU-0'],
    occ: true,
    retries: 3,
    seed: 1,
    run: 'r',
    tally: new Tally(1),
    stopped,
  };
}

const update = (replay: boolean): Op => ({
  kind: 'update',
  index: 0,
  product: 0,
  delta: -1,
  replay,
});

describe('a load client', () => {
  it('retries a conflict up to --retries times while the run goes on', async () => {
    const { inv, sent } = engine(conflict);
    const c = client(inv, () => false);
    await perform(c, update(false));
    expect(sent).toHaveLength(4);
    expect(c.tally.outcomes).toMatchObject({ version_conflict: 4, retried: 3 });
  });

  it('sends no retry once the run is over, and counts the conflict it got', async () => {
    let over = false;
    const { inv, sent } = engine(conflict, () => {
      over = true;
    });
    const c = client(inv, () => over);
    await perform(c, update(false));
    expect(sent).toHaveLength(1);
    expect(c.tally.outcomes).toMatchObject({ version_conflict: 1, retried: 0 });
  });

  it('replays a key while the run goes on, and not once it is over', async () => {
    const going = engine(applied);
    const c1 = client(going.inv, () => false);
    await perform(c1, update(true));
    expect(going.sent).toHaveLength(2);
    expect(going.sent[1]).toEqual(going.sent[0]);
    expect(c1.tally.outcomes).toMatchObject({ applied: 1, replayed: 1 });

    let over = false;
    const ending = engine(applied, () => {
      over = true;
    });
    const c2 = client(ending.inv, () => over);
    await perform(c2, update(true));
    expect(ending.sent).toHaveLength(1);
    // The change it did make is in the books: verification stays exact.
    expect(c2.tally.outcomes).toMatchObject({ applied: 1, replayed: 0 });
    expect(c2.tally.deltas[0]).toBe(-1);
    expect(c2.tally.changes[0]).toBe(1);
  });
});
