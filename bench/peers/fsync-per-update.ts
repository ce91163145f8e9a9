/**
 * The floor of durability without group commit: a loop that makes each update
 * durable on its own, one small record written and one fdatasync per update, on the
 * same disk as the engines it is compared with. Its rate is the disk's sync rate; a
 * journal that syncs once per change can go no faster, whatever it computes.
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';

/** About the size of one update's record (offset, delta, after-image, short id). */
export const RECORD_BYTES = 64;

export class FsyncPerUpdate {
  private readonly fd: number;
  private readonly record = new Uint8Array(RECORD_BYTES);
  private readonly view = new DataView(this.record.buffer);
  private offset = 0;

  /** Appends to a new file in `dir`. */
  constructor(dir: string) {
    this.fd = openSync(path.join(dir, 'fsync-per-update.log'), 'wx');
  }

  /** `updates` updates, each written and fdatasync'ed before the next. */
  run(updates: number): void {
    for (let i = 0; i < updates; i++) {
      this.view.setFloat64(8, ++this.offset, true);
      this.view.setFloat64(16, -1, true);
      writeSync(this.fd, this.record);
      fdatasyncSync(this.fd);
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}
