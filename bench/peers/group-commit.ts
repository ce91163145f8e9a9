/**
 * The durable engine a user might write instead of lockstock: the single-thread engine
 * (bench/baseline.ts) with a journal and group commit on the caller's thread. Each
 * call is decided and applied at once, its change encoded into a buffer; once per
 * event-loop turn, everything that arrived is written with one write and one
 * fdatasync, and only then are those callers answered. Every change that arrives
 * while the loop is busy shares the next fsync: group commit, as in lockstock's
 * journal thread, but with the write, the fsync and the CRCs on the one thread that
 * also serves the callers.
 *
 * The journal is lockstock's: the same record format (memory/change-log.ts: offset,
 * delta, after-image, id and key) sealed with the same CRC-32C, after the same
 * segment header (src/journal/files.ts). It is a benchmark peer, not a store: one
 * segment that is never rolled over, no snapshots, no recovery.
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import {
  type ChangeFields,
  type ChangeViews,
  changeArea,
  emptyChange,
  encodeChange,
  MAX_RECORD_BYTES,
  TYPE_UPDATED,
} from '../../memory/change-log.js';
import {
  encodeSegmentHeader,
  FILE_HEADER_BYTES,
  fsyncDir,
  sealRecord,
  segmentName,
} from '../../src/journal/files.js';
import type { Product, ProductInput, UpdateOutcome, UpdateRequest } from '../../src/types.js';
import { SingleThreadInventory } from '../baseline.js';

/** The group buffer: a group that fills it is written at once and a new one begun. */
const GROUP_BYTES = 4 * 1024 * 1024;

export interface GroupCommitOptions {
  products: readonly ProductInput[];
  /** The directory the segment goes in (it must exist). */
  dir: string;
  idempotency?: { ttlMs?: number; maxKeys?: number };
}

export class GroupCommitInventory {
  private readonly engine: SingleThreadInventory;
  private readonly fd: number;
  private readonly area: ChangeViews;
  private readonly view: DataView;
  private readonly change: ChangeFields = emptyChange();
  private readonly utf8 = new TextEncoder();
  /** Bytes of the open group, and the callers it answers once it is on disk. */
  private used = 0;
  private answers: ((failure: unknown) => void)[] = [];
  private scheduled = false;
  /** The last offset journaled: an applied outcome at or below it is a key's replay. */
  private journaled: number;
  /** The last lastUpdated string seen, parsed: a clock reading repeats within a ms. */
  private stamp = '';
  private stampMs = 0;
  private failure: unknown = null;

  constructor(options: GroupCommitOptions) {
    this.engine = new SingleThreadInventory({
      products: options.products,
      ...(options.idempotency === undefined ? {} : { idempotency: options.idempotency }),
    });
    // Each initial product took one offset (bench/baseline.ts); they are not journaled.
    this.journaled = options.products.length;
    this.area = changeArea(GROUP_BYTES + MAX_RECORD_BYTES);
    this.view = new DataView(this.area.buffer);
    this.change.type = TYPE_UPDATED;
    this.change.hasDelta = true;
    this.fd = openSync(path.join(options.dir, segmentName(this.journaled + 1)), 'wx');
    const header = encodeSegmentHeader({ first: this.journaled + 1, createdAt: Date.now() });
    writeSync(this.fd, header, 0, FILE_HEADER_BYTES);
    fdatasyncSync(this.fd);
    fsyncDir(options.dir);
  }

  /** Answers once the change (or, for a replay, the change it repeats) is on disk. */
  update(request: UpdateRequest): Promise<UpdateOutcome> {
    // Read once: the engine decides on the same fields the record is made of.
    const copy: UpdateRequest = {
      productId: request.productId,
      delta: request.delta,
      expectedVersion: request.expectedVersion,
      idempotencyKey: request.idempotencyKey,
    };
    return this.engine.update(copy).then((outcome) => {
      if (outcome.status === 'applied' && outcome.offset > this.journaled) {
        this.append(outcome, copy);
      }
      return this.durable(outcome);
    });
  }

  get(productId: string): Product | undefined {
    return this.engine.get(productId);
  }

  async close(): Promise<void> {
    this.flush();
    closeSync(this.fd);
  }

  /** Encodes an applied update's record into the open group. */
  private append(outcome: Extract<UpdateOutcome, { status: 'applied' }>, request: UpdateRequest) {
    if (this.used + MAX_RECORD_BYTES > GROUP_BYTES) this.flush();
    const c = this.change;
    if (outcome.lastUpdated !== this.stamp) {
      this.stamp = outcome.lastUpdated;
      this.stampMs = Date.parse(outcome.lastUpdated);
    }
    c.offset = outcome.offset;
    c.delta = request.delta;
    c.available = outcome.available;
    c.version = outcome.version;
    c.lastUpdated = this.stampMs;
    c.idLength = this.utf8.encodeInto(outcome.productId, c.idBytes).written;
    c.key = request.idempotencyKey ?? null;
    c.expected = c.key === null ? -1 : (request.expectedVersion ?? -1);
    const length = encodeChange(this.area, this.used, c);
    sealRecord(this.area.u8, this.view, this.used, length);
    this.used += length;
    this.journaled = outcome.offset;
  }

  /** A promise of `outcome` that settles after the open group's fdatasync. */
  private durable(outcome: UpdateOutcome): Promise<UpdateOutcome> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (!this.scheduled) {
      this.scheduled = true;
      // setImmediate runs after the I/O of this turn: every call that arrives in the
      // turn joins the group.
      setImmediate(() => this.commit());
    }
    return new Promise((resolve, reject) =>
      this.answers.push((failure) => (failure === null ? resolve(outcome) : reject(failure))),
    );
  }

  private commit(): void {
    this.scheduled = false;
    this.flush();
  }

  /**
   * One write, one fdatasync, then every caller of the group is answered. A failed
   * write or fsync fails the group's callers and every later call: nothing is
   * answered as durable past it.
   */
  private flush(): void {
    if (this.used > 0 && this.failure === null) {
      try {
        writeSync(this.fd, this.area.u8, 0, this.used);
        fdatasyncSync(this.fd);
      } catch (error) {
        this.failure = error;
      }
      this.used = 0;
    }
    const answers = this.answers;
    this.answers = [];
    for (const answer of answers) answer(this.failure);
  }
}
