/**
 * POST /v1/inventory/updates (one update, or `{ updates: [...] }` of up to 1000) and
 * POST /v1/inventory/orders (all items or none).
 *
 * HTTP extras over the Go service's bodies: the key may come in an `Idempotency-Key`
 * header (IETF draft), and a replayed answer carries `Idempotent-Replayed: true`;
 * `If-Match: "<version>"` on a single update is its expected version, and a mismatch
 * answers 412 instead of 409; an applied update carries the new `ETag`.
 */

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isReplay } from '../../idempotency.js';
import type { OrderOutcome, UpdateOutcome, UpdateRequest } from '../../types.js';
import type { Context } from '../app.js';
import { orderResult, summary, type UpdateResult, updateResult } from '../results.js';
import { KEY_HEADERS, ORDER_BODY, UPDATES_BODY } from '../schemas.js';
import { errorBody, HttpError, OUTCOME_STATUS, RETRY_AFTER_S } from '../status.js';

interface UpdateBody {
  storeId?: string;
  productId: string;
  delta: number;
  version?: number;
  idempotencyKey?: string;
}

interface BatchBody {
  storeId?: string;
  updates: UpdateBody[];
}

interface OrderBody {
  items: { productId: string; delta: number; version?: number }[];
  idempotencyKey?: string;
}

/** `version` 0 is the Go service's "no check". */
function expected(version: number | undefined): number | undefined {
  return version === undefined || version === 0 ? undefined : version;
}

/** `"7"` (or `W/"7"`) → 7; `*` → null (any version); absent → undefined. */
function parseIfMatch(header: string | undefined): number | null | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return null;
  const match = /^(?:W\/)?"([1-9][0-9]{0,15})"$/.exec(value);
  const version = match === null ? Number.NaN : Number(match[1]);
  if (!Number.isSafeInteger(version)) {
    throw new HttpError(400, 'invalid_request', `If-Match must be "<version>" or *, got ${value}`, {
      field: 'If-Match',
    });
  }
  return version;
}

/** The body's key and the header's, which must agree when both are given. */
function keyOf(request: FastifyRequest, bodyKey: string | undefined): string | undefined {
  const header = request.headers['idempotency-key'] as string | undefined;
  if (header !== undefined && bodyKey !== undefined && header !== bodyKey) {
    throw new HttpError(
      400,
      'invalid_request',
      'the Idempotency-Key header and the body idempotencyKey differ',
      { field: 'idempotencyKey' },
    );
  }
  return bodyKey ?? header;
}

/** Runs `call`; sets Idempotent-Replayed when the engine answered it from its cache. */
async function withReplayHeader<O extends { status: string }>(
  reply: FastifyReply,
  call: () => Promise<O>,
): Promise<O> {
  const outcome = await call();
  if (isReplay(outcome)) reply.header('idempotent-replayed', 'true');
  return outcome;
}

/** Status, headers and body of a single request's result. */
function answer(reply: FastifyReply, status: number, result: UpdateResult | object) {
  reply.code(status);
  if (status === 503) reply.header('retry-after', String(RETRY_AFTER_S));
  if (status < 400) return result;
  const r = result as { errorType: string; errorMessage: string };
  return { ...errorBody(status, r.errorType, r.errorMessage), ...result };
}

async function single(context: Context, request: FastifyRequest, reply: FastifyReply) {
  const body = request.body as UpdateBody;
  const ifMatch = parseIfMatch(request.headers['if-match']);
  let expectedVersion = expected(body.version);
  if (typeof ifMatch === 'number') {
    if (expectedVersion !== undefined && expectedVersion !== ifMatch) {
      throw new HttpError(400, 'invalid_request', 'If-Match and the body version differ', {
        field: 'If-Match',
      });
    }
    expectedVersion = ifMatch;
  }
  const key = keyOf(request, body.idempotencyKey);
  const outcome: UpdateOutcome = await withReplayHeader(reply, () =>
    context.inventory.update({
      productId: body.productId,
      delta: body.delta,
      expectedVersion,
      idempotencyKey: key,
    }),
  );
  context.metrics.outcome('update', outcome.status);
  if (outcome.status === 'applied') reply.header('etag', `"${outcome.version}"`);
  const status =
    outcome.status === 'version_conflict' && typeof ifMatch === 'number'
      ? 412
      : OUTCOME_STATUS[outcome.status];
  return answer(reply, status, updateResult(outcome, body.productId, body.delta));
}

async function batch(context: Context, request: FastifyRequest) {
  const body = request.body as BatchBody;
  for (const header of ['idempotency-key', 'if-match']) {
    if (request.headers[header] !== undefined) {
      throw new HttpError(
        400,
        'invalid_request',
        `${header} names one request: give each update of a batch its own idempotencyKey or version`,
        { field: header },
      );
    }
  }
  const requests: UpdateRequest[] = body.updates.map((u) => ({
    productId: u.productId,
    delta: u.delta,
    expectedVersion: expected(u.version),
    idempotencyKey: u.idempotencyKey,
  }));
  const outcomes = await context.inventory.updateMany(requests);
  const results = outcomes.map((o, i) => {
    context.metrics.outcome('update', o.status);
    const u = body.updates[i] as UpdateBody;
    const result = updateResult(o, u.productId, u.delta);
    return isReplay(o) ? { ...result, replayed: true } : result;
  });
  return { results, summary: summary(results) };
}

export function updateRoutes(app: FastifyInstance, context: Context): void {
  app.post(
    '/v1/inventory/updates',
    { schema: { body: UPDATES_BODY, headers: KEY_HEADERS } },
    async (request, reply) => {
      const body = request.body as object;
      return 'updates' in body ? batch(context, request) : single(context, request, reply);
    },
  );

  app.post(
    '/v1/inventory/orders',
    { schema: { body: ORDER_BODY, headers: KEY_HEADERS } },
    async (request, reply) => {
      const body = request.body as OrderBody;
      const key = keyOf(request, body.idempotencyKey);
      const outcome: OrderOutcome = await withReplayHeader(reply, () =>
        context.inventory.order({
          items: body.items.map((item) => ({
            productId: item.productId,
            delta: item.delta,
            expectedVersion: expected(item.version),
          })),
          idempotencyKey: key,
        }),
      );
      context.metrics.outcome('order', outcome.status);
      const result = orderResult(
        outcome,
        body.items.map((item) => item.delta),
      );
      return answer(reply, OUTCOME_STATUS[outcome.status], result);
    },
  );
}
