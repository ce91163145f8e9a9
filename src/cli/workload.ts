/**
 * What the load runner sends: a seeded, reproducible sequence of operations over a
 * catalog, with a chosen mix of kinds and skew over products.
 */
import { decimal } from './args.js';

export type Skew =
  | { kind: 'uniform' }
  | { kind: 'zipf'; theta: number }
  | { kind: 'hot'; fraction: number };

export const OP_KINDS = ['update', 'read', 'order', 'list'] as const;
export type OpKind = (typeof OP_KINDS)[number];
export type Mix = Record<OpKind, number>;

/** A problem with a workload description, phrased for a command line. */
export class WorkloadError extends Error {}

export function parseSkew(text: string): Skew {
  if (text === 'uniform') return { kind: 'uniform' };
  const match = /^(zipf|hot):(.*)$/.exec(text);
  const n = match === null ? null : decimal(match[2] as string);
  if (match?.[1] === 'zipf' && n !== null && n > 0 && n < 10) return { kind: 'zipf', theta: n };
  if (match?.[1] === 'hot' && n !== null && n >= 0 && n <= 1) return { kind: 'hot', fraction: n };
  throw new WorkloadError(
    `must be uniform, zipf:<theta> (0 < theta < 10) or hot:<fraction> (0–1), got '${text}'`,
  );
}

export function formatSkew(s: Skew): string {
  return s.kind === 'uniform'
    ? 'uniform'
    : s.kind === 'zipf'
      ? `zipf:${s.theta}`
      : `hot:${s.fraction}`;
}

/**
 * The largest weight in a mix: weights are shares of a total, so any finite bound
 * will do, and this one keeps the total far from Infinity (where every share is 0 or
 * NaN and a kind silently drops out).
 */
export const MAX_MIX_WEIGHT = 1_000_000;

/** `update=90,read=8,order=2` → weights; kinds left out weigh 0. */
export function parseMix(text: string): Mix {
  const mix: Mix = { update: 0, read: 0, order: 0, list: 0 };
  const seen = new Set<string>();
  for (const part of text.split(',')) {
    const match = /^([a-z]+)=(.*)$/.exec(part);
    const kind = match?.[1] as OpKind;
    const weight = match === null ? null : decimal(match[2] as string);
    if (
      match === null ||
      !OP_KINDS.includes(kind) ||
      weight === null ||
      weight < 0 ||
      weight > MAX_MIX_WEIGHT
    ) {
      throw new WorkloadError(
        `must be kind=weight pairs of ${OP_KINDS.join(', ')}, each weight a decimal number ` +
          `from 0 to ${MAX_MIX_WEIGHT}, got '${text}'`,
      );
    }
    if (seen.has(kind)) throw new WorkloadError(`names ${kind} twice, got '${text}'`);
    seen.add(kind);
    mix[kind] = weight;
  }
  checkMix(mix, text);
  return mix;
}

/** A mix must have a positive, finite total: its shares are weight ÷ total. */
function checkMix(mix: Mix, text: string): void {
  const total = OP_KINDS.reduce((sum, k) => sum + mix[k], 0);
  if (!(total > 0)) throw new WorkloadError(`must give some kind a weight, got '${text}'`);
  if (!Number.isFinite(total)) {
    throw new WorkloadError(`must have a finite total weight, got '${text}'`);
  }
}

export function formatMix(mix: Mix): string {
  return OP_KINDS.filter((k) => mix[k] > 0)
    .map((k) => `${k}=${mix[k]}`)
    .join(',');
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks product indexes with the given skew. Rank 0 is the hottest product. */
export class ProductPicker {
  private readonly cdf: Float64Array | null = null;
  private readonly hotCount: number;

  constructor(
    private readonly count: number,
    private readonly skew: Skew,
    private readonly random: () => number,
  ) {
    this.hotCount = Math.max(1, Math.round(count / 100));
    if (skew.kind === 'zipf') {
      const cdf = new Float64Array(count);
      let sum = 0;
      for (let k = 0; k < count; k++) {
        sum += 1 / (k + 1) ** skew.theta;
        cdf[k] = sum;
      }
      for (let k = 0; k < count; k++) cdf[k] = (cdf[k] as number) / sum;
      this.cdf = cdf;
    }
  }

  next(): number {
    const u = this.random();
    if (this.cdf !== null) {
      // The first rank whose cumulative weight reaches u.
      let lo = 0;
      let hi = this.count - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((this.cdf[mid] as number) < u) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    }
    if (this.skew.kind === 'hot' && this.hotCount < this.count) {
      // `fraction` of the traffic goes to the hottest 1% of products.
      return this.random() < this.skew.fraction
        ? Math.floor(u * this.hotCount)
        : this.hotCount + Math.floor(u * (this.count - this.hotCount));
    }
    return Math.floor(u * this.count);
  }
}

export type Op =
  | { kind: 'update'; index: number; product: number; delta: number; replay: boolean }
  | { kind: 'read'; index: number; product: number }
  | { kind: 'order'; index: number; products: number[]; deltas: number[] }
  | { kind: 'list'; index: number; product: number };

export interface WorkloadSpec {
  products: number;
  skew: Skew;
  mix: Mix;
  orderSize: number;
  replay: number;
  seed: number;
}

/**
 * The operations, in order: op i is the same for the same spec whatever the
 * concurrency, because clients take ops from this one sequence in turn.
 */
export class Workload {
  private readonly random: () => number;
  private readonly picker: ProductPicker;
  private readonly thresholds: number[];
  private issued = 0;

  constructor(private readonly spec: WorkloadSpec) {
    this.random = rng(spec.seed);
    this.picker = new ProductPicker(spec.products, spec.skew, this.random);
    checkMix(spec.mix, formatMix(spec.mix));
    const total = OP_KINDS.reduce((sum, k) => sum + spec.mix[k], 0);
    let acc = 0;
    this.thresholds = OP_KINDS.map((k) => {
      acc += spec.mix[k] / total;
      return acc;
    });
  }

  get count(): number {
    return this.issued;
  }

  next(): Op {
    const index = this.issued++;
    const u = this.random();
    const kind = OP_KINDS[this.thresholds.findIndex((t) => u < t)] ?? 'update';
    switch (kind) {
      case 'update':
        return {
          kind,
          index,
          product: this.picker.next(),
          delta: this.delta(),
          replay: this.spec.replay > 0 && this.random() < this.spec.replay,
        };
      case 'read':
        return { kind, index, product: this.picker.next() };
      case 'list':
        return { kind, index, product: this.picker.next() };
      case 'order': {
        const size = Math.min(this.spec.orderSize, this.spec.products);
        const products: number[] = [];
        for (let tries = 0; products.length < size && tries < size * 20; tries++) {
          const p = this.picker.next();
          if (!products.includes(p)) products.push(p);
        }
        return {
          kind,
          index,
          products,
          deltas: products.map(() => -(1 + Math.floor(this.random() * 2))),
        };
      }
    }
  }

  /** Mostly sales of 1–3 units, a fifth restocks of 1–5: stock drifts down slowly. */
  private delta(): number {
    return this.random() < 0.8
      ? -(1 + Math.floor(this.random() * 3))
      : 1 + Math.floor(this.random() * 5);
  }
}
