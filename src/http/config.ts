/**
 * `lockstock serve`'s configuration: one table of flags, each with the environment
 * variable it may also come from. A flag wins over its variable; a bad value of either
 * is a UsageError (exit 2) naming the flag or the variable, in one line.
 *
 * The engine's own variables (INVENTORY_WORKER_COUNT, INVENTORY_QUEUE_BUFFER_SIZE,
 * INVENTORY_CAPACITY, INVENTORY_LOCK_MODE, INVENTORY_DATA_DIR, INVENTORY_DURABILITY)
 * are read by Inventory.open itself: a flag here becomes the option, which wins there,
 * and a bad variable is refused by the engine naming it (INVALID_ENV, exit 2 too). The
 * bounds of every engine flag come from the engine's table of limits (src/options.ts).
 */
import { isIP } from 'node:net';
import {
  decimal,
  type OptionSpec,
  type OptionSpecs,
  parseDuration,
  UsageError,
} from '../cli/args.js';
import { DURABILITY_MODES, ENV, LIMITS, LOCK_MODES, LOG_LEVELS } from '../options.js';
import type { InventoryOptions, LockMode, LogLevel } from '../types.js';

/** Requests per minute a key may send at most, when limits are on (both kinds). */
const MAX_PER_MINUTE = 1_000_000;
const BOOLEAN: Record<string, boolean> = {
  // Go's strconv.ParseBool, which the original service read these with.
  '1': true,
  t: true,
  T: true,
  true: true,
  TRUE: true,
  True: true,
  '0': false,
  f: false,
  F: false,
  false: false,
  FALSE: false,
  False: false,
};

type Kind =
  | { kind: 'integer'; min: number; max: number }
  | { kind: 'decimal'; min: number; max: number }
  | { kind: 'duration'; min: number; max: number }
  | { kind: 'choice'; choices: readonly string[] }
  | { kind: 'boolean' }
  | { kind: 'keys' }
  | { kind: 'text' };

interface Setting {
  /** The variable serve reads itself; engine variables are only named in the help. */
  env?: string;
  engineEnv?: string;
  type: Kind;
  value: string;
  help: string;
  default?: string | number | boolean;
}

function integer(min: number, max: number): Kind {
  return { kind: 'integer', min, max };
}

const L = LIMITS;
const SETTINGS = {
  port: {
    env: 'PORT',
    type: integer(0, 65_535),
    value: 'n',
    help: 'port; 0 picks a free one',
    default: 8080,
  },
  host: {
    env: 'HOST',
    type: { kind: 'text' },
    value: 'addr',
    help: 'address to listen on; beyond loopback, API_KEYS must be set',
    default: '127.0.0.1',
  },
  'log-level': {
    env: 'LOG_LEVEL',
    type: { kind: 'choice', choices: LOG_LEVELS },
    value: 'level',
    help: 'pino level of the server and the engine (else INVENTORY_LOG_LEVEL)',
    default: 'info',
  },
  'data-dir': {
    engineEnv: ENV.dataDir,
    type: { kind: 'text' },
    value: 'dir',
    help: 'keep the journal and snapshots here: changes survive a restart',
  },
  durability: {
    engineEnv: ENV.durability,
    type: { kind: 'choice', choices: DURABILITY_MODES },
    value: DURABILITY_MODES.join('|'),
    help: 'with --data-dir: answer after fdatasync, or after write',
  },
  workers: {
    engineEnv: ENV.workers,
    type: integer(L.workers.min, L.workers.max),
    value: 'n',
    help: 'pool threads (default: the core count)',
  },
  'queue-size': {
    engineEnv: ENV.queueSize,
    type: integer(L.queueSize.min, L.queueSize.max),
    value: 'n',
    help: `updates waiting for a worker at most (default: ${L.queueSize.default})`,
  },
  capacity: {
    engineEnv: ENV.capacity,
    type: integer(L.capacity.min, L.capacity.max),
    value: 'n',
    help: `products at most (default: ${L.capacity.default})`,
  },
  'lock-mode': {
    engineEnv: ENV.lockMode,
    type: { kind: 'choice', choices: LOCK_MODES },
    value: LOCK_MODES.join('|'),
    help: 'a lock per product, or one for all (default: fine)',
  },
  'lock-timeout-ms': {
    type: integer(L.lockTimeoutMs.min, L.lockTimeoutMs.max),
    value: 'ms',
    help: `bound on every lock wait (default: ${L.lockTimeoutMs.default})`,
  },
  'max-batch': {
    type: integer(L.maxBatch.min, L.maxBatch.max),
    value: 'n',
    help: `rows per batch buffer (default: ${L.maxBatch.default})`,
  },
  'idempotency-ttl': {
    env: 'IDEMPOTENCY_CACHE_TTL',
    type: { kind: 'duration', min: L['idempotency.ttlMs'].min, max: L['idempotency.ttlMs'].max },
    value: 'time',
    help: 'how long a key is remembered: 30s, 2m, 1h30m (default: 2m)',
  },
  'idempotency-max-keys': {
    type: integer(L['idempotency.maxKeys'].min, L['idempotency.maxKeys'].max),
    value: 'n',
    help: `keys remembered at most (default: ${L['idempotency.maxKeys'].default})`,
  },
  products: {
    type: integer(0, L.capacity.max),
    value: 'n',
    help: 'start with the embedded catalog SKU-00000… (10 000 units each)',
    default: 0,
  },
  'work-us': {
    type: { kind: 'decimal', min: 0, max: L['simulate.workUs'].max },
    value: 'µs',
    help: 'benchmark knob: CPU spin inside each product lock',
    default: 0,
  },
  'hold-us': {
    type: { kind: 'decimal', min: 0, max: L['simulate.holdUs'].max },
    value: 'µs',
    help: 'benchmark knob: blocking wait inside each product lock',
    default: 0,
  },
  'api-keys': {
    env: 'API_KEYS',
    type: { kind: 'keys' },
    value: 'k1,k2',
    help: 'keys accepted in X-API-Key; none: open, loopback only',
  },
  'admin-api-keys': {
    env: 'ADMIN_API_KEYS',
    type: { kind: 'keys' },
    value: 'k1,k2',
    help: 'keys also accepted on /v1/admin/*',
  },
  'rate-limit': {
    env: 'RATE_LIMIT_ENABLED',
    type: { kind: 'boolean' },
    value: 'true|false',
    help: 'limit requests per key and minute',
    default: true,
  },
  'rate-limit-rpm': {
    env: 'RATE_LIMIT_REQUESTS_PER_MINUTE',
    type: integer(1, MAX_PER_MINUTE),
    value: 'n',
    help: 'requests per minute per key',
    default: 1000,
  },
  'rate-limit-admin-rpm': {
    env: 'RATE_LIMIT_ADMIN_REQUESTS_PER_MINUTE',
    type: integer(1, MAX_PER_MINUTE),
    value: 'n',
    help: 'requests per minute per key on /v1/admin/*',
    default: 100,
  },
} as const satisfies Record<string, Setting>;

