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

function bucket(request: FastifyRequest, admin: boolean): string {
  return `${admin ? 'admin' : 'data'}:${request.principal?.id ?? `ip:${request.ip}`}`;
}

export async function registerRateLimit(
  app: FastifyInstance,
  config: RateLimitConfig,
): Promise<RateLimitStatus> {
  if (!config.enabled) {
    return async () => ({ enabled: false });
  }
  const perMinute = (admin: boolean) => (admin ? config.adminPerMinute : config.perMinute);
  await app.register(rateLimit, {
    global: true,
    hook: 'preParsing',
    timeWindow: WINDOW_MS,
    max: (request) => perMinute(isAdminRoute(request)),
    keyGenerator: (request) => bucket(request, isAdminRoute(request)),
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
  const peek = (admin: boolean) =>
    app.createRateLimit({
      keyGenerator: (request) => bucket(request, admin),
      max: perMinute(admin),
      allowList: () => false,
    });
  const data = peek(false);
  const admin = peek(true);
  return async (request) => {
    const budget = async (check: typeof data) => {
      const s = await check(request, { increment: false });
      if (s.isAllowed) return null;
      return { limit: s.max, remaining: s.remaining, resetSeconds: s.ttlInSeconds };
    };
    return {
      enabled: true,
      windowSeconds: WINDOW_MS / 1000,
      requestsPerMinute: config.perMinute,
      adminRequestsPerMinute: config.adminPerMinute,
      principal: request.principal?.id ?? null,
      data: await budget(data),
      admin: await budget(admin),
    };
  };
}
