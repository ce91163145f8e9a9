/**
 * The admin routes (an admin key, and the admin rate limit):
 *
 *   POST   /v1/admin/products/create  { products }    → 201 { results, summary }, all or none
 *   PUT    /v1/admin/products/set     { products }    → { results, summary }, each on its own
 *   DELETE /v1/admin/products/delete  { productIds }  → { results, summary }, each on its own
 *   GET    /v1/admin/locks                            → lockStats() and the engine's stats()
 *   GET    /v1/admin/rate-limit/status                → the caller's budgets, unspent
 *
 * Setting `available` is an absolute count after a stock take: the engine's
 * `setProduct({ available })`, with its own change in the feed.
 */
import type { FastifyInstance } from 'fastify';
import type {
  DeleteOutcome,
  Product,
  ProductInput,
  SetOutcome,
  UpdateOutcome,
} from '../../types.js';
import type { Context } from '../app.js';
import { summary, updateResult } from '../results.js';
import { CREATE_BODY, DELETE_BODY, SET_BODY } from '../schemas.js';

interface SetItem {
  productId: string;
  name?: string;
  available?: number;
  price?: number;
  version?: number;
}

/** A product just created or set, in the results' shape. */
function productResult(p: Product, offset: number) {
  return {
    productId: p.productId,
    applied: true,
    name: p.name,
    newQuantity: p.available,
    newVersion: p.version,
    price: p.price,
    lastUpdated: p.lastUpdated,
    offset,
  };
}

function setResult(o: SetOutcome, productId: string) {
  if (o.status !== 'applied') return updateResult(o as UpdateOutcome, productId);
  return productResult(o.product, o.offset);
}

function deleteResult(o: DeleteOutcome, productId: string) {
  if (o.status !== 'applied') return updateResult(o as UpdateOutcome, productId);
  return { productId: o.productId, applied: true, version: o.version, offset: o.offset };
}

export function adminRoutes(app: FastifyInstance, context: Context): void {
  const inv = context.inventory;

  app.post(
    '/v1/admin/products/create',
    { schema: { body: CREATE_BODY } },
    async (request, reply) => {
      const { products } = request.body as { products: ProductInput[] };
      const created = await inv.createProducts(
        products.map((p) => ({
          productId: p.productId,
          name: p.name,
          available: p.available,
          price: p.price,
        })),
      );
      context.metrics.outcome('create', 'applied', created.length);
      const results = created.map((p) => productResult(p, p.offset));
      reply.code(201);
      return { results, summary: summary(results) };
    },
  );

  app.put('/v1/admin/products/set', { schema: { body: SET_BODY } }, async (request) => {
    const { products } = request.body as { products: SetItem[] };
    const outcomes = await Promise.all(
      products.map((p) =>
        inv.setProduct({
          productId: p.productId,
          ...(p.name === undefined ? {} : { name: p.name }),
          ...(p.price === undefined ? {} : { price: p.price }),
          ...(p.available === undefined ? {} : { available: p.available }),
          ...(p.version === undefined || p.version === 0 ? {} : { expectedVersion: p.version }),
        }),
      ),
    );
    const results = outcomes.map((o, i) => {
      context.metrics.outcome('set', o.status);
      return setResult(o, (products[i] as SetItem).productId);
    });
    return { results, summary: summary(results) };
  });

  app.delete('/v1/admin/products/delete', { schema: { body: DELETE_BODY } }, async (request) => {
    const { productIds } = request.body as { productIds: string[] };
    const outcomes = await Promise.all(productIds.map((id) => inv.deleteProduct(id)));
    const results = outcomes.map((o, i) => {
      context.metrics.outcome('delete', o.status);
      return deleteResult(o, productIds[i] as string);
    });
    return { results, summary: summary(results) };
  });

  app.get('/v1/admin/locks', async () => ({ ...inv.lockStats(), engine: inv.stats() }));

  app.get('/v1/admin/rate-limit/status', async (request) => context.rateLimitStatus(request));
}
