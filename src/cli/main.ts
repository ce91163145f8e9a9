#!/usr/bin/env node
/** The `lockstock` command: subcommands load, bench and serve. */
import { readFileSync } from 'node:fs';
import { InventoryError } from '../errors.js';
import { UsageError } from './args.js';
import { loadCommand } from './load-command.js';

/**
 * What `lockstock bench` imports beyond the engine's own dependencies: devDependencies,
 * so that the package an embedder installs is the engine alone.
 */
const BENCH_LIBRARIES = ['asciichart', 'autocannon', 'ioredis', 'tinybench', 'vega', 'vega-lite'];

const HELP = `Usage: lockstock <command> [options]

An inventory engine on real threads: products in one SharedArrayBuffer, a lock per product.

Commands:
  load     drive an engine with a workload, report, and verify nothing was lost
  bench    sweep thread counts × lock modes × scenarios, beside the peers
  serve    serve the engine over HTTP (the Go service's routes)

Run \`lockstock <command> --help\` for a command's options.
  -h, --help       show this help
  -v, --version    print the version
`;

interface PackageJson {
  name?: string;
  version?: string;
  devDependencies?: Record<string, string>;
}

function packageJson(): PackageJson | null {
  // package.json sits two levels above src/cli and three above dist/src/cli.
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as PackageJson;
      if (pkg.name === 'lockstock') return pkg;
    } catch {
      // Not this level: try the next.
    }
  }
  return null;
}

function version(): string {
  return packageJson()?.version ?? 'unknown';
}

/**
 * Runs `lockstock bench` from bench/command.js, loaded only now: from an installed
 * package without the benchmark libraries it says what to install, in one line.
 */
async function bench(argv: string[]): Promise<number> {
  let command: typeof import('../../bench/command.js');
  try {
    command = await import('../../bench/command.js');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND') throw error;
    const missing = /Cannot find (?:package|module) '([^']+)'/.exec((error as Error).message);
    const pinned = packageJson()?.devDependencies ?? {};
    const install = BENCH_LIBRARIES.map((name) =>
      pinned[name] === undefined ? name : `${name}@${pinned[name]}`,
    );
    throw new UsageError(
      `lockstock bench needs libraries the engine does not (${missing?.[1] ?? 'one'} is missing): ` +
        `npm install ${install.join(' ')}, or run it from a checkout after npm ci`,
    );
  }
  return command.benchCommand(argv);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'load':
      return loadCommand(rest);
    case 'bench':
      return bench(rest);
    case 'serve':
      // Loaded only now: `load` and `bench` need no HTTP server.
      return (await import('./serve.js')).serveCommand(rest);
    case '-v':
    case '--version':
      process.stdout.write(`${version()}\n`);
      return 0;
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(HELP);
      return 0;
    default:
      throw new UsageError(
        `lockstock: unknown command '${command}' (commands: load, bench, serve)`,
      );
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 2;
    } else if (error instanceof InventoryError) {
      process.stderr.write(`lockstock: ${error.message} (${error.code})\n`);
      process.exitCode = error.code === 'INVALID_OPTION' || error.code === 'INVALID_ENV' ? 2 : 1;
    } else {
      process.stderr.write(`lockstock: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
