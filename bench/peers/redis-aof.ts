/**
 * Redis as a durable store: `appendonly yes`, `appendfsync always`, running the Lua
 * script of bench/peers/redis.ts (RedisInventory). With `always`, Redis writes and
 * fsyncs its append-only file once per turn of its event loop, before it sends the
 * replies of that turn: group commit over whatever commands it read in the turn.
 *
 * The bench starts its own redis-server for this, in a directory of its own (the AOF
 * goes there, on the disk the other engines use), listening on a Unix socket in that
 * directory only: no port to find free, and no TCP stack between client and server,
 * which only helps Redis. It is stopped after; without redis-server the case is
 * skipped (redisInstalled, REDIS_MISSING in bench/peers/redis.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { Redis } from 'ioredis';

/** How long redis-server may take to answer its first PING. */
const START_MS = 10_000;

export class DurableRedis {
  private constructor(
    private readonly child: ChildProcess,
    private readonly socket: string,
  ) {}

  /** Starts redis-server with its AOF in `dir` (which must exist); resolves once it answers. */
  static async start(dir: string): Promise<DurableRedis> {
    const socket = path.join(dir, 'redis.sock');
    const child = spawn(
      'redis-server',
      [
        '--port',
        '0',
        '--unixsocket',
        socket,
        '--unixsocketperm',
        '700',
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--loglevel',
        'warning',
      ],
      { stdio: 'ignore' },
    );
    const server = new DurableRedis(child, socket);
    // ioredis reconnects until the socket exists and queues the PING meanwhile.
    const probe = server.client();
    probe.on('error', () => {});
    let timer: NodeJS.Timeout | undefined;
    let exited: (code: number | null) => void = () => {};
    const failed = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`redis-server did not answer on ${socket}`)),
        START_MS,
      );
      exited = (code) =>
        reject(new Error(`redis-server exited (code ${code}) before answering on ${socket}`));
      child.once('exit', exited);
    });
    const ping = probe.ping();
    // Lost to `failed`, it rejects when the probe is disconnected: nobody waits for it then.
    ping.catch(() => {});
    try {
      await Promise.race([ping, failed]);
      return server;
    } catch (error) {
      child.kill();
      throw error;
    } finally {
      clearTimeout(timer);
      child.off('exit', exited);
      probe.disconnect();
    }
  }

  /** A plain client (one command sent as each call is made, as RedisInventory expects). */
  client(): Redis {
    return new Redis({ path: this.socket, retryStrategy: (times) => Math.min(times * 20, 200) });
  }

  /** Stops the server; resolves once it has exited (its files may then be removed). */
  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill();
    });
  }
}
