import { describe, expect, it } from 'vitest';
import { table } from '../../src/cli/table.js';

describe('table', () => {
  it('aligns labels left and figures right by default, three spaces apart', () => {
    const text = table([
      ['', 'fine', 'global'],
      ['operations', 1234, 5],
      ['elapsed (s)', '1.00', '12.50'],
    ]);
    expect(text.split('\n')).toEqual([
      '              fine   global',
      'operations    1234        5',
      'elapsed (s)   1.00    12.50',
    ]);
  });

  it('takes alignment per column, the last for the rest, with an indent and a gap', () => {
    const text = table(
      [
        ['threads', 'ops/s', 'note'],
        [1, '10', 'a'],
        [16, '2000', 'longer'],
      ],
      { align: ['right', 'right', 'left'], indent: 2, gap: 1 },
    );
    expect(text.split('\n')).toEqual([
      '  threads ops/s note',
      '        1    10 a',
      '       16  2000 longer',
    ]);
  });

  it('pads short rows and leaves no trailing spaces', () => {
    const text = table([['a', 'b', 'c'], ['long label']], { align: ['left'] });
    for (const line of text.split('\n')) expect(line).toBe(line.trimEnd());
    expect(text).toBe('a            b   c\nlong label');
  });
});
