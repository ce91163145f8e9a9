/**
 * `lockstock serve` as a user runs it: refusals exit 2 in one line, SIGTERM stops
 * gracefully (the request in flight is answered, exit 0), a second signal exits at once.
 */
import { describe, expect, it } from 'vitest';
import { lockstock } from '../cli/run.js';
import { until } from '../helpers.js';
import { request, spawnServe as start } from './serve.js';

/** Waits until the engine has a task on its threads (polled over HTTP, bounded). */
async function untilWorking(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const locks = await request(url, 'GET', '/v1/admin/locks');
    if (locks.body.engine.tasksInFlight > 0) return;
    if (Date.now() > deadline) throw new Error('no update reached a worker within 10 s');
  }
}

describe('lockstock serve refuses bad configuration with exit 2', () => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['--port', 'x'], {}, /^lockstock serve: --port must be a whole number/],
    [[], { PORT: '99999' }, /^lockstock serve: environment variable PORT must be/],
    [[], { IDEMPOTENCY_CACHE_TTL: 'soon' }, /environment variable IDEMPOTENCY_CACHE_TTL must be/],
    [['--host', '0.0.0.0'], { API_KEYS: '' }, /^lockstock serve: API_KEYS is not set/],
    [[], { INVENTORY_WORKER_COUNT: 'many' }, /environment variable INVENTORY_WORKER_COUNT must be/],
    [['--bogus'], {}, /unknown option '--bogus'/],
  ];
  it.each(cases)('%o %o', async (args, env, message) => {
    // PORT=0 unless the case sets it: a refusal that failed to happen must not hold 8080.
    const run = await lockstock(['serve', ...args], { PORT: '0', ...env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--help lists every variable', async () => {
    const run = await lockstock(['serve', '--help']);
    expect(run.code).toBe(0);
    for (const name of [
      'PORT',
      'HOST',
      'LOG_LEVEL',
      'INVENTORY_WORKER_COUNT',
      'INVENTORY_QUEUE_BUFFER_SIZE',
      'INVENTORY_DATA_DIR',
      'IDEMPOTENCY_CACHE_TTL',
      'API_KEYS',
      'ADMIN_API_KEYS',
      'RATE_LIMIT_ENABLED',
      'RATE_LIMIT_REQUESTS_PER_MINUTE',
      'RATE_LIMIT_ADMIN_REQUESTS_PER_MINUTE',
    ]) {
      expect(run.stdout).toContain(name);
    }
  });
});

describe('signals', () => {
  it('SIGTERM answers the request in flight, then exits 0', async () => {
    // One worker that holds each product lock for 300 ms: the update is in flight when
    // the signal arrives.
    const s = await start(['--products', '2', '--workers', '1', '--hold-us', '300000']);
    const inFlight = request(s.url, 'POST', '/v1/inventory/updates', {
      body: { productId: 'SKU-00000', delta: -1 },
    });
    await untilWorking(s.url);
    s.child.kill('SIGTERM');
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(await s.exited).toBe(0);
    expect(s.output()).toMatch(/lockstock serve stopped/);
    await expect(request(s.url, 'GET', '/health')).rejects.toThrow();
  });

  it('a second signal exits at once, without waiting for the work in flight', async () => {
    const s = await start(['--products', '1', '--workers', '1', '--hold-us', '1000000']);
    // Five one-second holds on one product: the graceful stop would wait for all of them.
    const pending = Array.from({ length: 5 }, () =>
      request(s.url, 'POST', '/v1/inventory/updates', {
        body: { productId: 'SKU-00000', delta: -1 },
      }).catch(() => null),
    );
    await untilWorking(s.url);
    s.child.kill('SIGTERM');
    // Two signals sent together may arrive as one: send the second once the first is seen.
    await until('the first signal to be handled', () => s.output().includes('stopping'));
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(143);
    expect(s.output()).toMatch(/second signal, exiting now/);
    await Promise.all(pending);
  });
});
