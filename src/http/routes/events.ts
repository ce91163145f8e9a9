/**
 * GET /v1/inventory/events?offset=0&limit=100&wait=30: the change feed, in the Go
 * service's shape `{ events: [{ offset, timestamp, eventType, productId, version, data }],
 * nextOffset, hasMore, count }`.
 *
 * `offset` is the first offset wanted (inclusive, the Go service's "starting event
 * offset"); the engine's `changes()` takes the last one already seen, so
 * `after = offset - 1`. `nextOffset` is the one to ask for next. `wait` (seconds, 0–60)
 * long-polls: with nothing new the request waits that long for the first change. A stop
 * of the server answers every waiting poll at once, with no events. An offset older
 * than the journal keeps answers 410 naming the oldest one kept.
 *
 * Over the engine's `changes()`; OFFSET_EXPIRED (with `oldest`) answers 410.
 */
import type { FastifyInstance } from 'fastify';
import type { Inventory } from '../../inventory.js';
import type { Context } from '../app.js';
import { EVENTS_QUERY } from '../schemas.js';

type ChangesPage = Awaited<ReturnType<Inventory['changes']>>;
type Change = ChangesPage['items'][number];

const DEFAULT_LIMIT = 100;

/** One change in the Go service's event shape; what is not common goes in `data`. */
function eventOf(change: Change) {
  const { offset, type, productId, version, lastUpdated, ...rest } = change;
  const data: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(rest)) if (value !== undefined) data[name] = value;
  return { offset, timestamp: lastUpdated, eventType: type, productId, version, data };
}

/** The feed page for a request from `offset` inclusive, in the Go service's shape. */
function feedPage(page: ChangesPage) {
  const events = page.items.map(eventOf);
  return { events, nextOffset: page.next + 1, hasMore: page.hasMore, count: events.length };
}

export function eventRoutes(app: FastifyInstance, context: Context): void {
  app.get('/v1/inventory/events', { schema: { querystring: EVENTS_QUERY } }, async (request) => {
    const q = request.query as { offset?: string; limit?: string; wait?: string };
    const offset = q.offset === undefined ? 0 : Number(q.offset);
    const after = Math.max(0, offset - 1);
    const limit = q.limit === undefined ? DEFAULT_LIMIT : Number(q.limit);
    const waitMs = q.wait === undefined ? 0 : Number(q.wait) * 1000;
    const changes = context.inventory.changes({ after, limit, waitMs });
    // A stop answers a waiting poll at once; the engine settles its own wait at close.
    changes.catch(() => {});
    const empty: ChangesPage = { items: [], next: after, hasMore: false };
    const { stopped, release } = context.lifecycle.whenStopping(empty);
    // An offset no longer kept rejects OFFSET_EXPIRED: 410 in the shared table (status.ts).
    try {
      return feedPage(await Promise.race([changes, stopped]));
    } finally {
      release();
    }
  });
}
