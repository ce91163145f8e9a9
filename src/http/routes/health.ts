/**
 * GET /health: 200 `{ status: 'ok', workers, queue, durableOffset }`, 503
 * `{ status: 'closing' }` once a stop has begun (so a load balancer stops sending).
 * GET /metrics: Prometheus text. Both need no key and are never rate-limited.
 *
 * `durableOffset`: every change at or below it is durable (the engine's stats()).
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../app.js';
import { errorBody } from '../status.js';

export function healthRoutes(app: FastifyInstance, context: Context): void {
  app.get('/health', async (_request, reply) => {
    if (context.lifecycle.closing) {
      reply.code(503).header('connection', 'close');
      return { status: 'closing', ...errorBody(503, 'closing', 'the server is stopping') };
    }
    const stats = context.inventory.stats();
    return {
      status: 'ok',
      workers: stats.workers,
      queue: { depth: stats.queued, size: stats.queueSize },
      offset: stats.offset,
      durableOffset: stats.durableOffset,
    };
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type(context.metrics.registry.contentType);
    return context.metrics.scrape();
  });
}
