/**
 * JSON schemas of every request, checked by fastify (Ajv) before a handler runs, and
 * the formatter that turns Ajv's first error into one sentence naming the field
 * (`updates[3].delta must be integer, got "5"`).
 *
 * Bodies are not coerced: `"delta": "5"` or `true` is refused, as the Go service's
 * decoder refused them. Query strings are strings, so their numbers are checked by
 * pattern, and each pattern's `description` says in words what it wants. The engine
 * still checks what a schema cannot (id bytes, safe integers, a non-zero delta).
 */
import type { FastifySchemaValidationError } from 'fastify';
import { MAX_KEY_LENGTH } from '../requests.js';

/** Requests per batch, products per admin call, items per order. */
export const MAX_BATCH = 1000;

const productId = { type: 'string', minLength: 1 } as const;
const key = { type: 'string', minLength: 1, maxLength: MAX_KEY_LENGTH } as const;
/** The expected version; 0 (the Go service's zero value) or absent: no check. */
const version = { type: 'integer', minimum: 0 } as const;

const update = {
  type: 'object',
  required: ['productId', 'delta'],
  properties: {
    storeId: { type: 'string' },
    productId,
    delta: { type: 'integer' },
    version,
    idempotencyKey: key,
  },
} as const;

/** A single update, or `{ updates: [...] }`: told apart by `updates`. */
export const UPDATES_BODY = {
  type: 'object',
  if: { required: ['updates'] },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else, never awaited
  then: {
    properties: {
      storeId: { type: 'string' },
      updates: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: update },
    },
  },
  else: update,
} as const;

export const ORDER_BODY = {
  type: 'object',
  required: ['items'],
  properties: {
    storeId: { type: 'string' },
    items: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_BATCH,
      items: {
        type: 'object',
        required: ['productId', 'delta'],
        properties: { productId, delta: { type: 'integer' }, version },
      },
    },
    idempotencyKey: key,
  },
} as const;

/** The Idempotency-Key header (IETF draft), checked as the body's field is. */
export const KEY_HEADERS = {
  type: 'object',
  properties: { 'idempotency-key': key },
} as const;

const count = { type: 'integer', minimum: 0 } as const;
const price = { type: 'number', minimum: 0 } as const;

/** `{ products: [...] }` of up to MAX_BATCH items, each with `productId` and `fields`. */
function productsBody(required: readonly string[], fields: Record<string, object>) {
  return {
    type: 'object',
    required: ['products'],
    properties: {
      products: {
        type: 'array',
        minItems: 1,
        maxItems: MAX_BATCH,
        items: { type: 'object', required, properties: { productId, ...fields } },
      },
    },
  } as const;
}

const name = { type: 'string' } as const;

export const CREATE_BODY = productsBody(['productId', 'available'], {
  name,
  available: count,
  price,
});

export const SET_BODY = productsBody(['productId'], { name, available: count, price, version });

export const DELETE_BODY = {
  type: 'object',
  required: ['productIds'],
  properties: {
    productIds: { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: productId },
  },
} as const;

/** A query-string number, by pattern: Ajv does not coerce here either. */
function digits(pattern: string, description: string) {
  return { type: 'string', pattern, description } as const;
}

const PAGE_LIMIT = digits('^(?:[1-9][0-9]{0,2}|1000)$', 'a whole number from 1 to 1000');

export const LIST_QUERY = {
  type: 'object',
  properties: {
    limit: PAGE_LIMIT,
    cursor: { type: 'string', minLength: 1, maxLength: 200 },
    snapshot: { type: 'string', enum: ['true', 'false'] },
  },
} as const;

export const EVENTS_QUERY = {
  type: 'object',
  properties: {
    offset: digits('^[0-9]{1,15}$', 'a whole number ≥ 0'),
    limit: PAGE_LIMIT,
    wait: digits('^(?:[0-9]|[1-5][0-9]|60)$', 'a whole number of seconds from 0 to 60'),
  },
} as const;

export const PRODUCT_PARAMS = {
  type: 'object',
  required: ['productId'],
  properties: { productId },
} as const;

/** How a message names where a field is; a body field is named by its path alone. */
const PART_NAMES: Record<string, string> = {
  querystring: 'query parameter ',
  params: 'path parameter ',
  headers: 'header ',
};

/** `/updates/3/delta` → `updates[3].delta`. */
function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .filter((s) => s !== '')
    .map((s, i) => (/^[0-9]+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join('');
}

function shown(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** The field an error is about and what is wrong with it. */
export function describeValidation(
  errors: readonly FastifySchemaValidationError[],
  part: string,
): { field: string; message: string } {
  // `if`/`then` add an error of their own after the one that matters.
  const error = errors.find((e) => e.keyword !== 'if') ?? errors[0];
  if (error === undefined) return { field: part, message: `${part} is invalid` };
  const at = fieldPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required') {
    const field = [at, String(params.missingProperty)].filter((s) => s !== '').join('.');
    return { field, message: `${field} is required` };
  }
  const field = at === '' ? part : at;
  const where = PART_NAMES[part] ?? '';
  const description = (error as { parentSchema?: { description?: string } }).parentSchema
    ?.description;
  const what =
    error.keyword === 'pattern' && description !== undefined
      ? `must be ${description}`
      : (error.message ?? 'is invalid');
  const got = 'data' in error ? `, got ${shown((error as { data?: unknown }).data)}` : '';
  return { field, message: `${where}${field} ${what}${got}` };
}
