/**
 * Every failure as one body: the error handler (thrown errors, fastify's own: bad JSON,
 * a body too large, a schema refusal) and the not-found handler, which answers 405 with
 * `Allow` when the path exists under another method, 404 otherwise.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { InventoryError } from '../errors.js';
import { pathOf } from './auth.js';
import { engineFailure, errorBody, HttpError } from './status.js';

/** Fastify's own errors, by code. */
function fastifyFailure(error: FastifyError): HttpError | null {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, 'payload_too_large', 'the request body is larger than 1 MiB');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpError(400, 'invalid_request', 'the body is empty: send a JSON object');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpError(400, 'invalid_request', `malformed JSON: ${error.message}`);
    default:
      break;
  }
  // The JSON parser's own SyntaxError (a body that is not JSON).
  if (error instanceof SyntaxError && error.statusCode === 400) {
    return new HttpError(400, 'invalid_request', `malformed JSON: ${error.message}`);
  }
  const status = error.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new HttpError(status, 'invalid_request', error.message);
  }
  return null;
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof InventoryError) return engineFailure(error);
  const known = fastifyFailure(error as FastifyError);
  if (known !== null) return known;
  return new HttpError(500, 'internal_error', 'the server failed to answer; it has logged why');
}

/** A route's URL pattern as a regular expression over paths. */
function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) =>
      segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${source}$`);
}

export function registerErrors(app: FastifyInstance): void {
  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    routes.push({ pattern: patternOf(route.url), methods });
  });

  app.setErrorHandler((error, request, reply) => {
    const e = toHttpError(error);
    if (e.status >= 500 && e.errorType === 'internal_error') {
      request.log.error({ err: error, url: request.url }, 'request failed');
    }
    for (const [name, value] of Object.entries(e.headers)) reply.header(name, value);
    reply.code(e.status).send(errorBody(e.status, e.errorType, e.message, e.extra));
  });

  app.setNotFoundHandler((request) => {
    const path = pathOf(request.url);
    const allowed = [
      ...new Set(routes.filter((r) => r.pattern.test(path)).flatMap((r) => r.methods)),
    ];
    if (allowed.length > 0) {
      throw new HttpError(
        405,
        'method_not_allowed',
        `${request.method} is not allowed on ${path} (allowed: ${allowed.join(', ')})`,
        {},
        { allow: allowed.join(', ') },
      );
    }
    throw new HttpError(404, 'not_found', `no route ${request.method} ${path}`);
  });
}
