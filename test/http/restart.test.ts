/**
 * SIGTERM, then `lockstock serve` again on the same data directory: the state is
 * intact.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { product, request, spawnServe } from './serve.js';

describe('a restart on the same data directory', () => {
  it('keeps every acknowledged change', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lockstock-restart-'));
    try {
      const first = await spawnServe(['--data-dir', dir]);
      await request(first.url, 'POST', '/v1/admin/products/create', {
        body: { products: [product('R1', 20), product('R2', 20)] },
      });
      const updates = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          request(first.url, 'POST', '/v1/inventory/updates', {
            body: { productId: i % 2 === 0 ? 'R1' : 'R2', delta: -1 },
          }),
        ),
      );
      expect(updates.every((r) => r.status === 200)).toBe(true);
      const keyed = { productId: 'R1', delta: -2, idempotencyKey: 'restart-1' };
      const first1 = await request(first.url, 'POST', '/v1/inventory/updates', { body: keyed });
      expect(first1.status).toBe(200);
      const before = await request(first.url, 'GET', '/v1/inventory?limit=10');
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);

      const second = await spawnServe(['--data-dir', dir]);
      const after = await request(second.url, 'GET', '/v1/inventory?limit=10');
      expect(after.body.items).toEqual(before.body.items);
      // The key came back with the state: its replay answers the same, marked a replay.
      const replay = await request(second.url, 'POST', '/v1/inventory/updates', { body: keyed });
      expect(replay.body).toEqual(first1.body);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
