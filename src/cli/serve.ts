/**
 * `lockstock serve`: reads flags and environment (src/http/config.ts), starts the
 * server, and stops it on SIGTERM or SIGINT: requests in flight finish, long polls
 * return at once, the engine closes (its journal flushed), and the process exits 0
 * within STOP_MS. A second signal exits at once.
 */
import { pino } from 'pino';
import { SERVE_OPTIONS, SERVE_SUMMARY, serveConfig } from '../http/config.js';
import { startServer } from '../http/server.js';
import { parse, usage } from './args.js';

/** A stop that takes longer than this exits 1. */
export const STOP_MS = 10_000;

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export async function serveCommand(argv: string[]): Promise<number> {
  const values = parse('serve', argv, SERVE_OPTIONS);
  if (values.help === true) {
    process.stdout.write(usage('serve', SERVE_SUMMARY, SERVE_OPTIONS));
    return 0;
  }
  const config = serveConfig(values);
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
