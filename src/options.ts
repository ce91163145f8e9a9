/**
 * Inventory.open's options: one table of limits and defaults, and the reader that
 * resolves the caller's options against the environment and that table.
 *
 * Every option is read once, here, into the resolved copy the engine works from; an
 * option the engine does not know (a typo, or one from a later version) is refused,
 * naming it, rather than silently ignored. The CLI builds its flags' checks from the
 * same table, so a limit is stated once.
 */
import os from 'node:os';
import type { Logger } from 'pino';
import { MAX_HOLDERS } from '../memory/global-lock.js';
import { MAX_CAPACITY } from '../memory/layout.js';
import { InventoryError } from './errors.js';
import { describe, readArray } from './requests.js';
import type {
  CrashPoint,
  Durability,
  InventoryOptions,
  LockMode,
  LoggerOptions,
  LogLevel,
} from './types.js';

/** A numeric option: its bounds, whether it must be whole, and its default. */
export interface Limit {
  readonly min: number;
  readonly max: number;
  readonly integer: boolean;
  readonly default: number;
}

function limit(min: number, max: number, fallback: number, integer = true): Limit {
  return { min, max, integer, default: fallback };
}

/** An order's items must fit one batch. */
export const MAX_ORDER_ITEMS = 1024;
/** list() page sizes. */
export const LIST_LIMIT = limit(1, 10_000, 100);

/**
 * The numeric options: bounds and defaults. `workers` defaults to the machine's
 * parallelism and `capacity` grows to fit `products`; the table holds their floors.
 */
export const LIMITS = {
  workers: limit(1, Math.min(256, MAX_HOLDERS), 1),
  queueSize: limit(1, 2 ** 30, 65_536),
  capacity: limit(1, MAX_CAPACITY, 65_536),
  lockTimeoutMs: limit(1, 2 ** 31, 10_000),
  maxBatch: limit(1, 1 << 20, 1024),
  'idempotency.ttlMs': limit(1, 2 ** 31, 120_000),
  'idempotency.maxKeys': limit(1, 2 ** 31, 1_000_000),
  'simulate.workUs': limit(0, 1_000_000, 0, false),
  'simulate.holdUs': limit(0, 1_000_000, 0, false),
  syncIntervalMs: limit(1, 60_000, 100),
  retainChanges: limit(0, 100_000_000, 100_000),
  snapshotEvery: limit(1_000, 2 ** 40, 1_000_000),
  'simulate.crash.after': limit(1, 2 ** 31 - 1, 1),
} as const satisfies Record<string, Limit>;

export const LOCK_MODES: readonly LockMode[] = ['fine', 'global'];
export const DURABILITY_MODES: readonly Durability[] = ['fsync', 'write'];
export const CRASH_POINTS: readonly CrashPoint[] = ['locked', 'publishing'];
export const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

/** The environment variables lockstock reads; options passed to open win over them. */
export const ENV = {
  workers: 'INVENTORY_WORKER_COUNT',
  queueSize: 'INVENTORY_QUEUE_BUFFER_SIZE',
  capacity: 'INVENTORY_CAPACITY',
  lockMode: 'INVENTORY_LOCK_MODE',
  logLevel: 'INVENTORY_LOG_LEVEL',
  dataDir: 'INVENTORY_DATA_DIR',
  durability: 'INVENTORY_DURABILITY',
} as const;

/** The options open() knows, by object: any other key is refused. */
const KNOWN = {
  options: [
    'workers',
    'queueSize',
    'capacity',
    'lockMode',
    'products',
    'idempotency',
    'logger',
    'simulate',
    'lockTimeoutMs',
    'maxBatch',
    'dataDir',
    'durability',
    'syncIntervalMs',
    'retainChanges',
    'snapshotEvery',
    'repair',
  ],
  idempotency: ['ttlMs', 'maxKeys'],
  simulate: ['workUs', 'holdUs', 'crash'],
  crash: ['after', 'at'],
  logger: ['level', 'destination'],
} as const;

