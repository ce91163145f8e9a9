/**
 * Test helpers: a real server on a free loopback port, and requests to it over real
 * HTTP with the global fetch (never fastify's inject).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { pino } from 'pino';
import { buildApp, type Lifecycle } from '../../src/http/app.js';
import type { ServeConfig } from '../../src/http/config.js';
import { type Server, startServer } from '../../src/http/server.js';
import type { Inventory, InventoryOptions } from '../../src/index.js';
import { MAIN } from '../cli/run.js';

export interface Reply {
  status: number;
  headers: Headers;
  /** The body parsed as JSON when it is JSON, else its text ('' when empty). */
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies of every shape
  body: any;
}

export interface Call {
  body?: unknown;
  /** A body sent as is, for malformed JSON and the like. */
  raw?: string;
  headers?: Record<string, string>;
  /** Sent as X-API-Key. */
  key?: string;
}

export interface TestServer {
  url: string;
  server: Server;
  call(method: string, path: string, call?: Call): Promise<Reply>;
  stop(): Promise<void>;
}

export interface ServeOptions extends Partial<Omit<ServeConfig, 'engine' | 'rateLimit'>> {
  engine?: InventoryOptions;
  rateLimit?: Partial<ServeConfig['rateLimit']>;
}

/** Starts a server on port 0 with quiet logs, two workers and no rate limit unless told. */
export async function serve(options: ServeOptions = {}): Promise<TestServer> {
  const config: ServeConfig = {
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    products: 0,
    apiKeys: [],
    adminApiKeys: [],
    ...options,
    engine: { workers: 2, ...options.engine },
    rateLimit: { enabled: false, perMinute: 1000, adminPerMinute: 100, ...options.rateLimit },
  };
  const server = await startServer(config, pino({ level: 'silent' }));
  return {
    url: server.url,
    server,
    call: (method, path, call) => request(server.url, method, path, call),
    stop: () => server.stop(),
  };
}

export interface StandInServer {
  url: string;
  lifecycle: Lifecycle;
  call(method: string, path: string, call?: Call): Promise<Reply>;
  stop(): Promise<void>;
}

/**
 * The app over a stand-in engine (only the methods a test needs), listening on a free
 * port: for routes whose own logic can be tested before the engine has what they call.
 */
export async function serveStandIn(engine: Partial<Inventory>): Promise<StandInServer> {
  const { app, lifecycle } = await buildApp({
    inventory: engine as Inventory,
    logger: pino({ level: 'silent' }),
    apiKeys: [],
    adminApiKeys: [],
    rateLimit: { enabled: false, perMinute: 1, adminPerMinute: 1 },
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    lifecycle,
    call: (method, path, call) => request(url, method, path, call),
    stop: async () => {
      lifecycle.beginClosing();
      await app.close();
    },
  };
}

export async function request(
  url: string,
  method: string,
  path: string,
  call: Call = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...call.headers };
  let body: string | undefined = call.raw;
  if (call.body !== undefined) body = JSON.stringify(call.body);
  if (body !== undefined && headers['content-type'] === undefined) {
    headers['content-type'] = 'application/json';
  }
  if (call.key !== undefined) headers['x-api-key'] = call.key;
  const response = await fetch(`${url}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json') && text !== '') {
    parsed = JSON.parse(text);
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** A product as the admin create route takes it. */
export function product(productId: string, available = 100, price = 1.5) {
  return { productId, name: `Product ${productId}`, available, price };
}

export interface Spawned {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
  /** Everything it wrote so far, stdout and stderr. */
  output: () => string;
}

/** Starts `lockstock serve` as a process on a free port; resolves once it says where. */
export function spawnServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Spawned> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${out}`)), 20_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)".*"msg":"lockstock serving"/.exec(out);
      if (match !== null) {
        clearTimeout(timer);
        resolve({ child, url: match[1] as string, exited, output: () => out });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => reject(new Error(`serve exited before listening: ${out}`)));
  });
}
