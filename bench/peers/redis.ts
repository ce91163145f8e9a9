/**
 * The peer a user might pick instead of lockstock: Redis 7, with a Lua script doing
 * the same work atomically on the server — idempotency check, version check, stock
 * check, apply, next offset — reached through ioredis. Redis runs one command at a
 * time, so the script is its lock.
 *
 * Requests are read and checked on the client with lockstock's own reader
 * (src/requests.ts): a malformed request never reaches the server and records nothing.
 * Replies become outcomes through src/outcomes.ts. The decision itself runs in Lua, so
 * it cannot import memory/rules.ts: the script below mirrors it, check for check, and
 * test/engines/conformance.test.ts holds the two to one answer.
 *
 * Orders are not offered: this peer stands in for the single-product scenarios.
 *
 * The bench starts its own redis-server on a loopback port (nothing persisted) and
 * stops it after; without redis-server installed the peer is skipped.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import {
  ANY_VERSION,
  STATUS_APPLIED,
  STATUS_INSUFFICIENT,
  STATUS_NOT_FOUND,
  STATUS_OUT_OF_RANGE,
  STATUS_VERSION_CONFLICT,
} from '../../memory/protocol.js';
import { MAX_STOCK } from '../../memory/rules.js';
import { isoTime } from '../../src/clock.js';
import { initialProducts } from '../../src/initial.js';
import { resolveOptions } from '../../src/options.js';
import { stockOutcome } from '../../src/outcomes.js';
import { readUpdate, type UpdateCopy } from '../../src/requests.js';
import type { Product, ProductInput, UpdateOutcome, UpdateRequest } from '../../src/types.js';

/** How long a key is remembered: lockstock's default. */
const TTL_MS = 120_000;

/**
 * One update, atomically. KEYS: product hash, idempotency key ('' for none), offset
 * counter. ARGV: delta, expected version (ANY_VERSION: any), key TTL in ms, payload.
 * Replies 'reused', or `status:available:version:lastUpdated:offset` (STATUS_* codes of
 * memory/protocol.ts; figures after the change when applied, as found otherwise).
 *
 * This mirrors memory/rules.ts (decideStock), in the same order of checks, and the
 * key rules of src/idempotency.ts; the constants are lockstock's own, written into
 * the script from those modules:
 *
 *   | check (on the stored record)            | status              | under the key  |
 *   | --------------------------------------- | ------------------- | -------------- |
 *   | the key is known, another payload       | (reused)            | unchanged      |
 *   | the key is known, same payload          | (its first outcome) | unchanged      |
 *   | no such product                         | NOT_FOUND           | recorded       |
 *   | expected version given and not current  | VERSION_CONFLICT    | recorded       |
 *   | available + delta < 0                   | INSUFFICIENT        | recorded       |
 *   | available + delta > MAX_STOCK           | OUT_OF_RANGE        | NOT recorded   |
 *   | otherwise: apply, take the next offset  | APPLIED             | recorded       |
 *
 * OUT_OF_RANGE is an invalid_request for the caller, and a malformed request records
 * nothing under its key (IdempotencyCache.complete): sent again once stock has dropped,
 * it applies.
 *
 * Lua numbers are doubles, like JavaScript's: a stock and a delta are safe integers,
 * so every sum up to MAX_STOCK is exact, and a sum past it rounds to 2^53 or more,
 * never back to MAX_STOCK; the bound check is exact. Lua's `..` would print numbers
 * with 14 digits, so figures are formatted with '%d' (a 64-bit long in Redis's Lua);
 * numbers passed to redis.call are written by Redis with 17 digits, exactly.
 */
