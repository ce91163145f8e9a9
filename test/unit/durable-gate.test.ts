import { describe, expect, it } from 'vitest';
import { CL_DURABLE, createChangeBuffer } from '../../memory/change-log.js';
import { counter64, createBuffer, HDR_OFFSET } from '../../memory/layout.js';
import { DurableGate, type DurableLink } from '../../src/durable.js';

/** The gate on its own: a fake link stands in for the journal thread's messages. */
function setup(gated = true) {
  const views = createBuffer(4);
  const cv = createChangeBuffer(1, 65_536);
  let moved: () => void = () => {};
  let failed: (error: Error) => void = () => {};
  const refs: string[] = [];
  const link: DurableLink = {
    onDurable: (listener) => {
      moved = listener;
    },
    onFailure: (listener) => {
      failed = listener;
    },
    ref: () => refs.push('ref'),
    unref: () => refs.push('unref'),
  };
  const gate = new DurableGate(views, cv, link, gated);
  const take = (n: number) => Atomics.store(views.i64, counter64(HDR_OFFSET), BigInt(n));
  const durable = (n: number) => {
    Atomics.store(cv.i64, CL_DURABLE >> 1, BigInt(n));
    moved();
  };
  return { gate, take, durable, fail: (e: Error) => failed(e), refs };
}

describe('the durable gate', () => {
  it('answers in order once the durable offset covers what was taken', () => {
    const { gate, take, durable, refs } = setup();
    const answered: string[] = [];
    take(3);
    gate.whenDurable(() => answered.push('a'));
    take(5);
    gate.whenDurable(() => answered.push('b'));
    expect(answered).toEqual([]);
    expect(refs).toEqual(['ref']);
    durable(4);
    expect(answered).toEqual(['a']);
    durable(5);
    expect(answered).toEqual(['a', 'b']);
    expect(refs).toEqual(['ref', 'unref']);
  });

  it('answers at once without a journal to wait for, or when already durable', () => {
    const { gate, take } = setup(false);
    const answered: (Error | null)[] = [];
    take(9);
    gate.whenDurable((e) => answered.push(e));
    expect(answered).toEqual([null]);

    // Gated, but every change taken is durable already: no wait, no hold on the loop.
    const gated = setup();
    const now: (Error | null)[] = [];
    gated.take(5);
    gated.durable(5);
    gated.gate.whenDurable((e) => now.push(e));
    expect(now).toEqual([null]);
    expect(gated.refs).toEqual([]);
  });

  it('answers everything waiting, and everything after, with the failure', async () => {
    const { gate, take, fail } = setup();
    const answered: (Error | null)[] = [];
    take(2);
    gate.whenDurable((e) => answered.push(e));
    const snapshot = gate.durableAt(2);
    const boom = new Error('disk gone');
    fail(boom);
    expect(answered).toEqual([boom]);
    await expect(snapshot).rejects.toBe(boom);
    take(3);
    gate.whenDurable((e) => answered.push(e));
    expect(answered).toEqual([boom, boom]);
  });

  it('wakes a reader when a change after its offset is durable, else at its time', async () => {
    const { gate, durable } = setup();
    let woke = false;
    const waiting = gate.waitForChange(0, 60_000).then(() => {
      woke = true;
    });
    await Promise.resolve();
    expect(woke).toBe(false);
    durable(1);
    await waiting;
    expect(woke).toBe(true);
    await gate.waitForChange(5, 1);
  });
});
