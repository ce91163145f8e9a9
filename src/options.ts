/** Resolves Inventory.open's options against the environment and the defaults. */
import os from 'node:os';
import type { Logger } from 'pino';
import { MAX_HOLDERS } from '../memory/global-lock.js';
import { MAX_CAPACITY } from '../memory/layout.js';
import { InventoryError } from './errors.js';
import type { InventoryOptions, LockMode, LoggerOptions, LogLevel, ProductInput } from './types.js';

export const DEFAULT_QUEUE_SIZE = 65_536;
export const DEFAULT_CAPACITY = 65_536;
export const DEFAULT_TTL_MS = 120_000;
export const DEFAULT_MAX_KEYS = 1_000_000;
export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BATCH = 1024;
/** An order's items must fit one batch. */
export const MAX_ORDER_ITEMS = 1024;
const MAX_WORKERS = Math.min(256, MAX_HOLDERS);
const MAX_SIMULATE_US = 1_000_000;
const LOG_LEVELS: readonly LogLevel[] = [
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
} as const;

export interface ResolvedOptions {
  workers: number;
  queueSize: number;
  capacity: number;
  lockMode: LockMode;
  products: ProductInput[];
  idempotency: { ttlMs: number; maxKeys: number };
  logger: LoggerOptions | Logger;
  simulate: { workUs: number; holdUs: number };
  lockTimeoutMs: number;
  maxBatch: number;
}

function option(name: string, message: string): InventoryError {
  return new InventoryError('INVALID_OPTION', `option ${name} ${message}`);
}

function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw option(name, `must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function number(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw option(name, `must be a number from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** Reads an integer environment variable; undefined when unset or empty. */
function envInteger(env: NodeJS.ProcessEnv, name: string, min: number, max: number) {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InventoryError(
      'INVALID_ENV',
      `environment variable ${name} must be an integer from ${min} to ${max}, got '${raw}'`,
    );
  }
  return value;
}

function envChoice<T extends string>(env: NodeJS.ProcessEnv, name: string, choices: readonly T[]) {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
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

function plainObject(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw option(name, `must be an object, got ${String(value)}`);
  }
  return value as Record<string, unknown>;
}

export function resolveOptions(
  options: InventoryOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): ResolvedOptions {
  const o = plainObject('options', options) as InventoryOptions;
  const workers = integer(
    'workers',
    o.workers ??
      envInteger(env, ENV.workers, 1, MAX_WORKERS) ??
      Math.min(os.availableParallelism(), MAX_WORKERS),
    1,
    MAX_WORKERS,
  );
  const queueSize = integer(
    'queueSize',
    o.queueSize ?? envInteger(env, ENV.queueSize, 1, 2 ** 30) ?? DEFAULT_QUEUE_SIZE,
    1,
    2 ** 30,
  );
  const products = o.products ?? [];
  if (!Array.isArray(products)) throw option('products', 'must be an array');
  const capacity = integer(
    'capacity',
    o.capacity ??
      envInteger(env, ENV.capacity, 1, MAX_CAPACITY) ??
      Math.max(DEFAULT_CAPACITY, products.length),
    1,
    MAX_CAPACITY,
  );
  if (products.length > capacity) {
    throw option('products', `holds ${products.length} products, more than capacity ${capacity}`);
  }
  const lockMode = o.lockMode ?? envChoice(env, ENV.lockMode, ['fine', 'global']) ?? 'fine';
  if (lockMode !== 'fine' && lockMode !== 'global') {
    throw option('lockMode', `must be 'fine' or 'global', got ${String(lockMode)}`);
  }
  const idem = plainObject('idempotency', o.idempotency);
  const simulate = plainObject('simulate', o.simulate);
  const logger = resolveLogger(o.logger, env);
  return {
    workers,
    queueSize,
    capacity,
    lockMode,
    products,
    idempotency: {
      ttlMs: integer('idempotency.ttlMs', idem.ttlMs ?? DEFAULT_TTL_MS, 1, 2 ** 31),
      maxKeys: integer('idempotency.maxKeys', idem.maxKeys ?? DEFAULT_MAX_KEYS, 1, 2 ** 31),
    },
    logger,
    simulate: {
      workUs: number('simulate.workUs', simulate.workUs ?? 0, 0, MAX_SIMULATE_US),
      holdUs: number('simulate.holdUs', simulate.holdUs ?? 0, 0, MAX_SIMULATE_US),
    },
    lockTimeoutMs: integer('lockTimeoutMs', o.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, 1, 2 ** 31),
    maxBatch: integer('maxBatch', o.maxBatch ?? DEFAULT_MAX_BATCH, 1, 1 << 20),
  };
}

function resolveLogger(value: unknown, env: NodeJS.ProcessEnv): LoggerOptions | Logger {
  if (isPinoLogger(value)) return value;
  const l = plainObject('logger', value) as LoggerOptions;
  const level = l.level ?? envChoice(env, ENV.logLevel, LOG_LEVELS) ?? 'info';
  if (!LOG_LEVELS.includes(level)) {
    throw option('logger.level', `must be one of ${LOG_LEVELS.join(', ')}, got ${String(level)}`);
  }
  const destination = l.destination ?? 1;
  if (
    !(typeof destination === 'string' && destination.length > 0) &&
    !(typeof destination === 'number' && Number.isInteger(destination) && destination >= 0)
  ) {
    throw option('logger.destination', `must be a file descriptor or a path, got ${destination}`);
  }
  return { level, destination };
}
