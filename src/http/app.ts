/**
 * The HTTP application: a fastify instance over one engine, with authentication, rate
 * limits, metrics, one error format, and the routes. It does not listen; server.ts
 * does, and stops it.
 *
 * Hooks, in the order a request meets them: closing (503 once a stop has begun),
 * authentication (onRequest), rate limit (preParsing), body parsing and schema
 * validation, the handler; metrics on every answer (onResponse).
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Inventory } from '../inventory.js';
import { KeyRing, registerAuth } from './auth.js';
import type { RateLimitConfig } from './config.js';
import { registerErrors } from './errors.js';
import { Metrics } from './metrics.js';
import { registerRateLimit } from './rate-limit.js';
import { Replays } from './replays.js';
import { adminRoutes } from './routes/admin.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { productRoutes } from './routes/products.js';
import { updateRoutes } from './routes/updates.js';
import { describeValidation } from './schemas.js';
import { errorBody, HttpError, RETRY_AFTER_S } from './status.js';

/** Bodies above this answer 413. */
export const BODY_LIMIT = 1024 * 1024;
/** Keys remembered for the Idempotent-Replayed header at most. */
const REPLAY_KEYS = 100_000;

/** Whether a stop has begun; long polls listen to `signal` to return at once. */
export class Lifecycle {
  private readonly controller = new AbortController();
  readonly signal: AbortSignal = this.controller.signal;

  get closing(): boolean {
    return this.signal.aborted;
  }

  beginClosing(): void {
    this.controller.abort();
  }

  /**
   * Resolves to `value` when a stop begins; `release` drops the listener, so a server
   * that answers polls for days keeps none of those that have returned.
   */
  whenStopping<T>(value: T): { stopped: Promise<T>; release: () => void } {
    let release = () => {};
    const stopped = new Promise<T>((resolve) => {
      if (this.signal.aborted) return resolve(value);
      const listener = () => resolve(value);
      this.signal.addEventListener('abort', listener, { once: true });
      release = () => this.signal.removeEventListener('abort', listener);
    });
    return { stopped, release };
  }
}

/** What every route works with. */
export interface Context {
  inventory: Inventory;
  metrics: Metrics;
  replays: Replays;
  lifecycle: Lifecycle;
  rateLimitStatus: (request: import('fastify').FastifyRequest) => Promise<unknown>;
}

export interface AppOptions {
  inventory: Inventory;
  logger: Logger;
  apiKeys: readonly string[];
  adminApiKeys: readonly string[];
  rateLimit: RateLimitConfig;
  /** The engine's idempotency TTL: how long a replay is recognised. */
  idempotencyTtlMs: number;
}

export async function buildApp(
  options: AppOptions,
): Promise<{ app: FastifyInstance; lifecycle: Lifecycle }> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // One line per request would cost more than the update it logs; /metrics counts them.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    // Closing answers are ours (below), in the service's error format.
    return503OnClosing: false,
    ajv: {
      customOptions: {
        coerceTypes: false,
        removeAdditional: false,
        allErrors: false,
        verbose: true,
      },
    },
    schemaErrorFormatter: (errors, part) => {
      const { field, message } = describeValidation(errors, part);
      return new HttpError(400, 'invalid_request', message, { field });
    },
  });
  const lifecycle = new Lifecycle();
  const metrics = new Metrics(options.inventory);

  registerErrors(app);
  // Bodies are JSON only: a text/plain body answers 415 rather than reach a schema.
  app.removeContentTypeParser('text/plain');
  app.addHook('onRequest', async (request, reply) => {
    if (!lifecycle.closing || request.url === '/health') return;
    reply.header('connection', 'close').header('retry-after', String(RETRY_AFTER_S));
    reply.code(503).send(errorBody(503, 'closing', 'the server is stopping'));
    return reply;
  });
  // An answer sent once a stop has begun closes its connection: a kept-alive idle
  // socket would otherwise hold the stop until its keep-alive timeout.
  app.addHook('onSend', async (_request, reply) => {
    if (lifecycle.closing) reply.header('connection', 'close');
  });
  registerAuth(app, new KeyRing(options.apiKeys, options.adminApiKeys));
  const rateLimitStatus = await registerRateLimit(app, options.rateLimit);
  metrics.register(app);

  const context: Context = {
    inventory: options.inventory,
    metrics,
    replays: new Replays(options.idempotencyTtlMs, REPLAY_KEYS),
    lifecycle,
    rateLimitStatus,
  };
  healthRoutes(app, context);
  updateRoutes(app, context);
  eventRoutes(app, context);
  productRoutes(app, context);
  adminRoutes(app, context);
  await app.ready();
  return { app, lifecycle };
}
