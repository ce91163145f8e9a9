/** serve's flags and environment: flags win, every refusal names what it read. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { isLoopback, serveConfig } from '../../src/http/config.js';

const config = (flags: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}) =>
  serveConfig(flags, env);

describe('serve configuration', () => {
  it('defaults: 127.0.0.1:8080, open, rate limits on, the engine left to its own defaults', () => {
    expect(config()).toEqual({
      port: 8080,
      host: '127.0.0.1',
      logLevel: 'info',
      engine: {},
      products: 0,
      apiKeys: [],
      adminApiKeys: [],
      rateLimit: { enabled: true, perMinute: 1000, adminPerMinute: 100 },
    });
  });

  it('reads every variable serve owns', () => {
    const c = config(
      {},
      {
        PORT: '9000',
        HOST: '0.0.0.0',
        LOG_LEVEL: 'warn',
        IDEMPOTENCY_CACHE_TTL: '30s',
        API_KEYS: 'a, b ,,c',
        ADMIN_API_KEYS: 'root',
        RATE_LIMIT_ENABLED: 'false',
        RATE_LIMIT_REQUESTS_PER_MINUTE: '50',
        RATE_LIMIT_ADMIN_REQUESTS_PER_MINUTE: '5',
      },
    );
    expect(c).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      logLevel: 'warn',
      engine: { idempotency: { ttlMs: 30_000 } },
      apiKeys: ['a', 'b', 'c'],
      adminApiKeys: ['root'],
      rateLimit: { enabled: false, perMinute: 50, adminPerMinute: 5 },
    });
  });

  it('flags win over variables', () => {
    const c = config(
      { port: '7000', 'idempotency-ttl': '1h30m', 'rate-limit': 'true' },
      { PORT: '9000', IDEMPOTENCY_CACHE_TTL: '2m', RATE_LIMIT_ENABLED: '0' },
    );
    expect(c.port).toBe(7000);
    expect(c.engine.idempotency).toEqual({ ttlMs: 5_400_000 });
    expect(c.rateLimit.enabled).toBe(true);
  });

  it('passes engine flags as options, leaving their variables to the engine', () => {
    const c = config(
      { workers: '3', 'queue-size': '500', 'lock-mode': 'global', 'hold-us': '50' },
      { INVENTORY_WORKER_COUNT: 'not read here' },
    );
    expect(c.engine).toEqual({
      workers: 3,
      queueSize: 500,
      lockMode: 'global',
      simulate: { workUs: 0, holdUs: 50 },
    });
  });

  it('falls back to INVENTORY_LOG_LEVEL when LOG_LEVEL is unset', () => {
    expect(config({}, { INVENTORY_LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
    expect(config({}, { INVENTORY_LOG_LEVEL: 'debug', LOG_LEVEL: 'error' }).logLevel).toBe('error');
  });

  const refusals: [Record<string, string>, NodeJS.ProcessEnv, RegExp][] = [
    [{ port: '70000' }, {}, /^lockstock serve: --port must be a whole number from 0 to 65535/],
    [{}, { PORT: 'http' }, /^lockstock serve: environment variable PORT must be a whole number/],
    [{}, { PORT: '0x50' }, /environment variable PORT must be/],
    [{}, { LOG_LEVEL: 'loud' }, /environment variable LOG_LEVEL must be one of fatal, error/],
    [
      {},
      { IDEMPOTENCY_CACHE_TTL: '2 minutes' },
      /environment variable IDEMPOTENCY_CACHE_TTL must be a duration like 30s, 2m/,
    ],
    [{ 'idempotency-ttl': '0s' }, {}, /--idempotency-ttl must be a duration/],
    [{}, { IDEMPOTENCY_CACHE_TTL: '1000h' }, /IDEMPOTENCY_CACHE_TTL must be a duration/],
    [
      {},
      { RATE_LIMIT_ENABLED: 'maybe' },
      /environment variable RATE_LIMIT_ENABLED must be true or false/,
    ],
    [
      {},
      { RATE_LIMIT_REQUESTS_PER_MINUTE: '0' },
      /RATE_LIMIT_REQUESTS_PER_MINUTE must be a whole number from 1/,
    ],
    [
      {},
      { RATE_LIMIT_ADMIN_REQUESTS_PER_MINUTE: '-1' },
      /RATE_LIMIT_ADMIN_REQUESTS_PER_MINUTE must be/,
    ],
    [{}, { API_KEYS: ' , ' }, /environment variable API_KEYS must be a comma-separated list/],
    [{ 'admin-api-keys': 'a b' }, {}, /--admin-api-keys must be a comma-separated list/],
    [{ workers: '300' }, {}, /--workers must be a whole number from 1 to 256/],
    [{ durability: 'always' }, {}, /--durability must be one of fsync, write/],
    [{ host: '0.0.0.0' }, {}, /^lockstock serve: API_KEYS is not set .* 0\.0\.0\.0/],
    [{}, { HOST: '10.0.0.5', ADMIN_API_KEYS: 'only-admin' }, /API_KEYS is not set/],
  ];

  it.each(refusals)('refuses %o %o in one line naming it', (flags, env, message) => {
    let error: unknown;
    try {
      config(flags, env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('serves beyond loopback once API_KEYS is set', () => {
    expect(config({ host: '0.0.0.0' }, { API_KEYS: 'k' }).host).toBe('0.0.0.0');
  });

  it('knows the loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) {
      expect(isLoopback(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) {
      expect(isLoopback(host), host).toBe(false);
    }
  });
});
