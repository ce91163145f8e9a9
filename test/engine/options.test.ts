import { describe, expect, it } from 'vitest';
import { Inventory, type InventoryOptions } from '../../src/index.js';
import { resolveOptions } from '../../src/options.js';

describe('options', () => {
  it('runs with defaults', () => {
    const o = resolveOptions({}, {});
    expect(o).toMatchObject({
      queueSize: 65_536,
      capacity: 65_536,
      lockMode: 'fine',
      lockTimeoutMs: 10_000,
    });
    expect(o.workers).toBeGreaterThanOrEqual(1);
    expect(o.idempotency).toEqual({ ttlMs: 120_000, maxKeys: 1_000_000 });
  });

  it('reads the environment, and options win over it', () => {
    const env = {
      INVENTORY_WORKER_COUNT: '3',
      INVENTORY_QUEUE_BUFFER_SIZE: '500',
      INVENTORY_LOCK_MODE: 'global',
    };
    expect(resolveOptions({}, env)).toMatchObject({
      workers: 3,
      queueSize: 500,
      lockMode: 'global',
    });
    expect(resolveOptions({ workers: 1, lockMode: 'fine' }, env)).toMatchObject({
      workers: 1,
      lockMode: 'fine',
    });
  });

  it.each([
    ['INVENTORY_WORKER_COUNT', 'abc'],
    ['INVENTORY_WORKER_COUNT', '0'],
    ['INVENTORY_QUEUE_BUFFER_SIZE', '-5'],
    ['INVENTORY_CAPACITY', '1.5'],
    ['INVENTORY_WORKER_COUNT', '0x2'],
    ['INVENTORY_WORKER_COUNT', '1e0'],
    ['INVENTORY_WORKER_COUNT', ' 2'],
    ['INVENTORY_LOCK_MODE', 'coarse'],
    ['INVENTORY_LOG_LEVEL', 'loud'],
  ])('names an invalid %s=%s', (name, value) => {
    expect(() => resolveOptions({}, { [name]: value })).toThrow(
      expect.objectContaining({ code: 'INVALID_ENV', message: expect.stringContaining(name) }),
    );
  });

  it.each<[string, InventoryOptions]>([
    ['workers', { workers: 0 }],
    ['workers', { workers: 2.5 }],
    ['queueSize', { queueSize: -1 }],
    ['capacity', { capacity: 0 }],
    ['lockMode', { lockMode: 'coarse' as 'fine' }],
    [
      'products',
      {
        capacity: 1,
        products: [
          { productId: 'a', available: 1 },
          { productId: 'b', available: 1 },
        ],
      },
    ],
    ['idempotency.ttlMs', { idempotency: { ttlMs: 0 } }],
    ['simulate.holdUs', { simulate: { holdUs: -1 } }],
    ['lockTimeoutMs', { lockTimeoutMs: 0 }],
    ['logger.level', { logger: { level: 'loud' as 'info' } }],
  ])('names an invalid %s', (name, options) => {
    expect(() => resolveOptions(options, {})).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringContaining(name) }),
    );
  });

  it('refuses an invalid initial catalog at open, naming the product', async () => {
    await expect(
      Inventory.open({
        logger: { level: 'silent' },
        products: [{ productId: 'a', available: 1.5 }],
      }),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringContaining('products[0].available'),
    });
    await expect(
      Inventory.open({
        logger: { level: 'silent' },
        products: [
          { productId: 'a', available: 1 },
          { productId: 'a', available: 1 },
        ],
      }),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringContaining('products[1].productId'),
    });
  });
});
