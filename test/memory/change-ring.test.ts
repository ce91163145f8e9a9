import { describe, expect, it } from 'vitest';
import {
  C_HEADER_BYTES,
  createChangeBuffer,
  decodeChange,
  emptyChange,
  isPad,
  R_HEAD,
  R_TAIL,
  RingWriter,
  ringControl,
  ringStart,
  TYPE_UPDATED,
} from '../../memory/change-log.js';

/** The producer's side of a ring, with this test as its consumer. */
describe('a change ring', () => {
  it('pads to its end without writing a byte past it', () => {
    const ringBytes = 65_536;
    const cv = createChangeBuffer(2, ringBytes);
    const ring = RingWriter.claim(cv, 7, 100) as RingWriter;
    const c = emptyChange();
    c.type = TYPE_UPDATED;
    // 80 + 24 bytes: 65536 mod 104 = 16, so the last record before the end leaves a
    // 16-byte pad, shorter than a record header.
    c.idBytes = new TextEncoder().encode('X'.repeat(24));
    c.idLength = 24;
    const control = ringControl(0);
    for (let offset = 1; offset <= 700; offset++) {
      c.offset = offset;
      ring.write(c);
      ring.commit();
      // Consume at once: the ring never fills.
      Atomics.store(cv.i32, control + R_HEAD, Atomics.load(cv.i32, control + R_TAIL));
    }
    const next = ringStart(2, ringBytes, 1);
    expect(cv.u8.subarray(next, next + 2 * C_HEADER_BYTES).every((b) => b === 0)).toBe(true);
    // The pad at the end reads as one, by its length.
    const padAt = ringStart(2, ringBytes, 0) + 630 * 104;
    expect(isPad(cv, padAt, cv.i32[padAt >> 2] as number)).toBe(true);
    expect(cv.i32[padAt >> 2]).toBe(16);
    // And the record after it starts the ring again, whole.
    const first = decodeChange(cv.u8, ringStart(2, ringBytes, 0));
    expect(first.offset).toBe(631);
    expect(first.productId).toBe('X'.repeat(24));
  });
});
