/**
 * A running server: the engine opened, the app built and listening; and the stop that
 * undoes it in order — refuse new requests (503, /health too), let the ones in flight
 * finish (long polls return at once), stop listening, close the engine (which settles
 * every call made and, with a data directory, flushes the journal).
 */
import type { FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import { UsageError } from '../cli/args.js';
import { defaultCatalog } from '../cli/catalog.js';
import { Inventory } from '../inventory.js';
import { buildApp, type Lifecycle } from './app.js';
import type { ServeConfig } from './config.js';

/** How often a stopping server closes the connections that have fallen idle. */
const REAP_MS = 25;

export interface Server {
  /** `http://host:port`, with the port actually bound. */
  url: string;
  port: number;
  app: FastifyInstance;
  inventory: Inventory;
  lifecycle: Lifecycle;
  /** Stops gracefully; the same promise however often it is called. */
  stop(): Promise<void>;
}

export async function startServer(config: ServeConfig, logger?: Logger): Promise<Server> {
  const log = logger ?? pino({ level: config.logLevel });
  const inventory = await Inventory.open({
    ...config.engine,
    ...(config.products > 0 ? { products: defaultCatalog(config.products) } : {}),
    logger: log,
  });
  let app: FastifyInstance | null = null;
  try {
    const built = await buildApp({
      inventory,
      logger: log,
      apiKeys: config.apiKeys,
      adminApiKeys: config.adminApiKeys,
      rateLimit: config.rateLimit,
    });
    app = built.app;
    await listen(app, config);
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `http://${host}:${port}`;
    const { lifecycle } = built;
    const running = app;
    let stopped: Promise<void> | null = null;
    log.info(
      { url, auth: config.apiKeys.length > 0, rateLimit: config.rateLimit },
      'lockstock serving',
    );
    return {
      url,
      port,
      app: running,
      inventory,
      lifecycle,
      stop() {
        stopped ??= (async () => {
          lifecycle.beginClosing();
          // A connection kept alive after its answer would hold close() until its
          // keep-alive timeout: while stopping, close each one as it falls idle.
          const reaper = setInterval(() => running.server.closeIdleConnections(), REAP_MS);
          try {
            await running.close();
          } finally {
            clearInterval(reaper);
          }
          await inventory.close();
        })();
        return stopped;
      },
    };
  } catch (error) {
    await app?.close();
    await inventory.close();
    throw error;
  }
}

/** Listens, or says in one line why not (a port in use, an address not here). */
async function listen(app: FastifyInstance, config: ServeConfig): Promise<void> {
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (
      code === 'EADDRINUSE' ||
      code === 'EADDRNOTAVAIL' ||
      code === 'EACCES' ||
      code === 'ENOTFOUND'
    ) {
      throw new UsageError(
        `lockstock serve: cannot listen on ${config.host} port ${config.port} (--host/HOST, --port/PORT): ${code}`,
      );
    }
    throw error;
  }
}
