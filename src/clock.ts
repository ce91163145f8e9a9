/**
 * ISO-8601 strings for change times. `new Date(ms).toISOString()` costs more than the
 * whole rest of building an outcome, and the changes of one batch mostly share a few
 * milliseconds, so a small direct-mapped cache answers nearly every call.
 */
const SIZE = 16;
const keys = new Float64Array(SIZE).fill(Number.NaN);
const values = new Array<string>(SIZE).fill('');

export function isoTime(ms: number): string {
  const i = ms & (SIZE - 1);
  if (keys[i] === ms) return values[i] as string;
  const iso = new Date(ms).toISOString();
  keys[i] = ms;
  values[i] = iso;
  return iso;
}
