/**
 * Requests per key and minute, with @fastify/rate-limit: each principal (an API key,
 * or the client's address when the service runs open) has one budget for the data
 * routes and another for /v1/admin/*. Over it: 429 with `Retry-After` (seconds until
 * the window resets). The check runs after authentication (which is onRequest) and
 * before the body is read (preParsing), so an unknown key spends nobody's budget and an
 * over-limit request costs no parsing.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isAdminRoute } from './auth.js';
import type { RateLimitConfig } from './config.js';
import { HttpError } from './status.js';

const WINDOW_MS = 60_000;

/** Reads a principal's budgets without spending them, for the status route. */
export type RateLimitStatus = (request: FastifyRequest) => Promise<unknown>;

type Budget = 'data' | 'admin';

/** The budget a request spends; a status look names the one it reads (`budget`). */
function budgetOf(request: FastifyRequest & { budget?: Budget }): Budget {
  return request.budget ?? (isAdminRoute(request) ? 'admin' : 'data');
}

function bucket(request: FastifyRequest): string {
  return `${budgetOf(request)}:${request.principal?.id ?? `ip:${request.ip}`}`;
}

export async function registerRateLimit(
  app: FastifyInstance,
  config: RateLimitConfig,
): Promise<RateLimitStatus> {
  if (!config.enabled) {
    return async () => ({ enabled: false });
  }
  const perMinute = (budget: Budget) =>
    budget === 'admin' ? config.adminPerMinute : config.perMinute;
  await app.register(rateLimit, {
    global: true,
    hook: 'preParsing',
    timeWindow: WINDOW_MS,
    max: (request) => perMinute(budgetOf(request)),
    keyGenerator: bucket,
    // /health and /metrics have no principal: they are never limited.
    allowList: (request) => request.principal === null,
    errorResponseBuilder: (_request, context) =>
      new HttpError(
        429,
        'rate_limited',
        `more than ${context.max} requests a minute with this key: retry in ${context.after}`,
        { retryAfterSeconds: Math.ceil(context.ttl / 1000) },
      ),
  });
  // Without options, the limiter shares the routes' store (with options it would get a
  // store of its own, empty). A look at one budget is the request seen as spending it.
  const check = app.createRateLimit();
  const look = async (request: FastifyRequest, budget: Budget) => {
    const seen = Object.create(request, { budget: { value: budget } }) as FastifyRequest;
    const s = await check(seen, { increment: false });
    if (s.isAllowed) return null;
    return { limit: s.max, remaining: s.remaining, resetSeconds: s.ttlInSeconds };
  };
  return async (request) => ({
    enabled: true,
    windowSeconds: WINDOW_MS / 1000,
    requestsPerMinute: config.perMinute,
    adminRequestsPerMinute: config.adminPerMinute,
    principal: request.principal?.id ?? null,
    data: await look(request, 'data'),
    admin: await look(request, 'admin'),
  });
}
