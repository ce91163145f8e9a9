import { describe, expect, it } from 'vitest';
import {
  MAX_MIX_WEIGHT,
  ProductPicker,
  parseMix,
  parseSkew,
  rng,
  Workload,
  WorkloadError,
} from '../../src/cli/workload.js';

const spec = {
  products: 100,
  skew: parseSkew('zipf:0.99'),
  mix: parseMix('update=90,read=8,order=2'),
  orderSize: 3,
  replay: 0.1,
  seed: 42,
};

function take(w: Workload, n: number) {
  return Array.from({ length: n }, () => w.next());
}

describe('load workload', () => {
  it('sends the same sequence of operations for the same seed, another for another', () => {
    expect(take(new Workload(spec), 500)).toEqual(take(new Workload(spec), 500));
    expect(take(new Workload({ ...spec, seed: 43 }), 500)).not.toEqual(
      take(new Workload(spec), 500),
    );
  });

  it('follows the mix, and orders name distinct products', () => {
    const ops = take(new Workload(spec), 10_000);
    const share = (kind: string) => ops.filter((o) => o.kind === kind).length / ops.length;
    expect(share('update')).toBeGreaterThan(0.85);
    expect(share('read')).toBeGreaterThan(0.05);
    for (const o of ops)
      if (o.kind === 'order') expect(new Set(o.products).size).toBe(o.products.length);
  });

  it('skews picks: zipf favours low ranks, hot sends its share to the hottest 1%', () => {
    const count = (skew: string) => {
      const picker = new ProductPicker(1000, parseSkew(skew), rng(1));
      const hits = new Int32Array(1000);
      for (let i = 0; i < 20_000; i++) {
        const p = picker.next();
        hits[p] = (hits[p] as number) + 1;
      }
      return hits;
    };
    const zipf = count('zipf:0.99');
    expect(zipf[0] as number).toBeGreaterThan((zipf[500] as number) * 50);
    const hot = count('hot:0.9');
    const top = hot.slice(0, 10).reduce((a, b) => a + b, 0);
    expect(top / 20_000).toBeGreaterThan(0.85);
    const uniform = count('uniform');
    expect(Math.max(...uniform)).toBeLessThan(60);
  });

  it('refuses malformed skews and mixes', () => {
    const skews = ['zipf', 'zipf:0', 'hot:2', 'pareto', 'hot:', 'zipf:0x1', 'zipf:1e0', 'zipf:1:2'];
    for (const s of skews) expect(() => parseSkew(s), s).toThrow(WorkloadError);
    const mixes = [
      'update',
      'update=-1',
      'write=1',
      'update=0',
      'update=',
      'update=0x10',
      'update=90=5',
      'update=90,,read=8',
      'update= 90',
    ];
    for (const m of mixes) expect(() => parseMix(m), m).toThrow(WorkloadError);
  });

  it('bounds mix weights so that no kind silently drops out of an infinite total', () => {
    expect(() => parseMix('update=1e308,read=1e308')).toThrow(/from 0 to 1000000/);
    expect(() => parseMix(`update=${MAX_MIX_WEIGHT + 1}`)).toThrow(/from 0 to 1000000/);
    expect(() => parseMix('update=90,update=5')).toThrow(/names update twice/);
    const mix = parseMix(`update=${MAX_MIX_WEIGHT},read=${MAX_MIX_WEIGHT}`);
    const ops = take(new Workload({ ...spec, mix }), 2000);
    expect(ops.some((o) => o.kind === 'read')).toBe(true);
    expect(ops.some((o) => o.kind === 'update')).toBe(true);
    // A mix built by hand, past the parser, is refused too.
    const infinite = { update: Number.MAX_VALUE, read: Number.MAX_VALUE, order: 0, list: 0 };
    expect(() => new Workload({ ...spec, mix: infinite })).toThrow(/finite total/);
  });
});
