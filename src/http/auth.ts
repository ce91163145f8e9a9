/**
 * API keys in the `X-API-Key` header. A missing or unknown key answers 401; a key that
 * is not an admin key answers 403 on /v1/admin/*. With no API_KEYS the data routes are
 * open (the configuration only allows that on a loopback host); with no ADMIN_API_KEYS
 * either, so are the admin routes. /health and /metrics are always open.
 *
 * Keys are compared in constant time: each configured key is kept as its SHA-256
 * digest, the presented key is hashed the same way, and its digest is compared with
 * every configured one by crypto.timingSafeEqual, without stopping at a match. The
 * time taken depends neither on how much of a key is right nor on its length, nor on
 * which key (if any) matched.
 */
import crypto, { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from './status.js';

/** Who sent a request: the rate limits count per principal. */
export interface Principal {
  /** `key:<digest prefix>` for a key (never the key itself), `ip:<address>` when open. */
  readonly id: string;
  readonly admin: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const ADMIN_PREFIX = '/v1/admin/';
const OPEN_PATHS = new Set(['/health', '/metrics']);

/**
 * SHA-256 of a key. crypto.hash (Node ≥ 20.12) makes no Hash object: it is most of what
 * authenticating a request costs, so it is used where it exists.
 */
const digest: (key: string) => Buffer =
  typeof crypto.hash === 'function'
    ? (key) => crypto.hash('sha256', key, 'buffer')
    : (key) => createHash('sha256').update(key, 'utf8').digest();

/** A configured key: its digest, and the Principal its requests are (one per key). */
interface Entry extends Principal {
  readonly digest: Buffer;
}

export class KeyRing {
  private readonly entries: Entry[];
  readonly openData: boolean;
  readonly openAdmin: boolean;

  constructor(apiKeys: readonly string[], adminApiKeys: readonly string[]) {
    const admin = new Set(adminApiKeys);
    const all = new Set([...apiKeys, ...adminApiKeys]);
    this.entries = [...all].map((key) => {
      const d = digest(key);
      return { digest: d, id: `key:${d.subarray(0, 6).toString('hex')}`, admin: admin.has(key) };
    });
    this.openData = apiKeys.length === 0;
    this.openAdmin = this.openData && adminApiKeys.length === 0;
  }

  /** The entry of `presented`, or null; constant time in the keys' contents. */
  find(presented: string): Entry | null {
    const d = digest(presented);
    let found: Entry | null = null;
    for (const entry of this.entries) {
      // No early exit: every configured key is compared whether or not one matched.
      if (timingSafeEqual(entry.digest, d)) found = entry;
    }
    return found;
  }

  /** Who sent `request` to `path`; throws 401 or 403 when it may not. */
  authenticate(request: FastifyRequest, path: string): Principal | null {
    if (OPEN_PATHS.has(path)) return null;
    const admin = path.startsWith(ADMIN_PREFIX);
    if (admin ? this.openAdmin : this.openData) return { id: `ip:${request.ip}`, admin: true };
    const header = request.headers['x-api-key'];
    if (typeof header !== 'string' || header === '') {
      throw new HttpError(401, 'unauthorized', 'an API key is required in the X-API-Key header');
    }
    const entry = this.find(header);
    if (entry === null) throw new HttpError(401, 'unauthorized', 'the API key is not known');
    if (admin && !entry.admin) {
      throw new HttpError(403, 'forbidden', `the API key is not an admin key, which ${path} needs`);
    }
    return entry;
  }
}

/** The path of a request's URL, without its query. */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * The route a request matched (its pattern), else its path: whether a request is an
 * admin one is decided by the route the router chose, so no spelling of a URL that
 * reaches an admin route can pass for another.
 */
export function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? pathOf(request.url);
}

export function isAdminRoute(request: FastifyRequest): boolean {
  return routeOf(request).startsWith(ADMIN_PREFIX);
}

/** Gives every request its `principal` (null until authenticated). */
export function decorateAuth(app: FastifyInstance): void {
  app.decorateRequest('principal', null);
}
