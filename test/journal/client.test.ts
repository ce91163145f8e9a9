import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createChangeBuffer } from '../../memory/change-log.js';
import { createBuffer } from '../../memory/layout.js';
import { startJournal } from '../../src/journal/client.js';
import { buffers, journal, tempDir } from './setup.js';

describe('the journal client', () => {
  it('rejects a start whose thread cannot open its files, with the reason', async () => {
    const file = path.join(tempDir(), 'not-a-directory');
    writeFileSync(file, '');
    const start = startJournal({
      changeBuffer: createChangeBuffer(2, 65_536).buffer,
      productBuffer: createBuffer(1).buffer,
      nextOffset: 1,
      dataDir: file,
      logLevel: 'silent',
    });
    await expect(start).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('refuses calls once closed, and close writes the closing snapshot', async () => {
    const dir = tempDir();
    const client = await journal(buffers(8), { dataDir: dir });
    await client.close();
    expect(readdirSync(dir).filter((f) => f.endsWith('.lss'))).toEqual([
      'snapshot-0000000000000000.lss',
    ]);
    await expect(client.flush()).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(client.stats()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
