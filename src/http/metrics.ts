/**
 * Prometheus metrics (prom-client), in a registry of the server's own: requests and
 * their latency by route and status, engine outcomes by status, and gauges read from
 * the engine when scraped — queue depth, lock contention, offsets. The engine's
 * counters are read once per scrape (one stats() and one lockStats() call), not per
 * metric.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Inventory } from '../inventory.js';
import type { JournalStats } from '../journal/client.js';
import type { EngineStats, LockStats } from '../types.js';
import { routeOf } from './auth.js';

type Reading = { stats: EngineStats; locks: LockStats; journal: JournalStats };

/** The engine's figures, read at each scrape: name, help, and where the value comes from. */
const ENGINE_GAUGES: [string, string, (r: Reading) => number | undefined][] = [
  ['lockstock_queue_depth', 'updates waiting for a worker', (r) => r.stats.queued],
  ['lockstock_queue_size', 'updates that may wait for a worker at most', (r) => r.stats.queueSize],
  ['lockstock_products', 'live products', (r) => r.stats.products],
  ['lockstock_offset', 'the last change offset taken', (r) => r.stats.offset],
  [
    'lockstock_durable_offset',
    'the largest offset below which every change is on disk',
    (r) => r.stats.durableOffset,
  ],
  [
    'lockstock_pool_utilization',
    'share of pool thread time spent applying batches',
    (r) => r.stats.poolUtilization,
  ],
  [
    'lockstock_task_wait_p99_seconds',
    'p99 wait of a batch for a pool thread',
    (r) => r.stats.taskWaitMs.p99 / 1000,
  ],
  ['lockstock_lock_acquisitions', 'lock acquisitions since open', (r) => r.locks.acquisitions],
  ['lockstock_lock_contended', 'acquisitions that found the lock taken', (r) => r.locks.contended],
  ['lockstock_lock_wait_seconds', 'time spent waiting for locks', (r) => r.locks.waitMs / 1000],
  ['lockstock_lock_hold_seconds', 'time write holders held locks', (r) => r.locks.holdMs / 1000],
  [
    'lockstock_lock_max_hold_seconds',
    'the longest hold of a lock',
    (r) => r.locks.maxHoldMs / 1000,
  ],
  ['lockstock_journal_fsyncs', 'journal fdatasyncs since open', (r) => r.journal.fsyncs],
  [
    'lockstock_journal_fsync_p50_seconds',
    'median journal fdatasync latency',
    (r) => r.journal.fsyncP50Ms / 1000,
  ],
  [
    'lockstock_journal_fsync_p99_seconds',
    'p99 journal fdatasync latency',
    (r) => r.journal.fsyncP99Ms / 1000,
  ],
  [
    'lockstock_journal_fsync_max_seconds',
    'longest journal fdatasync',
    (r) => r.journal.fsyncMaxMs / 1000,
  ],
  [
    'lockstock_journal_group_size',
    'changes per group commit, on average',
    (r) => r.journal.meanGroupSize,
  ],
  ['lockstock_replays', 'requests answered from the idempotency cache', (r) => r.stats.replays],
  ['lockstock_queue_full', 'requests answered queue_full', (r) => r.stats.queueFull],
];

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly latency: Histogram<'method' | 'route' | 'status'>;
  private readonly outcomes: Counter<'kind' | 'status'>;
  private reading: Reading | null = null;

  constructor(private readonly inventory: Inventory) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'lockstock_' });
    this.requests = new Counter({
      name: 'lockstock_http_requests_total',
      help: 'HTTP requests answered, by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'lockstock_http_request_duration_seconds',
      help: 'time from a request arriving to its answer being sent',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
      registers,
    });
    this.outcomes = new Counter({
      name: 'lockstock_outcomes_total',
      help: 'engine outcomes, by kind of request (update, order, set, delete) and status',
      labelNames: ['kind', 'status'],
      registers,
    });
    for (const [name, help, read] of ENGINE_GAUGES) {
      new Gauge({
        name,
        help,
        registers,
        collect: () => {
          const value = this.reading === null ? undefined : read(this.reading);
          if (value !== undefined) this.gaugeOf(name).set(value);
        },
      });
    }
  }

  private gaugeOf(name: string): Gauge {
    return this.registry.getSingleMetric(name) as Gauge;
  }

  private readonly outcomeSeries = new Map<string, (n: number) => void>();

  /** Counts `n` engine outcomes of one kind and status (the series looked up once). */
  outcome(kind: 'update' | 'order' | 'set' | 'delete' | 'create', status: string, n = 1): void {
    const key = `${kind} ${status}`;
    let inc = this.outcomeSeries.get(key);
    if (inc === undefined) {
      const series = this.outcomes.labels({ kind, status });
      inc = (count) => series.inc(count);
      this.outcomeSeries.set(key, inc);
    }
    if (n > 0) inc(n);
  }

  /** The Prometheus text: the engine read once, then every metric collected. */
  async scrape(): Promise<string> {
    const journal = await this.inventory.journalStats();
    this.reading = { stats: this.inventory.stats(), locks: this.inventory.lockStats(), journal };
    try {
      return await this.registry.metrics();
    } finally {
      this.reading = null;
    }
  }

  /**
   * Counts and times every answered request, by the route it matched. The labelled
   * series of each (method, route, status) are looked up once and kept: prom-client
   * would otherwise check and hash the labels twice per request.
   */
  register(app: FastifyInstance): void {
    const series = new Map<string, { count: () => void; time: (s: number) => void }>();
    app.addHook('onResponse', (request, reply, done) => {
      // Unmatched URLs share one label: a scanner must not grow the label set.
      const route = request.routeOptions.url === undefined ? 'unmatched' : routeOf(request);
      const key = `${request.method} ${route} ${reply.statusCode}`;
      let s = series.get(key);
      if (s === undefined) {
        const labels = { method: request.method, route, status: String(reply.statusCode) };
        const counter = this.requests.labels(labels);
        const histogram = this.latency.labels(labels);
        s = { count: () => counter.inc(), time: (seconds) => histogram.observe(seconds) };
        series.set(key, s);
      }
      s.count();
      s.time(reply.elapsedTime / 1000);
      done();
    });
  }
}
