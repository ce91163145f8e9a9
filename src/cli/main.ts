#!/usr/bin/env node
/** The `lockstock` command: subcommands load and bench (room for serve). */
import { readFileSync } from 'node:fs';
import { InventoryError } from '../errors.js';
import { UsageError } from './args.js';
import { benchCommand } from './bench-command.js';
import { loadCommand } from './load-command.js';

const HELP = `Usage: lockstock <command> [options]

An inventory engine on real threads: products in one SharedArrayBuffer, a lock per product.

Commands:
  load     drive an engine with a workload, report, and verify nothing was lost
  bench    sweep thread counts × lock modes × scenarios, beside the peers

Run \`lockstock <command> --help\` for a command's options.
  -h, --help       show this help
  -v, --version    print the version
`;

function version(): string {
  // package.json sits two levels above src/cli and three above dist/src/cli.
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'lockstock' && pkg.version) return pkg.version;
    } catch {
      // Not this level: try the next.
    }
  }
  return 'unknown';
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'load':
      return loadCommand(rest);
    case 'bench':
      return benchCommand(rest);
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
      throw new UsageError(`lockstock: unknown command '${command}' (commands: load, bench)`);
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