type Name = keyof typeof SETTINGS;

/** The flags for parse() and usage(), each help line naming its variable. */
export const SERVE_OPTIONS: OptionSpecs = {
  ...Object.fromEntries(
    Object.entries(SETTINGS).map(([name, s]): [string, OptionSpec] => {
      const variable =
        ('env' in s ? s.env : undefined) ?? ('engineEnv' in s ? s.engineEnv : undefined);
      const range =
        'min' in s.type
          ? { min: s.type.min, max: s.type.max, integer: s.type.kind === 'integer' }
          : undefined;
      return [
        name,
        {
          type: 'string',
          value: s.value,
          help: variable === undefined ? s.help : `${s.help}; env ${variable}`,
          ...('default' in s ? { default: s.default } : {}),
          ...(range === undefined || s.type.kind === 'duration' ? {} : { range }),
        },
      ];
    }),
  ),
  help: { type: 'boolean', short: 'h', help: 'show this help' },
};

export const SERVE_SUMMARY = [
  "Serves the engine over HTTP with the original Go service's routes: updates, orders,",
  'reads, the change feed, admin calls, /health and /metrics. Flags win over the environment;',
  'a bad value exits 2 naming the flag or the variable. SIGTERM or SIGINT stops gracefully',
  '(a second one exits at once).',
].join('\n');

export interface RateLimitConfig {
  enabled: boolean;
  perMinute: number;
  adminPerMinute: number;
}

export interface ServeConfig {
  port: number;
  host: string;
  logLevel: LogLevel;
  /** Engine options from flags; what is absent the engine takes from its variables. */
  engine: InventoryOptions;
  /** Products of the embedded catalog to start with. */
  products: number;
  apiKeys: string[];
  adminApiKeys: string[];
  rateLimit: RateLimitConfig;
}

/** Whether `host` only ever reaches this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * Reads the flags (as parsed) and the environment into a configuration. Every refusal
 * names what was read: `--port` or `environment variable PORT`.
 */
