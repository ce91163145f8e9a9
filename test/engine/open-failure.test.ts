import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Inventory, type InventoryOptions } from '../../src/index.js';

/** This process's OS threads (Linux). */
function threads(): number {
  return readdirSync('/proc/self/task').length;
}

const dir = mkdtempSync(path.join(tmpdir(), 'lockstock-open-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a failing open leaves nothing behind', () => {
  const file = path.join(dir, 'a-file');
  writeFileSync(file, '');
  it.each<[string, InventoryOptions, string]>([
    ['a closed file descriptor', { logger: { destination: 99 } }, 'logger.destination'],
    [
      'a path that cannot be created',
      { logger: { destination: path.join(file, 'under-a-file.log') } },
      'logger.destination',
    ],
    ['an unknown option', { queueSzie: 10 } as InventoryOptions, 'queueSzie'],
    ['a data directory that is a file', { dataDir: file }, 'dataDir'],
    ['a data directory under a file', { dataDir: path.join(file, 'data') }, 'dataDir'],
    [
      'an unknown durability',
      { durability: 'sometimes' } as unknown as InventoryOptions,
      'durability',
    ],
    ['an option of a later version', { replicaOf: dir } as InventoryOptions, 'replicaOf'],
    [
      'an unknown nested option',
      { idempotency: { ttl: 5 } } as InventoryOptions,
      'idempotency.ttl',
    ],
  ])('refuses %s with INVALID_OPTION, starting no thread', async (_, options, name) => {
    const before = threads();
    const handles = process.getActiveResourcesInfo().length;
    for (let i = 0; i < 5; i++) {
      await expect(
        Inventory.open({ workers: 2, ...options, logger: { level: 'silent', ...options.logger } }),
      ).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringContaining(name) });
    }
    expect(threads()).toBe(before);
    expect(process.getActiveResourcesInfo().length).toBe(handles);
  });

  it('a bad option read through a getter rejects naming it', async () => {
    const options = Object.defineProperty({}, 'workers', {
      enumerable: true,
      get: () => {
        throw new Error('boom');
      },
    });
    await expect(Inventory.open(options)).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringContaining('workers could not be read'),
    });
  });
});
