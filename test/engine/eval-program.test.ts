import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const index = pathToFileURL(
  fileURLToPath(new URL('../../dist/src/index.js', import.meta.url)),
).href;

/**
 * Node refuses `--input-type` to a thread started on a file, and a thread inherits the
 * process's options: a program run as `node --input-type=module -e …` must still get
 * its pool, journal and recovery threads.
 */
describe('a program run with --input-type=module -e', () => {
  it('opens an engine with a data directory, updates, and reopens it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lockstock-eval-'));
    try {
      const script = `
        import { Inventory } from ${JSON.stringify(index)};
        const options = { dataDir: ${JSON.stringify(dir)}, workers: 1, logger: { level: 'silent' } };
        const inv = await Inventory.open({ ...options, products: [{ productId: 'A', available: 3 }] });
        const outcome = await inv.update({ productId: 'A', delta: -1 });
        await inv.close();
        const again = await Inventory.open(options);
        console.log(JSON.stringify({ status: outcome.status, available: again.get('A')?.available }));
        await again.close();
      `;
      const { stdout } = await promisify(execFile)(process.execPath, [
        '--input-type=module',
        '-e',
        script,
      ]);
      expect(JSON.parse(stdout)).toEqual({ status: 'applied', available: 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
