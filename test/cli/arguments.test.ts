import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lockstock } from './run.js';

const bad: [string, string[], RegExp][] = [
  ['an unknown flag', ['load', '--bogus'], /unknown option '--bogus'/],
  ['a non-number', ['load', '--workers', 'abc'], /--workers must be a number, got 'abc'/],
  ['a fractional count', ['load', '--products', '2.5'], /--products must be a whole number/],
  ['a negative count', ['load', '--ops', '-5'], /--ops must be at least 1, got '-5'/],
  ['a negative count, with =', ['load', '--concurrency=-1'], /--concurrency must be from 1/],
  [
    'an unknown mode',
    ['load', '--mode', 'coarse'],
    /--mode must be one of fine, global, both, got 'coarse'/,
  ],
  ['a bad skew', ['load', '--skew', 'zipf:x'], /--skew must be uniform, zipf:<theta>/],
  ['a bad mix', ['load', '--mix', 'update=many'], /--mix must be kind=weight pairs/],
  ['a replay share above 1', ['load', '--replay', '2'], /--replay must be from 0 to 1, got '2'/],
  ['a bad duration', ['load', '--duration', 'soon'], /--duration must be a positive duration/],
  [
    'ops and duration together',
    ['load', '--ops', '10', '--duration', '1s'],
    /--ops and --duration cannot be used together/,
  ],
  ['a missing value', ['load', '--workers'], /'--workers <value>' argument missing/],
  ['a stray argument', ['load', 'now'], /unexpected argument 'now'/],
  ['a bad thread list', ['bench', '--threads', '0,2'], /--threads has an invalid item '0'/],
  [
    'an unknown scenario',
    ['bench', '--scenarios', 'io,nine'],
    /--scenarios has an invalid item 'nine'/,
  ],
  [
    'an unknown lock mode',
    ['bench', '--modes', 'fine,coarse'],
    /--modes has an invalid item 'coarse'/,
  ],
  ['a bench run count of 0', ['bench', '--runs', '0'], /--runs must be from 1 to 50/],
  ['an unknown command', ['serve-all'], /unknown command 'serve-all'/],
];

describe('command line', () => {
  it.each(bad)('exits 2 on %s, naming it in one line', async (_, args, message) => {
    const run = await lockstock(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('prints its version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    const run = await lockstock(['--version']);
    expect(run).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it.each([
    ['lockstock', [], ['load', 'bench']],
    [
      'load',
      ['load', '--help'],
      [
        '--workers',
        '--mode',
        '--skew',
        '--mix',
        '--occ',
        '--replay',
        '--hold-us',
        '--seed',
        '--json',
        '(default: 4)',
      ],
    ],
    [
      'bench',
      ['bench', '--help'],
      ['--threads', '--modes', '--scenarios', '--quick', '--json', '(default: 1,2,4,8)'],
    ],
  ])('documents every option of %s in --help', async (_, args, words) => {
    const run = await lockstock(args);
    expect(run.code).toBe(0);
    for (const word of words) expect(run.stdout).toContain(word);
  });
});
