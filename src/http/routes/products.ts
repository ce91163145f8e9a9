/**
 * GET /v1/inventory/{productId}: one product, with `ETag: "<version>"`; a matching
 * `If-None-Match` answers 304. GET /v1/inventory?limit&cursor: a page of products in id
 * order, each page one consistent cut; `nextCursor` is opaque (it encodes the last id
 * of the page) and null on the last page. `?snapshot=true` is the whole catalog as one
 * cut (snapshot.ts).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Product } from '../../types.js';
import type { Context } from '../app.js';
import { LIST_QUERY, PRODUCT_PARAMS } from '../schemas.js';
import { HttpError } from '../status.js';
import { sendSnapshot } from './snapshot.js';

const DEFAULT_PAGE = 100;
const CURSOR_PREFIX = 'c1.';

export function encodeCursor(after: string): string {
  return CURSOR_PREFIX + Buffer.from(after, 'utf8').toString('base64url');
}

/** The product id a cursor stands for; 400 naming `cursor` for anything else. */
export function decodeCursor(cursor: string): string {
  const body = cursor.startsWith(CURSOR_PREFIX) ? cursor.slice(CURSOR_PREFIX.length) : '';
  const after = Buffer.from(body, 'base64url').toString('utf8');
  // A cursor this server made round-trips exactly; anything else is not one of ours.
  if (body === '' || encodeCursor(after) !== cursor) {
    throw new HttpError(400, 'invalid_request', 'cursor is not one this server returned', {
      field: 'cursor',
    });
  }
  return after;
}

/** A product in the Go service's field order. */
export function productBody(p: Product) {
  return {
    productId: p.productId,
    name: p.name,
    available: p.available,
    version: p.version,
    lastUpdated: p.lastUpdated,
    price: p.price,
  };
}

/** Whether an If-None-Match header names `etag` (or is `*`); weak tags compare too. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

/** Paths beside /v1/inventory/{productId} that only take POST. */
const POST_ONLY = new Set(['updates', 'orders']);

export function productRoutes(app: FastifyInstance, context: Context): void {
  app.get(
    '/v1/inventory/:productId',
    { schema: { params: PRODUCT_PARAMS } },
    async (request, reply: FastifyReply) => {
      const { productId } = request.params as { productId: string };
      const product = context.inventory.get(productId);
      if (product === undefined && POST_ONLY.has(productId)) {
        // GET /v1/inventory/updates matches this route, but means the POST one.
        throw new HttpError(
          405,
          'method_not_allowed',
          `GET is not allowed on /v1/inventory/${productId} (allowed: POST)`,
          {},
          { allow: 'POST' },
        );
      }
      if (product === undefined) {
        throw new HttpError(404, 'product_not_found', `product ${productId} not found`, {
          productId,
        });
      }
      const etag = `"${product.version}"`;
      reply.header('etag', etag);
      if (noneMatch(request.headers['if-none-match'], etag)) return reply.code(304).send();
      return productBody(product);
    },
  );

  app.get('/v1/inventory', { schema: { querystring: LIST_QUERY } }, async (request, reply) => {
    const q = request.query as { limit?: string; cursor?: string; snapshot?: string };
    if (q.snapshot === 'true') {
      if (q.limit !== undefined || q.cursor !== undefined) {
        throw new HttpError(400, 'invalid_request', 'a snapshot takes no limit or cursor', {
          field: q.limit === undefined ? 'cursor' : 'limit',
        });
      }
      return sendSnapshot(context, reply);
    }
    const page = await context.inventory.list({
      limit: q.limit === undefined ? DEFAULT_PAGE : Number(q.limit),
      after: q.cursor === undefined ? undefined : decodeCursor(q.cursor),
    });
    return {
      items: page.items.map(productBody),
      nextCursor: page.next === null ? null : encodeCursor(page.next),
    };
  });
}
