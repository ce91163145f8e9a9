/**
 * The caller's side of the change log: answering calls only once their changes are
 * durable, and waking readers of the change feed when new changes arrive.
 *
 * The journal thread publishes the durable offset in shared memory (CL_DURABLE) and
 * posts one message when it moves and the caller's thread has seen the last one
 * (CL_NOTIFY): at most one such message is ever in flight, however fast commits go.
 * Dispatches wait here in the order they finished, each for the offset counter as it
 * stood then (every change a dispatch made is at or below it), so the queue is in
 * offset order and is answered from its front.
 */
import { type ChangeViews, durableOffset } from '../memory/change-log.js';
import { counter64, HDR_OFFSET, type SharedViews } from '../memory/layout.js';

/** What the gate needs of the journal thread's link (journal/client.ts). */
export interface DurableLink {
  /** Calls `listener` on each of the journal thread's wake-up messages. */
  onDurable(listener: () => void): void;
  /** Calls `listener` if the journal thread fails. */
  onFailure(listener: (error: Error) => void): void;
  /** Keeps the process alive while something waits for the journal. */
  ref(): void;
  unref(): void;
}

interface Waiter {
  readonly after: number;
  readonly wake: () => void;
  timer: NodeJS.Timeout | null;
}

export class DurableGate {
  /** Answers waiting for the durable offset to reach `offsets[i]`, oldest first. */
  private readonly offsets: number[] = [];
  private readonly answers: ((error: Error | null) => void)[] = [];
  /** Why changes can no longer be made durable (the journal thread failed), or null. */
  private failure: Error | null = null;
  private head = 0;
  private readers: Waiter[] = [];
  private held = false;

  constructor(
    private readonly views: SharedViews,
    private readonly cv: ChangeViews,
    private readonly link: DurableLink,
    /** Whether calls wait for the journal (a data directory) or only readers do. */
    private readonly gated: boolean,
  ) {
    link.onDurable(() => this.moved());
    link.onFailure((error) => this.fail(error));
  }

  get durable(): number {
    return durableOffset(this.cv);
  }

  /** The last offset any thread has taken. */
  get taken(): number {
    return Number(Atomics.load(this.views.i64, counter64(HDR_OFFSET)));
  }

  /**
   * Runs `answer(null)` once every change taken so far is durable, or `answer(error)`
   * if the journal fails first.
   */
  whenDurable(answer: (error: Error | null) => void): void {
    if (this.gated) this.wait(this.taken, answer);
    else answer(null);
  }

  /** Resolves once every change up to `offset` is durable. */
  durableAt(offset: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.wait(offset, (error) => (error === null ? resolve() : reject(error))),
    );
  }

  /** Answers at once when `offset` is durable or the journal failed, else once it is. */
  private wait(offset: number, answer: (error: Error | null) => void): void {
    if (offset <= this.durable) answer(null);
    else if (this.failure !== null) answer(this.failure);
    else {
      this.offsets.push(offset);
      this.answers.push(answer);
      this.hold();
    }
  }

  /**
   * The journal failed: nothing more becomes durable. Everything waiting is answered
   * with `error`, and so is everything that would wait from now on.
   */
  fail(error: Error): void {
    if (this.failure !== null) return;
    this.failure = error;
    const answers = this.answers.slice(this.head);
    this.offsets.length = 0;
    this.answers.length = 0;
    this.head = 0;
    for (const answer of answers) answer(error);
    this.wakeReaders();
  }

  /** Resolves once a change after `after` is durable, or after `ms`. */
  waitForChange(after: number, ms: number): Promise<void> {
    if (this.durable > after) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter: Waiter = { after, wake: resolve, timer: null };
      waiter.timer = setTimeout(() => {
        this.readers = this.readers.filter((w) => w !== waiter);
        this.release();
        resolve();
      }, ms);
      this.readers.push(waiter);
      this.hold();
    });
  }

  /** Wakes every reader now (closing): long polls return what they have. */
  wakeReaders(): void {
    const readers = this.readers;
    this.readers = [];
    for (const w of readers) {
      if (w.timer !== null) clearTimeout(w.timer);
      w.wake();
    }
    this.release();
  }

  /** The durable offset moved (the link has cleared CL_NOTIFY before telling us). */
  private moved(): void {
    const durable = this.durable;
    while (this.head < this.offsets.length && (this.offsets[this.head] as number) <= durable) {
      const answer = this.answers[this.head] as (error: Error | null) => void;
      this.head++;
      answer(null);
    }
    if (this.head === this.offsets.length) {
      this.offsets.length = 0;
      this.answers.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.offsets.length) {
      this.offsets.splice(0, this.head);
      this.answers.splice(0, this.head);
      this.head = 0;
    }
    if (this.readers.length > 0) {
      const still: Waiter[] = [];
      for (const w of this.readers) {
        if (w.after < durable) {
          if (w.timer !== null) clearTimeout(w.timer);
          w.wake();
        } else still.push(w);
      }
      this.readers = still;
    }
    this.release();
  }

  private get waiting(): boolean {
    return this.head < this.offsets.length || this.readers.length > 0;
  }

  private hold(): void {
    if (this.held) return;
    this.held = true;
    this.link.ref();
  }

  private release(): void {
    if (!this.held || this.waiting) return;
    this.held = false;
    this.link.unref();
  }
}
