import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lockstock } from './run.js';

const bad: [string, string[], RegExp][] = [
  ['an unknown flag', ['load', '--bogus'], /unknown option '--bogus'/],
  ['a non-number', ['load', '--workers', 'abc'], /--workers must be a whole number.*got 'abc'/],
  ['a fractional count', ['load', '--products', '2.5'], /--products must be a whole number/],
  ['a negative count', ['load', '--ops', '-5'], /--ops must be from 1 to 100000000, got '-5'/],
  [
    'a count in exponent notation',
    ['load', '--ops', '1e12'],
    /--ops must be a whole number in decimal digits, got '1e12' \(for more work, use --duration\)/,
  ],
  [
    'more operations than a count run takes',
    ['load', '--ops', '1000000000'],
    /--ops must be from 1 to 100000000, got '1000000000' \(for more work, use --duration\)/,
  ],
  ['a hexadecimal count', ['load', '--workers', '0x4'], /--workers must be a whole number/],
  ['Infinity', ['load', '--concurrency', 'Infinity'], /--concurrency must be a whole number/],
  ['NaN', ['load', '--replay', 'NaN'], /--replay must be a decimal number, got 'NaN'/],
  ['a hexadecimal fraction', ['load', '--replay', '0x1'], /--replay must be a decimal number/],
  ['an exponent in µs', ['load', '--hold-us', '1e3'], /--hold-us must be a decimal number/],
  ['a padded number', ['load', '--seed', ' 7'], /--seed must be a whole number/],
  [
    'more workers than the engine takes',
    ['load', '--workers', '257'],
    /--workers must be from 1 to 256, got '257'/,
  ],
  [
    "a hold beyond the engine's bound",
    ['load', '--hold-us', '1000001'],
    /--hold-us must be from 0 to 1000000/,
  ],
  [
    "a queue beyond the engine's bound",
    ['load', '--queue-size', '2000000000'],
    /--queue-size must be from 1 to 1073741824/,
  ],
  [
    'more products than an engine holds',
    ['load', '--products', '3000000'],
    /--products must be from 1 to 2000000/,
  ],
  [
    'orders that cannot fit the queue',
    ['load', '--order-size', '8', '--queue-size', '8'],
    /--order-size must be less than --queue-size \(8\)/,
  ],
  ['a negative count, with =', ['load', '--concurrency=-1'], /--concurrency must be from 1/],
  [
    'an unknown mode',
    ['load', '--mode', 'coarse'],
    /--mode must be one of fine, global, both, got 'coarse'/,
  ],
  ['a bad skew', ['load', '--skew', 'zipf:x'], /--skew must be uniform, zipf:<theta>/],
  ['a bad mix', ['load', '--mix', 'update=many'], /--mix must be kind=weight pairs/],
  ['a replay share above 1', ['load', '--replay', '2'], /--replay must be from 0 to 1, got '2'/],
  ['a bad duration', ['load', '--duration', 'soon'], /--duration must be a duration from 1ms/],
  [
    'a duration of 400 digits',
    ['load', '--duration', `1${'0'.repeat(400)}`],
    /--duration must be a duration from 1ms to 24h/,
  ],
  ['a duration over a day', ['load', '--duration', '25h'], /--duration must be a duration/],
  ['a duration in exponent notation', ['load', '--duration', '1e3s'], /--duration must be/],
  [
    'weights whose total is Infinity',
    ['load', '--mix', 'update=1e308,read=1e308'],
    /--mix must be kind=weight pairs .*from 0 to 1000000, got/,
  ],
  [
    'a weight past the bound',
    ['load', '--mix', 'update=2000000,read=1'],
    /--mix must be kind=weight pairs .*from 0 to 1000000, got/,
  ],
  ['a kind weighed twice', ['load', '--mix', 'update=90,update=5'], /--mix names update twice/],
  ['a hot skew without its share', ['load', '--skew', 'hot:'], /--skew must be uniform/],
  ['a hexadecimal theta', ['load', '--skew', 'zipf:0x1'], /--skew must be uniform/],
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
  ['a bench time in exponent notation', ['bench', '--time', '1e3'], /--time must be a whole/],
  ["a thread count past the engine's bound", ['bench', '--threads', '1,512'], /'512'/],
  ['an empty output directory', ['bench', '--out='], /--out must name a directory/],
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
        '[1–256] (default: 4)',
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

  it('answers --help beside a bad value, since that is when one asks', async () => {
    const run = await lockstock(['load', '--workers', 'abc', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: lockstock load/);
  });
});
