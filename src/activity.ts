/**
 * What the engine still has to finish, so that close() can wait for it: bulk calls
 * still feeding rows as the queue makes room, listings in flight, batches in the pool.
 */
import type { Router } from './router.js';

export class Activity {
  /** Bulk calls still feeding rows, and listings in flight. */
  private feeders = 0;
  private lists = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly router: Router) {}

  /**
   * Calls `admit(i)` for i in [0, count); when it reports no room, waits for a batch
   * to complete and carries on from there. `admit` works from copies made at entry and
   * does not throw; if it ever does, `fail(i, error)` answers the rows not admitted,
   * so that no call is left pending and no rejection goes unhandled.
   */
  feed(count: number, admit: (i: number) => boolean, fail: (from: number, e: unknown) => void) {
    this.feeders++;
    this.feedFrom(0, count, admit, fail);
  }

  private feedFrom(
    start: number,
    count: number,
    admit: (i: number) => boolean,
    fail: (from: number, e: unknown) => void,
  ): void {
    let i = start;
    try {
      for (; i < count; i++) {
        if (!admit(i)) {
          this.router.waitForRoom().then(() => this.feedFrom(i, count, admit, fail));
          return;
        }
      }
    } catch (error) {
      fail(i, error);
    }
    this.feeders--;
    this.checkIdle();
  }

  /** Runs a listing, counting it as work close() waits for. */
  async listing<T>(run: () => Promise<T>): Promise<T> {
    this.lists++;
    try {
      return await run();
    } finally {
      this.lists--;
      this.checkIdle();
    }
  }

  /** Resolves once no call is feeding, listing or in the pool; flushes staged rows. */
  idle(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  checkIdle(): void {
    if (this.idleWaiters.length === 0) return;
    if (this.feeders > 0 || this.lists > 0 || this.router.tasksInFlight > 0) return;
    if (this.router.awaitingDurable > 0) return;
    if (this.router.stagedRows > 0) {
      this.router.flush(true);
      return;
    }
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
