/** Finding compiled thread entries (Node 20 cannot start a thread on a .ts file). */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InventoryError } from './errors.js';

/**
 * Where the compiled file `relative` (to dist/, e.g. `workers/apply.js`) is: under
 * dist/ beside this file's directory, or in dist/ when this file runs from source (the
 * tests). `what` names it in the error when it is missing.
 */
export function compiledFile(relative: string, what: string): string {
  const here = fileURLToPath(import.meta.url);
  const dir = path.dirname(here);
  const root = here.endsWith('.ts') ? path.resolve(dir, '../dist') : path.resolve(dir, '..');
  const file = path.join(root, relative);
  if (!existsSync(file)) {
    throw new InventoryError(
      'WORKER_NOT_BUILT',
      `the compiled ${what} ${file} is missing: run \`npm run build\` first`,
    );
  }
  return file;
}

/** The compiled entry of thread `workers/<name>.js`. */
export function workerFile(name = 'apply', what = 'worker'): string {
  return compiledFile(`workers/${name}.js`, what);
}

/**
 * The Node options lockstock's threads start with: the process's own, as a thread
 * would inherit them, less `--input-type`, which Node refuses for a thread started on
 * a file. A program run as `node --input-type=module -e '…'` would otherwise find
 * every thread failing to start.
 */
export function threadExecArgv(): string[] {
  const argv: string[] = [];
  const inherited = process.execArgv;
  for (let i = 0; i < inherited.length; i++) {
    const arg = inherited[i] as string;
    if (arg === '--input-type') i++;
    else if (!arg.startsWith('--input-type=')) argv.push(arg);
  }
  return argv;
}
