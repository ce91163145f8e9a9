import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Inventory } from '../../src/index.js';

function lines(file: string): { msg: string; [key: string]: unknown }[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

describe('logs', () => {
  it('writes the per-lock debug lines from the workers when debug is on', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'lockstock-')), 'debug.log');
    const inv = await Inventory.open({
      workers: 2,
      logger: { level: 'debug', destination: file },
      products: [{ productId: 'SKU-001', available: 5 }],
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
    expect(log.some((l) => l.msg === 'lockstock closed')).toBe(true);
  });

  it('writes only lifecycle lines at info', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'lockstock-')), 'info.log');
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
