/**
 * The benchmark knobs, run inside a product's critical section.
 *
 * - `workUs` spins the CPU: computation done while holding the lock. It scales with
 *   threads only up to the number of cores.
 * - `holdUs` blocks the thread without using the CPU (Atomics.wait with a timeout):
 *   the shape of I/O done while holding the lock. It scales past the core count,
 *   as long as different threads wait on different products.
 */
import { performance } from 'node:perf_hooks';

const sleepCell = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));

export function spin(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) {
    // Busy on purpose: this is the simulated computation.
  }
}

export function hold(us: number): void {
  // Nobody ever notifies this cell: the wait always runs to its timeout.
  Atomics.wait(sleepCell, 0, 0, us / 1000);
}

/** Returns the simulation to run per critical section, or null when there is none. */
export function simulation(workUs: number, holdUs: number): (() => void) | null {
  if (workUs > 0 && holdUs > 0) {
    return () => {
      spin(workUs);
      hold(holdUs);
    };
  }
  if (workUs > 0) return () => spin(workUs);
  if (holdUs > 0) return () => hold(holdUs);
  return null;
}
