/**
 * `lockstock serve`: reads flags and environment (src/http/config.ts), starts the
 * server, and stops it on SIGTERM or SIGINT: requests in flight finish, long polls
 * return at once, the engine closes (its journal flushed), and the process exits 0
 * within STOP_MS. A second signal exits at once.
 */
import { pino } from 'pino';
import { SERVE_OPTIONS, SERVE_SUMMARY, type ServeConfig, serveConfig } from '../http/config.js';
import { ENGINE_HAS_JOURNAL } from '../http/engine-next.js';
import { startServer } from '../http/server.js';
import { parse, UsageError, usage } from './args.js';

/** A stop that takes longer than this exits 1. */
export const STOP_MS = 10_000;

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Until the engine has its journal (issue 6), a data directory asked for is refused
 * rather than silently kept in memory.
 */
function requireJournal(config: ServeConfig, env: NodeJS.ProcessEnv): void {
  if (ENGINE_HAS_JOURNAL) return;
  const asked =
    (config.engine.dataDir !== undefined && '--data-dir') ||
    (config.engine.durability !== undefined && '--durability') ||
    (env.INVENTORY_DATA_DIR && 'environment variable INVENTORY_DATA_DIR') ||
    (env.INVENTORY_DURABILITY && 'environment variable INVENTORY_DURABILITY');
  if (asked) {
    throw new UsageError(
      `lockstock serve: ${asked} needs the engine's journal (issue 6), which this build does not have`,
    );
  }
}

export async function serveCommand(argv: string[]): Promise<number> {
  const values = parse('serve', argv, SERVE_OPTIONS);
  if (values.help === true) {
    process.stdout.write(usage('serve', SERVE_SUMMARY, SERVE_OPTIONS));
    return 0;
  }
  const config = serveConfig(values);
  requireJournal(config, process.env);
  const logger = pino({ level: config.logLevel });
  const server = await startServer(config, logger);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'lockstock serve: second signal, exiting now');
        logger.flush();
        process.exit(SIGNAL_EXIT[signal] ?? 1);
      }
      stopping = true;
      logger.info({ signal }, 'lockstock serve stopping: finishing the requests in flight');
      const deadline = setTimeout(() => {
        logger.error({ ms: STOP_MS }, 'lockstock serve did not stop in time, exiting');
        logger.flush();
        process.exit(1);
      }, STOP_MS);
      deadline.unref();
      server.stop().then(
        () => {
          clearTimeout(deadline);
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          logger.info('lockstock serve stopped');
          logger.flush();
          resolve(0);
        },
        (error: unknown) => {
          clearTimeout(deadline);
          logger.error({ err: error }, 'lockstock serve failed to stop cleanly');
          logger.flush();
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
