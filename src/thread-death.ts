/**
 * When a pool thread dies: freeing what it held, the way robust mutexes do
 * (pthread_mutex_consistent after EOWNERDEAD), so that its products are usable again
 * at once instead of after lockTimeoutMs.
 *
 * Each pool thread owns a ring of the change log, and writes its place in the commit
 * protocol into the ring's control line (workers/recorder.ts); each product lock it
 * takes carries its threadId (SLOT_OWNER). Piscina replaces a dead thread; the
 * caller's thread, told that a task failed, looks for rings whose owner is no longer
 * one of the pool's threads, and for each:
 *
 * 1. offsets taken and not committed (STAGE_TAKEN, its TAIL where it was then) become
 *    `aborted` changes in its ring, so that the feed stays gap-free and the journal
 *    does not wait for them;
 * 2. records committed and perhaps not published (STAGE_TAKEN, TAIL moved on) are
 *    published again from the ring (roll forward: the journal has the change, so the
 *    slot must too);
 * 3. every slot it held is repaired (a latch left mid-publish: the intact copy wins,
 *    then step 2 applies) and unlocked;
 * 4. the global lock it held (IX or X) is released, and the ring is freed for a new thread.
 *
 * Rows whose change was rolled forward are answered `applied` (their result columns
 * were written before the commit); rows it never reached fail with WORKER_FAILED.
 */
import type { Logger } from 'pino';
import {
  C_GENERATION,
  C_SLOT,
  type ChangeViews,
  decodeChange,
  emptyChange,
  FLAG_NAME,
  FLAG_PRICE,
  GLOBAL_IX,
  GLOBAL_NONE,
  GLOBAL_X,
  isPad,
  R_COMMIT_START,
  R_GLOBAL,
  R_LOW,
  R_OWNER,
  R_PENDING_COUNT,
  R_PENDING_FIRST,
  R_STAGE,
  R_TAIL,
  RingWriter,
  ringControl,
  ringStart,
  STAGE_NONE,
  STAGE_TAKEN,
  TYPE_ABORTED,
  TYPE_DELETED,
} from '../memory/change-log.js';
import { globalUnlock } from '../memory/global-lock.js';
import {
  HDR_GLOBAL_LOCK,
  type SharedViews,
  SLOT_LOCK,
  SLOT_OWNER,
  STATE_FREE,
  STATE_LIVE,
  slotBase,
} from '../memory/layout.js';
import {
  emptyRecord,
  encodeName,
  nameScratch,
  publishRecord,
  readRecord,
  repairLatch,
} from '../memory/records.js';
import { writeUnlock } from '../memory/rwlock.js';

/** What one repair did, for the log and the tests. */
export interface Repair {
  readonly threadId: number;
  readonly aborted: number;
  readonly rolledForward: number;
  readonly unlocked: number;
  readonly latchesRepaired: number;
  readonly global: 'none' | 'IX' | 'X';
}

export class ThreadDeaths {
  /** Offsets of changes rolled forward whose rows have not been answered yet. */
  private readonly rolled = new Set<number>();
  /** Dead threads repaired since open. */
  deaths = 0;

  constructor(
    private readonly v: SharedViews,
    private readonly cv: ChangeViews,
    private readonly lockTimeoutMs: number,
    private readonly log: Logger,
  ) {}

  /** Whether the change at `offset` was rolled forward (and forgets it). */
  rolledForward(offset: number): boolean {
    return this.rolled.delete(offset);
  }

  /** Repairs after every ring whose owner is not among `alive` threadIds. */
  repair(alive: ReadonlySet<number>): Repair[] {
    const done: Repair[] = [];
    const i32 = this.cv.i32;
    for (let ring = 0; ring < this.cv.rings; ring++) {
      const owner = Atomics.load(i32, ringControl(ring) + R_OWNER);
      if (owner === 0 || alive.has(owner)) continue;
      const r = this.repairRing(ring, owner);
      done.push(r);
      this.deaths++;
      this.log.warn({ ...r }, 'lockstock pool thread died; what it held was repaired and freed');
    }
    return done;
  }

