import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Inventory } from '../../src/index.js';

function lines(file: string): { msg: string; [key: string]: unknown }[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

/** Each test's own directory, removed after it. */
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A log file in a new directory of its own. */
function logFile(name: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lockstock-log-'));
  dirs.push(dir);
  return path.join(dir, name);
}

describe('logs', () => {
  it('writes the per-lock debug lines from the workers when debug is on', async () => {
    const file = logFile('debug.log');
    const inv = await Inventory.open({
      workers: 2,
      logger: { level: 'debug', destination: file },
      products: [{ productId: 'SKU-001', available: 5 }],
      // A wait of 2 ms under the lock: held_us must show at least that.
      simulate: { holdUs: 2_000 },
    });
    await inv.update({ productId: 'SKU-001', delta: -1 });
    await inv.close();
    const log = lines(file);
    const opened = log.find((l) => l.msg === 'lockstock opened');
    expect(opened).toMatchObject({ workers: 2, lockMode: 'fine', capacity: 65_536 });
    for (const msg of [
      'Acquired write lock for product',
      'Released write lock for product',
      'Update processed by worker',
    ]) {
      const line = log.find((l) => l.msg === msg);
      expect(line, msg).toMatchObject({ product_id: 'SKU-001', level: 20 });
      expect(typeof line?.worker_id).toBe('number');
    }
    const released = log.find((l) => l.msg === 'Released write lock for product');
    expect(typeof released?.held_us).toBe('number');
    expect(released?.held_us as number).toBeGreaterThanOrEqual(2_000);
    expect(log.some((l) => l.msg === 'lockstock closed')).toBe(true);
  });

  it('writes only lifecycle lines at info', async () => {
    const file = logFile('info.log');
    const inv = await Inventory.open({
      workers: 2,
      logger: { level: 'info', destination: file },
      products: [{ productId: 'SKU-001', available: 5 }],
    });
    await inv.update({ productId: 'SKU-001', delta: -1 });
    await inv.close();
    expect(lines(file).map((l) => l.msg)).toEqual(['lockstock opened', 'lockstock closed']);
  });
});
