/**
 * The peer a user might pick instead of lockstock: Redis 7, with a Lua script doing
 * the same work atomically on the server — idempotency check, version check, stock
 * check, apply, next offset — reached through ioredis. Redis runs one command at a
 * time, so the script is its lock.
 *
 * The bench starts its own redis-server on a loopback port (nothing persisted) and
 * stops it after; without redis-server installed the peer is skipped.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { isoTime } from '../../src/clock.js';
import type { ProductInput, UpdateOutcome, UpdateRequest } from '../../src/types.js';

/** KEYS: product hash, idempotency key ('' for none), offset counter. ARGV: delta, expected (-1: any), ttl ms, payload. */
const UPDATE_SCRIPT = `
local ikey = KEYS[2]
local payload = ARGV[4]
if ikey ~= '' then
  local cached = redis.call('GET', ikey)
  if cached then
    local sep = string.find(cached, '|', 1, true)
    if string.sub(cached, 1, sep - 1) ~= payload then return 'reused' end
    return string.sub(cached, sep + 1)
  end
end
local delta = tonumber(ARGV[1])
local expected = tonumber(ARGV[2])
local rec = redis.call('HMGET', KEYS[1], 'available', 'version')
local result
if not rec[1] then
  result = 'not_found'
else
  local available = tonumber(rec[1])
  local version = tonumber(rec[2])
  if expected >= 0 and expected ~= version then
    result = 'conflict:' .. version .. ':' .. available
  elseif available + delta < 0 then
    result = 'insufficient:' .. version .. ':' .. available
  else
    local t = redis.call('TIME')
    local now = t[1] * 1000 + math.floor(t[2] / 1000)
    local offset = redis.call('INCR', KEYS[3])
    redis.call('HSET', KEYS[1], 'available', available + delta, 'version', version + 1, 'lastUpdated', now)
    result = 'applied:' .. (version + 1) .. ':' .. (available + delta) .. ':' .. now .. ':' .. offset
  end
end
if ikey ~= '' then redis.call('SET', ikey, payload .. '|' .. result, 'PX', tonumber(ARGV[3])) end
return result
`;

export function redisInstalled(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export const REDIS_MISSING =
  'Redis peer skipped: redis-server is not installed (Debian/Ubuntu: apt-get install redis-server).';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** A redis-server of our own on a loopback port. */
export class RedisServer {
  private constructor(
    private readonly process: ChildProcess,
    readonly port: number,
  ) {}

  static async start(): Promise<RedisServer> {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--loglevel',
        'warning',
      ],
      { stdio: 'ignore' },
    );
    const server = new RedisServer(child, port);
    const probe = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    // Refused connections are expected until the server listens.
    probe.on('error', () => {});
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return server;
      } catch {
        probe.disconnect();
        if (Date.now() > deadline || child.exitCode !== null) {
          child.kill();
          throw new Error(`redis-server did not start on 127.0.0.1:${port}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  client(pipelined: boolean): Redis {
    return new Redis({ port: this.port, host: '127.0.0.1', enableAutoPipelining: pipelined });
  }

  stop(): void {
    this.process.kill();
  }
}

/** The same API as lockstock's update and get, over Redis and the Lua script. */
export class RedisInventory {
  private sha = '';

  private constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /**
   * Loads `products` under `prefix` and the script. With `flush`, first empties the
   * server (two engines under test can share it under different prefixes).
   */
  static async open(
    redis: Redis,
    products: readonly ProductInput[],
    prefix: string,
    flush: boolean,
  ): Promise<RedisInventory> {
    if (flush) await redis.flushall();
    const inv = new RedisInventory(redis, prefix);
    for (let i = 0; i < products.length; i += 1000) {
      const pipeline = redis.pipeline();
      for (const p of products.slice(i, i + 1000)) {
        pipeline.hset(
          `${prefix}:p:${p.productId}`,
          'available',
          p.available,
          'version',
          1,
          'name',
          p.name ?? '',
          'price',
          p.price ?? 0,
        );
      }
      await pipeline.exec();
    }
    inv.sha = (await redis.script('LOAD', UPDATE_SCRIPT)) as string;
    return inv;
  }

  async update(request: UpdateRequest): Promise<UpdateOutcome> {
    const key = request.idempotencyKey;
    const p = this.prefix;
    const raw = (await this.redis.evalsha(
      this.sha,
      3,
      `${p}:p:${request.productId}`,
      key === undefined ? '' : `${p}:i:${key}`,
      `${p}:offset`,
      request.delta,
      request.expectedVersion ?? -1,
      120_000,
      `${request.productId}:${request.delta}:${request.expectedVersion ?? ''}`,
    )) as string;
    return outcome(request, raw);
  }

  /** A read is a round trip here: Redis holds the data, not this process. */
  async get(productId: string) {
    const [available, version] = await this.redis.hmget(
      `${this.prefix}:p:${productId}`,
      'available',
      'version',
    );
    return available === null
      ? undefined
      : { productId, available: Number(available), version: Number(version) };
  }

  close(): void {
    this.redis.disconnect();
  }
}

function outcome(request: UpdateRequest, raw: string): UpdateOutcome {
  const productId = request.productId;
  const [status, ...fields] = raw.split(':');
  const n = fields.map(Number);
  switch (status) {
    case 'applied':
      return {
        status: 'applied',
        productId,
        version: n[0] as number,
        available: n[1] as number,
        lastUpdated: isoTime(n[2] as number),
        offset: n[3] as number,
      };
    case 'conflict':
      return {
        status: 'version_conflict',
        productId,
        version: n[0] as number,
        available: n[1] as number,
      };
    case 'insufficient':
      return {
        status: 'insufficient_inventory',
        productId,
        version: n[0] as number,
        available: n[1] as number,
      };
    case 'reused':
      return { status: 'idempotency_key_reused', idempotencyKey: request.idempotencyKey ?? '' };
    default:
      return { status: 'product_not_found', productId };
  }
}