export interface ResolvedOptions {
  workers: number;
  queueSize: number;
  capacity: number;
  lockMode: LockMode;
  /**
   * The initial catalog, the array copied once; each product is read and checked as it
   * is loaded (initial.ts), in chunks that keep the event loop turning.
   */
  products: readonly unknown[];
  idempotency: { ttlMs: number; maxKeys: number };
  logger: Required<LoggerOptions> | Logger;
  simulate: { workUs: number; holdUs: number; crash: { after: number; at: CrashPoint } | null };
  lockTimeoutMs: number;
  maxBatch: number;
  /** Where the journal and snapshots live, or null: in memory only. */
  dataDir: string | null;
  durability: Durability;
  syncIntervalMs: number;
  retainChanges: number;
  snapshotEvery: number;
  repair: boolean;
}

function option(name: string, message: string): InventoryError {
  return new InventoryError('INVALID_OPTION', `option ${name} ${message}`);
}

/** Checks `value` against the limit of option `name`. */
export function limited(name: keyof typeof LIMITS, value: unknown): number {
  const l: Limit = LIMITS[name];
  if (
    typeof value !== 'number' ||
    !(l.integer ? Number.isInteger(value) : Number.isFinite(value)) ||
    value < l.min ||
    value > l.max
  ) {
    const what = l.integer ? 'an integer' : 'a number';
    throw option(name, `must be ${what} from ${l.min} to ${l.max}, got ${describe(value)}`);
  }
  return value === 0 ? 0 : value;
}

/**
 * Reads an integer environment variable: plain decimal digits only (`0x2`, `1e0` and
 * ` 2 ` are refused, so a value means what it looks like); undefined when unset or empty.
 */
export function envInteger(env: NodeJS.ProcessEnv, name: string, min: number, max: number) {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = /^[0-9]{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw new InventoryError(
      'INVALID_ENV',
      `environment variable ${name} must be a whole number from ${min} to ${max}, got '${raw}'`,
    );
  }
  return value;
}

function envChoice<T extends string>(env: NodeJS.ProcessEnv, name: string, choices: readonly T[]) {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!(choices as readonly string[]).includes(raw)) {
    throw new InventoryError(
      'INVALID_ENV',
      `environment variable ${name} must be one of ${choices.join(', ')}, got '${raw}'`,
    );
  }
  return raw as T;
}

function isPinoLogger(value: unknown): value is Logger {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Logger).info === 'function' &&
    typeof (value as Logger).child === 'function'
  );
}

/**
 * Reads the known fields of the options object `name` once each, refusing unknown
 * ones. A getter that throws is refused as that option.
 */
function fields<K extends string>(
  name: string,
  value: unknown,
  known: readonly K[],
): Partial<Record<K, unknown>> {
  if (value === undefined) return {};
  const path = (key: string) => (name === 'options' ? key : `${name}.${key}`);
  let at = name;
  try {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw option(name, `must be an object, got ${describe(value)}`);
    }
    for (const key of Object.keys(value)) {
      if (!(known as readonly string[]).includes(key)) {
        throw option(path(key), `is not an option lockstock knows (options: ${known.join(', ')})`);
      }
    }
    const copy: Partial<Record<K, unknown>> = {};
    const source = value as Record<string, unknown>;
    for (const key of known) {
      at = path(key);
      copy[key] = source[key];
    }
    return copy;
  } catch (error) {
    if (error instanceof InventoryError) throw error;
    throw option(at, `could not be read: ${error instanceof Error ? error.message : error}`);
  }
}

