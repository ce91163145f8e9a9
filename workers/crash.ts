/**
 * The test hook `simulate.crash` (documented as a test hook, never for production):
 * the pool thread that takes the `after`-th product write lock since open exits its
 * thread while holding it — at once (`locked`), or halfway through publishing the
 * record (`publishing`: the latch's first copy half rewritten, its sequence odd).
 * Tests use it to prove that the caller's thread repairs and frees what a dead thread
 * held (src/thread-death.ts).
 */
import {
  COPY_WORDS,
  HDR_LOCKS_TAKEN,
  type SharedViews,
  SLOT_COPY_0,
  SLOT_LATCH_SEQ,
  slotBase,
} from '../memory/layout.js';

export interface CrashSettings {
  readonly after: number;
  readonly at: 'locked' | 'publishing';
}

/** Exit code of a thread that died on purpose. */
const CRASH_EXIT_CODE = 70;

export class CrashHook {
  private armed = false;

  constructor(
    private readonly v: SharedViews,
    private readonly settings: CrashSettings,
  ) {}

  /** `count` product write locks were just taken by this thread. */
  locked(count: number): void {
    const before = Atomics.add(this.v.i32, HDR_LOCKS_TAKEN, count);
    const n = this.settings.after;
    if (before >= n || before + count < n) return;
    if (this.settings.at === 'locked') die();
    this.armed = true;
  }

  /** About to publish `slot`'s record: the armed thread dies halfway through. */
  publishing(slot: number): void {
    if (!this.armed) return;
    const i32 = this.v.i32;
    const base = slotBase(slot);
    Atomics.add(i32, base + SLOT_LATCH_SEQ, 1);
    // Half of copy 0 overwritten with garbage, as a publish cut short would leave it.
    for (let w = 0; w < COPY_WORDS / 2; w++) Atomics.store(i32, base + SLOT_COPY_0 + w, -1);
    die();
  }
}

function die(): never {
  process.exit(CRASH_EXIT_CODE);
}
