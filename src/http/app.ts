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
import { decorateAuth, KeyRing, routeOf } from './auth.js';
import type { RateLimitConfig } from './config.js';
import { registerErrors } from './errors.js';
import { Metrics } from './metrics.js';
import { type RateLimitStatus, registerRateLimit } from './rate-limit.js';
import { adminRoutes } from './routes/admin.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { productRoutes } from './routes/products.js';
import { updateRoutes } from './routes/updates.js';
import { describeValidation } from './schemas.js';
import { errorBody, HttpError, RETRY_AFTER_S } from './status.js';

/** Bodies above this answer 413. */
const BODY_LIMIT = 1024 * 1024;

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
  lifecycle: Lifecycle;
  rateLimitStatus: RateLimitStatus;
}

export interface AppOptions {
  inventory: Inventory;
  logger: Logger;
  apiKeys: readonly string[];
  adminApiKeys: readonly string[];
  rateLimit: RateLimitConfig;
}

export async function buildApp(
  options: AppOptions,
): Promise<{ app: FastifyInstance; lifecycle: Lifecycle }> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // One line per request would cost more than the update it logs; /metrics counts them.
    logController: new LogController({ disableRequestLogging: true }),
    // A request logs through the root logger: a pino child per request costs more than
    // a read, and request logs are off. Errors are logged with their URL instead.
    childLoggerFactory: (logger) => logger,
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
  // One hook before anything else is done with a request (each hook costs a turn of
  // fastify's hook runner): once a stop has begun, a new request answers 503 (/health
  // says why itself); otherwise it is authenticated.
  const keys = new KeyRing(options.apiKeys, options.adminApiKeys);
  decorateAuth(app);
  app.addHook('onRequest', (request, reply, done) => {
    if (lifecycle.closing && request.url !== '/health') {
      reply.header('retry-after', String(RETRY_AFTER_S));
      reply.code(503).send(errorBody(503, 'closing', 'the server is stopping'));
      return;
    }
    try {
      request.principal = keys.authenticate(request, routeOf(request));
      done();
    } catch (error) {
      done(error as Error);
    }
  });
  const rateLimitStatus = await registerRateLimit(app, options.rateLimit);
  metrics.register(app);

  const context: Context = {
    inventory: options.inventory,
    metrics,
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