  private repairRing(ring: number, owner: number): Repair {
    const i32 = this.cv.i32;
    const control = ringControl(ring);
    const stage = Atomics.load(i32, control + R_STAGE);
    let aborted = 0;
    let rolledForward = 0;
    if (stage === STAGE_TAKEN) {
      // Committed if the commit moved TAIL on from where it was when the offsets were
      // taken (units, modulo 2^32; never by more than the ring holds).
      const moved =
        (Atomics.load(i32, control + R_TAIL) - (i32[control + R_COMMIT_START] as number)) >>> 0;
      if (moved !== 0 && moved <= this.cv.ringBytes / 8) rolledForward = this.rollForward(ring);
      else aborted = this.abort(ring);
    }
    let unlocked = 0;
    let latchesRepaired = 0;
    for (let slot = 0; slot < this.v.capacity; slot++) {
      const base = slotBase(slot);
      if (Atomics.load(this.v.i32, base + SLOT_OWNER) !== owner) continue;
      if (repairLatch(this.v, slot)) latchesRepaired++;
      Atomics.store(this.v.i32, base + SLOT_OWNER, 0);
      writeUnlock(this.v, base + SLOT_LOCK);
      unlocked++;
    }
    const held = Atomics.load(i32, control + R_GLOBAL);
    if (held === GLOBAL_IX) globalUnlock(this.v, HDR_GLOBAL_LOCK, 'IX');
    else if (held === GLOBAL_X) globalUnlock(this.v, HDR_GLOBAL_LOCK, 'X');
    Atomics.store(i32, control + R_GLOBAL, GLOBAL_NONE);
    Atomics.store(i32, control + R_STAGE, STAGE_NONE);
    Atomics.store(this.cv.i64, (control + R_LOW) >> 1, 0n);
    // Free for a new thread: it appends after what the dead one committed.
    Atomics.store(i32, control + R_OWNER, 0);
    return {
      threadId: owner,
      aborted,
      rolledForward,
      unlocked,
      latchesRepaired,
      global: held === GLOBAL_IX ? 'IX' : held === GLOBAL_X ? 'X' : 'none',
    };
  }

  /** Writes an `aborted` change for every offset the dead thread took and did not commit. */
  private abort(ring: number): number {
    const control = ringControl(ring);
    const first = this.cv.f64[(control + R_PENDING_FIRST) >> 1] as number;
    const count = this.cv.i32[control + R_PENDING_COUNT] as number;
    const writer = new RingWriter(this.cv, ring, this.lockTimeoutMs);
    const c = emptyChange();
    c.type = TYPE_ABORTED;
    c.lastUpdated = Date.now();
    for (let i = 0; i < count; i++) {
      c.offset = first + i;
      writer.write(c);
    }
    writer.commit();
    return count;
  }

  /** Publishes again every record of the dead thread's last commit. */
  private rollForward(ring: number): number {
    const cv = this.cv;
    const control = ringControl(ring);
    const mask = cv.ringBytes / 8 - 1;
    const start = ringStart(cv.rings, cv.ringBytes, ring);
    const tail = Atomics.load(cv.i32, control + R_TAIL);
    let unit = cv.i32[control + R_COMMIT_START] as number;
    let count = 0;
    const record = emptyRecord();
    const name = nameScratch();
    while (unit !== tail) {
      const at = start + (unit & mask) * 8;
      const length = cv.i32[at >> 2] as number;
      if (!isPad(cv, at, length)) {
        const change = decodeChange(cv.u8, at);
        const slot = cv.i32[(at + C_SLOT) >> 2] as number;
        const generation = cv.i32[(at + C_GENERATION) >> 2] as number;
        repairLatch(this.v, slot);
        readRecord(this.v, slot, record, name);
        const renamed = (change.flags & FLAG_NAME) !== 0;
        record.state = change.type === TYPE_DELETED ? STATE_FREE : STATE_LIVE;
        record.generation = generation;
        record.version = change.version;
        record.available = change.available;
        record.lastUpdated = change.lastUpdated;
        if ((change.flags & FLAG_PRICE) !== 0) record.price = change.price;
        if (renamed) record.nameRev += 1;
        publishRecord(this.v, slot, record, renamed ? encodeName(change.name, name) : undefined);
        this.rolled.add(change.offset);
        count++;
      }
      unit = (unit + (length >> 3)) >>> 0;
    }
    return count;
  }
}