export function serveConfig(
  flags: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv = process.env,
): ServeConfig {
  const raw = (name: Name): { text: string; label: string } | undefined => {
    const flag = flags[name];
    if (typeof flag === 'string') return { text: flag, label: `--${name}` };
    const s: Setting = SETTINGS[name];
    const value = s.env === undefined ? undefined : env[s.env];
    return value === undefined || value === ''
      ? undefined
      : { text: value, label: `environment variable ${s.env}` };
  };
  const get = <T>(name: Name): T | undefined => {
    const r = raw(name);
    return r === undefined ? undefined : (read(SETTINGS[name].type, r.text, r.label) as T);
  };
  const fallback = <T>(name: Name): T => SETTINGS[name as 'port'].default as T;

  const logLevel =
    get<LogLevel>('log-level') ?? inventoryLogLevel(env) ?? fallback<LogLevel>('log-level');
  const engine: InventoryOptions = {};
  const set = <K extends keyof InventoryOptions>(
    key: K,
    value: InventoryOptions[K] | undefined,
  ) => {
    if (value !== undefined) engine[key] = value;
  };
  set('workers', get<number>('workers'));
  set('queueSize', get<number>('queue-size'));
  set('capacity', get<number>('capacity'));
  set('lockMode', get<LockMode>('lock-mode'));
  set('lockTimeoutMs', get<number>('lock-timeout-ms'));
  set('maxBatch', get<number>('max-batch'));
  set('dataDir', get<string>('data-dir'));
  set('durability', get<'fsync' | 'write'>('durability'));
  const ttlMs = get<number>('idempotency-ttl');
  const maxKeys = get<number>('idempotency-max-keys');
  if (ttlMs !== undefined || maxKeys !== undefined) {
    engine.idempotency = {
      ...(ttlMs === undefined ? {} : { ttlMs }),
      ...(maxKeys === undefined ? {} : { maxKeys }),
    };
  }
  const workUs = get<number>('work-us') ?? 0;
  const holdUs = get<number>('hold-us') ?? 0;
  if (workUs > 0 || holdUs > 0) engine.simulate = { workUs, holdUs };

  const host = get<string>('host') ?? fallback<string>('host');
  const apiKeys = get<string[]>('api-keys') ?? [];
  const adminApiKeys = get<string[]>('admin-api-keys') ?? [];
  if (apiKeys.length === 0 && !isLoopback(host)) {
    throw new UsageError(
      `lockstock serve: API_KEYS is not set (nor --api-keys): refusing to serve without keys on ${host}, which is not a loopback address`,
    );
  }
  return {
    port: get<number>('port') ?? fallback<number>('port'),
    host,
    logLevel,
    engine,
    products: get<number>('products') ?? 0,
    apiKeys,
    adminApiKeys,
    rateLimit: {
      enabled: get<boolean>('rate-limit') ?? fallback<boolean>('rate-limit'),
      perMinute: get<number>('rate-limit-rpm') ?? fallback<number>('rate-limit-rpm'),
      adminPerMinute:
        get<number>('rate-limit-admin-rpm') ?? fallback<number>('rate-limit-admin-rpm'),
    },
  };
}

/** The engine's own log variable, as the fallback of LOG_LEVEL. */
function inventoryLogLevel(env: NodeJS.ProcessEnv): LogLevel | undefined {
  const value = env[ENV.logLevel];
  if (value === undefined || value === '') return undefined;
  return read(
    { kind: 'choice', choices: LOG_LEVELS },
    value,
    `environment variable ${ENV.logLevel}`,
  ) as LogLevel;
}

/** One value of one kind, or a UsageError naming `label`. */
function read(type: Kind, text: string, label: string): unknown {
  const refuse = (what: string): never => {
    throw new UsageError(`lockstock serve: ${label} must be ${what}, got '${text}'`);
  };
  switch (type.kind) {
    case 'integer':
    case 'decimal': {
      const value = decimal(text, type.kind === 'integer');
      const what = type.kind === 'integer' ? 'a whole number' : 'a number';
      if (value === null || value < type.min || value > type.max) {
        return refuse(`${what} from ${type.min} to ${type.max} in decimal digits`);
      }
      return value;
    }
    case 'duration': {
      const ms = parseDuration(text);
      if (ms === null || ms < type.min || ms > type.max || !Number.isInteger(ms)) {
        return refuse('a duration like 30s, 2m or 1h30m (whole milliseconds, up to 596h)');
      }
      return ms;
    }
    case 'choice':
      return type.choices.includes(text) ? text : refuse(`one of ${type.choices.join(', ')}`);
    case 'boolean': {
      const value = BOOLEAN[text];
      return value === undefined ? refuse('true or false') : value;
    }
    case 'keys': {
      const keys = text
        .split(',')
        .map((k) => k.trim())
        .filter((k) => k !== '');
      // A header carries visible ASCII only: a key outside it could never be sent.
      if (keys.length === 0 || keys.some((k) => !/^[\x21-\x7e]+$/.test(k))) {
        return refuse('a comma-separated list of keys of visible ASCII characters');
      }
      return keys;
    }
    case 'text':
      return text === '' ? refuse('a non-empty value') : text;
  }
}