export function resolveOptions(
  options: InventoryOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): ResolvedOptions {
  const o = fields('options', options, KNOWN.options);
  const L = LIMITS;
  const workers = limited(
    'workers',
    o.workers ??
      envInteger(env, ENV.workers, L.workers.min, L.workers.max) ??
      Math.min(os.availableParallelism(), L.workers.max),
  );
  const queueSize = limited(
    'queueSize',
    o.queueSize ??
      envInteger(env, ENV.queueSize, L.queueSize.min, L.queueSize.max) ??
      L.queueSize.default,
  );
  const products = readProducts(o.products);
  const capacity = limited(
    'capacity',
    o.capacity ??
      envInteger(env, ENV.capacity, L.capacity.min, L.capacity.max) ??
      Math.max(L.capacity.default, products.length),
  );
  if (products.length > capacity) {
    throw option('products', `holds ${products.length} products, more than capacity ${capacity}`);
  }
  const lockMode = o.lockMode ?? envChoice(env, ENV.lockMode, LOCK_MODES) ?? 'fine';
  if (!LOCK_MODES.includes(lockMode as LockMode)) {
    throw option('lockMode', `must be 'fine' or 'global', got ${describe(lockMode)}`);
  }
  const idem = fields('idempotency', o.idempotency, KNOWN.idempotency);
  const simulate = fields('simulate', o.simulate, KNOWN.simulate);
  const dataDir = o.dataDir ?? (env[ENV.dataDir] || undefined) ?? null;
  if (dataDir !== null && !(typeof dataDir === 'string' && dataDir.length > 0)) {
    throw option('dataDir', `must be a directory path, got ${describe(dataDir)}`);
  }
  if (typeof dataDir === 'string' && dataDir.includes('\0')) {
    throw option('dataDir', 'must not hold a NUL character');
  }
  const durability = o.durability ?? envChoice(env, ENV.durability, DURABILITY_MODES) ?? 'fsync';
  if (!DURABILITY_MODES.includes(durability as Durability)) {
    throw option('durability', `must be 'fsync' or 'write', got ${describe(durability)}`);
  }
  if (o.repair !== undefined && typeof o.repair !== 'boolean') {
    throw option('repair', `must be true or false, got ${describe(o.repair)}`);
  }
  return {
    workers,
    queueSize,
    capacity,
    lockMode: lockMode as LockMode,
    products,
    idempotency: {
      ttlMs: limited('idempotency.ttlMs', idem.ttlMs ?? L['idempotency.ttlMs'].default),
      maxKeys: limited('idempotency.maxKeys', idem.maxKeys ?? L['idempotency.maxKeys'].default),
    },
    logger: resolveLogger(o.logger, env),
    simulate: {
      workUs: limited('simulate.workUs', simulate.workUs ?? L['simulate.workUs'].default),
      holdUs: limited('simulate.holdUs', simulate.holdUs ?? L['simulate.holdUs'].default),
      crash: readCrash(simulate.crash),
    },
    lockTimeoutMs: limited('lockTimeoutMs', o.lockTimeoutMs ?? L.lockTimeoutMs.default),
    maxBatch: limited('maxBatch', o.maxBatch ?? L.maxBatch.default),
    dataDir: dataDir as string | null,
    durability: durability as Durability,
    syncIntervalMs: limited('syncIntervalMs', o.syncIntervalMs ?? L.syncIntervalMs.default),
    retainChanges: limited('retainChanges', o.retainChanges ?? L.retainChanges.default),
    snapshotEvery: limited('snapshotEvery', o.snapshotEvery ?? L.snapshotEvery.default),
    repair: o.repair === true,
  };
}

/** The test hook `simulate.crash` (documented as such): which lock, and where to die. */
function readCrash(value: unknown): { after: number; at: CrashPoint } | null {
  if (value === undefined) return null;
  const c = fields('simulate.crash', value, KNOWN.crash);
  const after = limited('simulate.crash.after', c.after);
  const at = c.at ?? 'locked';
  if (!CRASH_POINTS.includes(at as CrashPoint)) {
    throw option('simulate.crash.at', `must be 'locked' or 'publishing', got ${describe(at)}`);
  }
  return { after, at: at as CrashPoint };
}

/** The initial catalog's array, copied once; its products are checked as they load. */
function readProducts(value: unknown): unknown[] {
  if (value === undefined) return [];
  try {
    return readArray(value, 'products');
  } catch (error) {
    throw new InventoryError('INVALID_OPTION', `option ${(error as Error).message}`);
  }
}

function resolveLogger(value: unknown, env: NodeJS.ProcessEnv): Required<LoggerOptions> | Logger {
  if (isPinoLogger(value)) return value;
  const l = fields('logger', value, KNOWN.logger);
  const level = l.level ?? envChoice(env, ENV.logLevel, LOG_LEVELS) ?? 'info';
  if (!LOG_LEVELS.includes(level as LogLevel)) {
    throw option('logger.level', `must be one of ${LOG_LEVELS.join(', ')}, got ${describe(level)}`);
  }
  const destination = l.destination ?? 1;
  if (
    !(typeof destination === 'string' && destination.length > 0) &&
    !(typeof destination === 'number' && Number.isInteger(destination) && destination >= 0)
  ) {
    throw option(
      'logger.destination',
      `must be a file descriptor or a path, got ${describe(destination)}`,
    );
  }
  return { level: level as LogLevel, destination };
}