const UPDATE_SCRIPT = `
local APPLIED = ${STATUS_APPLIED}
local VERSION_CONFLICT = ${STATUS_VERSION_CONFLICT}
local INSUFFICIENT = ${STATUS_INSUFFICIENT}
local NOT_FOUND = ${STATUS_NOT_FOUND}
local OUT_OF_RANGE = ${STATUS_OUT_OF_RANGE}
local ANY_VERSION = ${ANY_VERSION}
local MAX_STOCK = ${MAX_STOCK}
local function int(n) return string.format('%d', n) end

local ikey = KEYS[2]
local payload = ARGV[4]
if ikey ~= '' then
  -- Stored as result .. '|' .. payload: a result never holds '|'.
  local cached = redis.call('GET', ikey)
  if cached then
    local sep = string.find(cached, '|', 1, true)
    if string.sub(cached, sep + 1) ~= payload then return 'reused' end
    return string.sub(cached, 1, sep - 1)
  end
end
local delta = tonumber(ARGV[1])
local expected = tonumber(ARGV[2])
local rec = redis.call('HMGET', KEYS[1], 'available', 'version', 'lastUpdated')
local status, available, version, now, offset = NOT_FOUND, 0, 0, 0, 0
if rec[1] then
  available = tonumber(rec[1])
  version = tonumber(rec[2])
  local after = available + delta
  if expected ~= ANY_VERSION and expected ~= version then
    status = VERSION_CONFLICT
  elseif after < 0 then
    status = INSUFFICIENT
  elseif after > MAX_STOCK then
    status = OUT_OF_RANGE
  else
    status = APPLIED
    local t = redis.call('TIME')
    -- Never earlier than the product's last change, as lockstock stamps it.
    now = math.max(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), tonumber(rec[3]) or 0)
    offset = redis.call('INCR', KEYS[3])
    available = after
    version = version + 1
    redis.call('HSET', KEYS[1], 'available', available, 'version', version, 'lastUpdated', now)
  end
end
local result = int(status) .. ':' .. int(available) .. ':' .. int(version) .. ':' .. int(now) .. ':' .. int(offset)
if ikey ~= '' and status ~= OUT_OF_RANGE then
  redis.call('SET', ikey, result .. '|' .. payload, 'PX', ARGV[3])
end
return result
`;

/**
 * What a key was first used for, as one string no other update produces: the id is
 * preceded by its length (as in src/idempotency.ts's order fingerprints).
 */
function payloadOf(copy: UpdateCopy): string {
  return `${copy.productId.length}:${copy.productId}${copy.delta},${copy.expected}`;
}

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
    // The same checks of the initial catalog as Inventory.open.
    const checked = initialProducts(resolveOptions({ products: [...products] }, {}).products);
    const now = Date.now();
    for (let i = 0; i < checked.length; i += 1000) {
      const pipeline = redis.pipeline();
      for (const p of checked.slice(i, i + 1000)) {
        pipeline.hset(
          `${prefix}:p:${p.productId}`,
          'available',
          p.available,
          'version',
          1,
          'lastUpdated',
          now,
          'name',
          p.name,
          'price',
          p.price,
        );
      }
      await pipeline.exec();
    }
    // Each initial product took one offset, as in lockstock.
    await redis.set(`${prefix}:offset`, checked.length);
    inv.sha = (await redis.script('LOAD', UPDATE_SCRIPT)) as string;
    return inv;
  }

  async update(request: UpdateRequest): Promise<UpdateOutcome> {
    const copy = readUpdate(request, '', 'request.', true);
    if ('status' in copy) return copy;
    const key = copy.key;
    const p = this.prefix;
    const raw = (await this.redis.evalsha(
      this.sha,
      3,
      `${p}:p:${copy.productId}`,
      key === undefined ? '' : `${p}:i:${key}`,
      `${p}:offset`,
      copy.delta,
      copy.expected,
      TTL_MS,
      key === undefined ? '' : payloadOf(copy),
    )) as string;
    return outcome(copy, raw);
  }

  /** A read is a round trip here: Redis holds the data, not this process. */
  async get(productId: string): Promise<Product | undefined> {
    const [available, version, lastUpdated, name, price] = await this.redis.hmget(
      `${this.prefix}:p:${productId}`,
      'available',
      'version',
      'lastUpdated',
      'name',
      'price',
    );
    if (available === null) return undefined;
    return {
      productId,
      name: name ?? '',
      available: Number(available),
      price: Number(price),
      version: Number(version),
      lastUpdated: isoTime(Number(lastUpdated)),
    };
  }

  close(): void {
    this.redis.disconnect();
  }
}

function outcome(copy: UpdateCopy, raw: string): UpdateOutcome {
  if (raw === 'reused') {
    return { status: 'idempotency_key_reused', idempotencyKey: copy.key as string };
  }
  const [status, available, version, lastUpdated, offset] = raw.split(':').map(Number);
  const result = stockOutcome(
    status as number,
    copy.productId,
    available as number,
    version as number,
    lastUpdated as number,
    offset as number,
  );
  if (result === null) throw new Error(`unexpected reply from the update script: ${raw}`);
  return result;
}
