/**
 * The change feed, checkpoints and whole-catalog snapshots: what the journal thread
 * keeps, as the caller sees it.
 *
 * The feed shows only durable changes (in memory: those copied into its window), so
 * a reader never sees a change that a crash could take back. Long polls wait on the
 * durable offset's wake-ups (durable.ts), not on timers.
 */

import type { DurableGate } from './durable.js';
import { InventoryError } from './errors.js';
import type { JournalClient } from './journal/client.js';
import type { Reads } from './reads.js';
import { readChangesOptions } from './requests.js';
import type { ChangesPage, Checkpoint, Snapshot } from './types.js';

function expired(after: number, oldest: number, why: string): InventoryError {
  return new InventoryError(
    'OFFSET_EXPIRED',
    `offset ${after + 1} is no longer retained: the oldest retained change is ${oldest}${why}`,
    { oldest },
  );
}

export class Feed {
  constructor(
    private readonly journal: JournalClient,
    private readonly gate: DurableGate,
    private readonly reads: Reads,
    private readonly hasDataDir: boolean,
    /** False in memory with `retainChanges: 0`: no change is recorded, the feed is off. */
    private readonly recording: boolean,
  ) {}

  async changes(options: unknown): Promise<ChangesPage> {
    const { after, limit, waitMs } = readChangesOptions(options);
    if (!this.recording) {
      const taken = this.gate.taken;
      if (after >= taken) return { items: [], next: after, hasMore: false };
      throw expired(after, taken + 1, ' (the feed is off: retainChanges is 0 without a dataDir)');
    }
    // In memory the window is filled as the journal thread drains: catch it up first,
    // so that a change whose call has resolved is in the feed.
    if (!this.hasDataDir && this.gate.taken > this.gate.durable) await this.journal.flush();
    let page = await this.read(after, limit);
    if (page.items.length === 0 && waitMs > 0) {
      await this.gate.waitForChange(after, waitMs);
      page = await this.read(after, limit);
    }
    return page;
  }

  private async read(after: number, limit: number): Promise<ChangesPage> {
    const r = await this.journal.read(after, limit);
    if (r.expired) throw expired(after, r.oldest, '');
    const last = r.items[r.items.length - 1];
    const next = last === undefined ? after : last.offset;
    return { items: r.items, next, hasMore: next < r.last };
  }

  checkpoint(): Promise<Checkpoint> {
    if (!this.hasDataDir) {
      // Nothing to write: every change is in memory only.
      return Promise.resolve({ offset: this.gate.durable, bytes: 0, ms: 0 });
    }
    return this.journal.checkpoint();
  }

  /**
   * Every product in one consistent cut (the global lock in shared mode for the whole
   * copy: writers wait for it), resolved once every change it shows is durable.
   */
  async snapshot(): Promise<Snapshot> {
    const timestamp = new Date().toISOString();
    const page = await this.reads.list(Number.MAX_SAFE_INTEGER, undefined);
    await this.gate.durableAt(page.asOf);
    return {
      lastOffset: page.asOf,
      timestamp,
      total: page.items.length,
      products: page.items,
    };
  }
}
