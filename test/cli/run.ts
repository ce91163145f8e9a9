/** Runs the built `lockstock` command as a child process, as a user would. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The checkout's built command. */
export const MAIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `main` (the checkout's command unless told) with `args` and extra `env`. */
export function lockstock(args: string[], env: NodeJS.ProcessEnv = {}, main = MAIN): Promise<Run> {
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [main, ...args],
      { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
