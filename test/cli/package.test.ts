/**
 * The package an embedder installs is the engine: its runtime dependencies are what
 * src/, workers/ and memory/ import, and `lockstock load` runs with those alone, while
 * `lockstock bench` says in one line what to install.
 */
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockstock } from './run.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Manifest {
  files: string[];
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}
interface Lock {
  packages: Record<string, { dev?: boolean }>;
}
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as Manifest;
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as Lock;

/** Every .ts file under `dir`, recursively. */
function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}

/** The packages a file imports: bare specifiers, `@scope/name` kept whole. */
function imported(file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]);
  return specifiers
    .filter((s): s is string => s !== undefined && !s.startsWith('.') && !s.startsWith('node:'))
    .map((s) =>
      s
        .split('/')
        .slice(0, s.startsWith('@') ? 2 : 1)
        .join('/'),
    );
}

describe('the installed package', () => {
  it('depends at run time on exactly what src/, workers/ and memory/ import', () => {
    const engine = ['src', 'workers', 'memory'].flatMap(sources);
    const used = new Set(engine.flatMap(imported));
    expect([...used].sort()).toEqual(Object.keys(pkg.dependencies).sort());
    // Exact versions, so an install is the one tested.
    for (const version of [
      ...Object.values(pkg.dependencies),
      ...Object.values(pkg.devDependencies),
    ]) {
      expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    }
  });

  it('never imports the benchmarks from the engine or its command', () => {
    const engine = ['src', 'workers', 'memory'].flatMap(sources);
    for (const file of engine) {
      const text = readFileSync(path.join(root, file), 'utf8');
      expect(text, file).not.toMatch(/from '(?:\.\.\/)+bench/);
    }
  });

  describe('with its runtime dependencies only', () => {
    let home = '';
    let main = '';

    beforeAll(() => {
      // What npm would unpack: package.json and "files", beside node_modules holding
      // only the lockfile's runtime packages (links into this checkout's copies).
      home = mkdtempSync(path.join(tmpdir(), 'lockstock-install-'));
      cpSync(path.join(root, 'package.json'), path.join(home, 'package.json'));
      for (const entry of pkg.files) {
        cpSync(path.join(root, entry), path.join(home, entry), { recursive: true });
      }
      for (const [key, entry] of Object.entries(lock.packages)) {
        const name = key.replace(/^node_modules\//, '');
        if (!key.startsWith('node_modules/') || name.includes('node_modules/') || entry.dev) {
          continue;
        }
        const target = path.join(root, key);
        const link = path.join(home, key);
        mkdirSync(path.dirname(link), { recursive: true });
        try {
          symlinkSync(target, link, 'dir');
        } catch (error) {
          // An optional package for another platform is absent here: nothing to link.
          if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        }
      }
      main = path.join(home, 'dist/src/cli/main.js');
    });

    afterAll(() => {
      if (home !== '') rmSync(home, { recursive: true, force: true });
    });

    it('runs lockstock load and verifies the books', async () => {
      const run = await lockstock(
        ['load', '--mode', 'fine', '--ops', '300', '--products', '20', '--workers', '1', '--json'],
        {},
        main,
      );
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).verification).toEqual({ ok: true, violations: [] });
    });

    it('runs lockstock serve: fastify, its rate limit and prom-client are runtime dependencies', async () => {
      const run = await lockstock(['serve', '--help'], {}, main);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: lockstock serve/);
    });

    it('answers lockstock bench with one line saying what to install, exit 2', async () => {
      const run = await lockstock(['bench', '--quick'], {}, main);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^lockstock bench needs libraries .*\(\S+ is missing\): npm install /,
      );
      for (const name of [
        'asciichart',
        'autocannon',
        'ioredis',
        'tinybench',
        'vega',
        'vega-lite',
      ]) {
        expect(lines[0]).toContain(`${name}@${pkg.devDependencies[name]}`);
      }
    });
  });
});
