import { describe, expect, it } from 'vitest';
import {
  decimal,
  durationOption,
  limitFlag,
  numberOption,
  UsageError,
} from '../../src/cli/args.js';
import { LOAD_OPTIONS, loadConfig, MAX_OPS } from '../../src/cli/load-command.js';
import { LIMITS } from '../../src/options.js';

describe('numeric flags', () => {
  it('read plain decimal only: no exponent, hex, sign, spaces, Infinity or NaN', () => {
    expect(decimal('42', true)).toBe(42);
    expect(decimal('007', true)).toBe(7);
    expect(decimal('0.25')).toBe(0.25);
    expect(decimal('.5')).toBe(0.5);
    expect(decimal('-3', true)).toBe(-3);
    for (const text of [
      '1e3',
      '0x10',
      '0b1',
      '0o7',
      '+1',
      ' 1',
      '1 ',
      '',
      'Infinity',
      'NaN',
      '1.',
      '1_000',
    ]) {
      expect(decimal(text), text).toBeNull();
    }
    expect(decimal('2.5', true)).toBeNull();
    // Sixteen digits at most: never Infinity, never past what a bound could take.
    expect(decimal(`1${'0'.repeat(15)}`, true)).toBe(1e15);
    expect(decimal('9'.repeat(17), true)).toBeNull();
  });

  it('read -0 as 0', () => {
    expect(Object.is(decimal('-0', true), 0)).toBe(true);
    expect(Object.is(decimal('-0.0'), 0)).toBe(true);
    const spec = LOAD_OPTIONS['work-us'];
    expect(spec).toBeDefined();
    if (spec !== undefined)
      expect(Object.is(numberOption('load', 'work-us', '-0', spec), 0)).toBe(true);
  });

  it('take the engine option bounds from the table of limits', () => {
    const flags: [string, keyof typeof LIMITS][] = [
      ['workers', 'workers'],
      ['products', 'capacity'],
      ['queue-size', 'queueSize'],
      ['work-us', 'simulate.workUs'],
      ['hold-us', 'simulate.holdUs'],
    ];
    for (const [flag, limit] of flags) {
      const { min, max, integer } = LIMITS[limit];
      expect(LOAD_OPTIONS[flag]?.range, flag).toEqual({ min, max, integer });
      const spec = LOAD_OPTIONS[flag];
      if (spec === undefined) continue;
      expect(numberOption('load', flag, String(max), spec)).toBe(max);
      expect(() => numberOption('load', flag, String(max + 1), spec)).toThrow(UsageError);
      expect(() => numberOption('load', flag, String(min - 1), spec)).toThrow(UsageError);
    }
    expect(limitFlag(LIMITS.queueSize, { help: 'q' }).default).toBe(LIMITS.queueSize.default);
  });

  it('bound --ops, pointing to --duration for more work', () => {
    expect(loadConfig(['--ops', String(MAX_OPS)]).config.ops).toBe(MAX_OPS);
    expect(() => loadConfig(['--ops', String(MAX_OPS + 1)])).toThrow(/use --duration/);
    expect(() => loadConfig(['--ops', '1e12'])).toThrow(/--ops must be a whole number/);
  });

  it('read durations from 1 ms to a day, in decimal', () => {
    expect(durationOption('load', 'duration', '1s')).toBe(1000);
    expect(durationOption('load', 'duration', '30')).toBe(30_000);
    expect(durationOption('load', 'duration', '1.5m')).toBe(90_000);
    expect(durationOption('load', 'duration', '24h')).toBe(86_400_000);
    expect(durationOption('load', 'duration', '1ms')).toBe(1);
    for (const text of ['0', '0.5ms', '24.1h', '1e3', '0x10s', ' 1s', '1d', 'Infinitys', '-1s']) {
      expect(() => durationOption('load', 'duration', text), text).toThrow(UsageError);
    }
  });

  it('passes a timed run and a counted run through to the config', () => {
    const timed = loadConfig(['--duration', '250ms', '--mode', 'global']);
    expect(timed.config).toMatchObject({ durationMs: 250, ops: null });
    expect(timed.modes).toEqual(['global']);
    const counted = loadConfig(['--ops', '10']);
    expect(counted.config).toMatchObject({ durationMs: null, ops: 10, queueSize: null });
    expect(counted.modes).toEqual(['fine', 'global']);
  });
});
