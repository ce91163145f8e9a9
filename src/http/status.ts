/**
 * The one table from outcomes and failures to HTTP: statuses, the Go service's error
 * codes, and the error body every non-2xx answer carries — the Go service's
 * `{ code, message }` beside lockstock's `{ errorType, errorMessage }`, so that clients
 * of either read it.
 */
import type { InventoryError } from '../errors.js';
import type { UpdateOutcome } from '../types.js';

/** HTTP status of each engine outcome of a stock change. */
export const OUTCOME_STATUS = {
  applied: 200,
  version_conflict: 409,
  insufficient_inventory: 409,
  product_not_found: 404,
  invalid_request: 400,
  idempotency_key_reused: 422,
  queue_full: 503,
} as const satisfies Record<UpdateOutcome['status'], number>;

/**
 * The Go service's `code` for each HTTP status: the reason phrase in snake case
 * (`bad_request`, `unauthorized`, `not_found`, …).
 */
const CODES: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  410: 'gone',
  412: 'precondition_failed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable_entity',
  429: 'too_many_requests',
  500: 'internal_server_error',
  501: 'not_implemented',
  503: 'service_unavailable',
  507: 'insufficient_storage',
};

function codeOf(status: number): string {
  return CODES[status] ?? (status >= 500 ? 'internal_server_error' : 'bad_request');
}

interface ErrorBody {
  code: string;
  message: string;
  errorType: string;
  errorMessage: string;
  [extra: string]: unknown;
}

/** An error body: both vocabularies, then any extra fields (`field`, `oldest`, …). */
export function errorBody(
  status: number,
  errorType: string,
  errorMessage: string,
  extra: Record<string, unknown> = {},
): ErrorBody {
  return { code: codeOf(status), message: errorMessage, errorType, errorMessage, ...extra };
}

/** A failure a handler throws; the error handler turns it into its status and body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Seconds a client should wait before retrying a full queue or a stopping engine. */
export const RETRY_AFTER_S = 1;

/**
 * An engine error (misuse or failure, not a business outcome) as HTTP. Request checks
 * run before the engine, so INVALID_ARGUMENT here is the engine's own refusal.
 */
export function engineFailure(error: InventoryError): HttpError {
  const retry = { 'retry-after': String(RETRY_AFTER_S) };
  switch (error.code) {
    case 'INVALID_ARGUMENT':
      return new HttpError(400, 'invalid_request', error.message);
    case 'PRODUCT_EXISTS':
      return new HttpError(409, 'product_exists', error.message);
    case 'CAPACITY_EXHAUSTED':
      return new HttpError(507, 'capacity_exhausted', error.message);
    case 'CLOSED':
      return new HttpError(503, 'closing', error.message, {}, retry);
    case 'LOCK_TIMEOUT':
      return new HttpError(503, 'lock_timeout', error.message, { retryable: true }, retry);
    case 'OFFSET_EXPIRED': {
      const oldest = error.oldest;
      return new HttpError(
        410,
        'offset_expired',
        `the change feed no longer keeps that offset: the oldest kept is ${oldest}`,
        { oldest },
      );
    }
    default:
      return new HttpError(500, 'internal_error', `${error.code}: ${error.message}`);
  }
}
