/** Which answers carry Idempotent-Replayed: the server's record of keys. */
import { describe, expect, it } from 'vitest';
import { Replays } from '../../src/http/replays.js';

describe('replays', () => {
  it('a key answered once is a replay the next time', () => {
    const r = new Replays(1000, 10);
    expect(r.settle('k', r.arrive('k'), 'applied')).toBe(false);
    expect(r.settle('k', r.arrive('k'), 'applied')).toBe(true);
  });

  it('outcomes the engine does not record under a key are never replays', () => {
    const r = new Replays(1000, 10);
    for (const status of ['invalid_request', 'queue_full', 'idempotency_key_reused']) {
      expect(r.settle('k', r.arrive('k'), status)).toBe(false);
    }
    expect(r.size).toBe(0);
    // A refusal of the first request leaves the key free for a first real answer.
    expect(r.settle('k', r.arrive('k'), 'version_conflict')).toBe(false);
    expect(r.settle('k', r.arrive('k'), 'version_conflict')).toBe(true);
  });

  it('a duplicate that arrives while the first is in flight shares its answer: a replay', () => {
    const r = new Replays(1000, 10);
    const first = r.arrive('k');
    const second = r.arrive('k');
    expect(r.settle('k', first, 'applied')).toBe(false);
    expect(r.settle('k', second, 'applied')).toBe(true);
  });

  it('forgets a key after the TTL, and the oldest beyond maxKeys', () => {
    let now = 0;
    const r = new Replays(100, 2, 0, () => now);
    r.settle('a', r.arrive('a'), 'applied');
    now = 50;
    r.settle('b', r.arrive('b'), 'applied');
    r.settle('c', r.arrive('c'), 'applied');
    expect(r.size).toBe(2);
    expect(r.settle('a', r.arrive('a'), 'applied')).toBe(false);
    now = 1000;
    expect(r.settle('b', r.arrive('b'), 'applied')).toBe(false);
  });
});

describe('after a restart', () => {
  it('an applied outcome from before the engine opened is a replay', () => {
    const r = new Replays(1000, 10, 50);
    expect(r.settle('k', r.arrive('k'), 'applied', 42)).toBe(true);
    expect(r.settle('n', r.arrive('n'), 'applied', 51)).toBe(false);
    expect(r.settle('c', r.arrive('c'), 'version_conflict')).toBe(false);
  });
});
