/**
 * Fuzzy snapshots: a copy of every live product slot, taken while pool threads keep
 * writing, as one TYPE_CREATED record per product after a header that says which
 * changes the copy covers and where replay over it starts (src/journal/files.ts).
 * The copy runs in slices of SNAPSHOT_SLICE_MS, so the journal thread's loop keeps
 * committing groups meanwhile; `writeSnapshot` says why the result is consistent.
 */
import { promises as fsp, unlinkSync } from 'node:fs';
import path from 'node:path';
import { crc32c } from '@node-rs/crc32';
import {
  type ChangeViews,
  changeArea,
  createdImage,
  emptyChange,
  encodeChange,
  MAX_RECORD_BYTES,
  R_LOW,
  ringControl,
} from '../../memory/change-log.js';
import {
  counter64,
  HDR_OFFSET,
  ID_MAX_BYTES,
  type SharedViews,
  SLOT_ID,
  SLOT_ID_LEN,
  STATE_LIVE,
  slotBase,
  WORD_BYTES,
} from '../../memory/layout.js';
import { emptyRecord, nameScratch, readRecord } from '../../memory/records.js';
import {
  encodeSnapshotHeader,
  FILE_HEADER_BYTES,
  fsyncDirAsync,
  sealRecord,
  snapshotName,
  TEMP_SUFFIX,
} from '../../src/journal/files.js';
import { nextTurn } from './io.js';

/** A snapshot copies slots for this long, then lets the loop run a group commit. */
const SNAPSHOT_SLICE_MS = 1;
/** …writes its file in pieces of about this size… */
const SNAPSHOT_WRITE_BYTES = 1024 * 1024;
/**
 * …and syncs it every this many bytes: the disk writes a snapshot back as it goes,
 * rather than all at once at the end, in the way of the journal's own fsyncs.
 */
const SNAPSHOT_SYNC_BYTES = 8 * 1024 * 1024;

/** A snapshot written, synced and renamed into its data directory. */
export interface WrittenSnapshot {
  /** Every change up to this offset is in the snapshot or replayed over it. */
  readonly covers: number;
  /** Recovery replays the journal from this offset over the snapshot. */
  readonly replayFrom: number;
  readonly file: string;
  readonly products: number;
  /** Bytes after the header. */
  readonly bytes: number;
}

/**
 * A fuzzy snapshot. `covers0` is the offset counter before the copy, and every
 * change at or below it either is in the copy or is replayed: a pool thread sets its
 * ring's R_LOW (a bound below every offset it may take) before it takes an offset
 * and clears it only after publishing, so a change not yet published when its slot
 * was copied has an offset at or above some R_LOW read after `covers0`, and replay
 * starts at the least of them. Changes after covers0 are replayed anyway. The copy
 * holds nothing past `covers` (the counter after it: a change is published after
 * its offset is taken), so once the journal is durable to `covers` the snapshot
 * never shows a change the journal could lose.
 *
 * Writes the snapshot of `pv` under a temporary name in `dir`, waits on `durableAt`
 * for the journal to be durable to `covers`, then writes the header, syncs the file
 * and renames it into place.
 */
export async function writeSnapshot(
  dir: string,
  pv: SharedViews,
  cv: ChangeViews,
  durableAt: (offset: number) => Promise<void>,
): Promise<WrittenSnapshot> {
  const counter = counter64(HDR_OFFSET);
  const covers0 = Number(Atomics.load(pv.i64, counter));
  let replayFrom = covers0 + 1;
  for (let ring = 0; ring < cv.rings; ring++) {
    const low = Number(Atomics.load(cv.i64, counter64(ringControl(ring) + R_LOW)));
    if (low > 0 && low < replayFrom) replayFrom = low;
  }
  const temp = path.join(dir, `${snapshotName(covers0)}${TEMP_SUFFIX}`);
  const handle = await fsp.open(temp, 'w');
  try {
    const { products, bytes, bodyCrc } = await copySlots(pv, handle);
    const covers = Number(Atomics.load(pv.i64, counter));
    await durableAt(covers);
    const createdAt = Date.now();
    const header = encodeSnapshotHeader({ replayFrom, covers, products, createdAt, bodyCrc });
    await handle.write(header, 0, FILE_HEADER_BYTES, 0);
    await handle.datasync();
    await handle.close();
    // From here on the file system calls go through libuv's pool: a rename or a
    // directory sync would stall group commits here.
    const file = path.join(dir, snapshotName(covers));
    await fsp.rename(temp, file);
    await fsyncDirAsync(dir);
    return { covers, replayFrom, file, products, bytes };
  } catch (error) {
    await handle.close().catch(() => undefined);
    try {
      unlinkSync(temp);
    } catch {
      // Never created, or already renamed.
    }
    throw error;
  }
}

/**
 * Writes one TYPE_CREATED record per live slot after the header's place, in slices
 * of SNAPSHOT_SLICE_MS: between slices the loop runs its group commits.
 */
async function copySlots(
  pv: SharedViews,
  handle: fsp.FileHandle,
): Promise<{ products: number; bytes: number; bodyCrc: number }> {
  const area = changeArea(SNAPSHOT_WRITE_BYTES + MAX_RECORD_BYTES);
  const areaView = new DataView(area.buffer);
  const record = emptyRecord();
  const again = emptyRecord();
  const name = nameScratch();
  const change = emptyChange();
  change.nameBytes = name.bytes;
  let used = 0;
  let written = FILE_HEADER_BYTES;
  let synced = 0;
  let products = 0;
  let bodyCrc = 0;
  let sliceStart = performance.now();
  for (let slot = 0; slot < pv.capacity; slot++) {
    readRecord(pv, slot, record, name);
    if (record.state === STATE_LIVE) {
      // The id is fixed for a product's life: it is this record's if the slot still
      // holds the same generation after it was read.
      change.idLength = copyId(pv, slot, change.idBytes);
      readRecord(pv, slot, again);
      if (again.state !== STATE_LIVE || again.generation !== record.generation) {
        slot--;
        continue;
      }
      createdImage(change, record, slot, name.length);
      const length = encodeChange(area, used, change);
      sealRecord(area.u8, areaView, used, length);
      used += length;
      products++;
    }
    if ((slot & 63) !== 63 && slot !== pv.capacity - 1) continue;
    const full = used >= SNAPSHOT_WRITE_BYTES;
    const late = performance.now() - sliceStart >= SNAPSHOT_SLICE_MS;
    if (!full && !late && slot !== pv.capacity - 1) continue;
    if (used > 0) {
      bodyCrc = crc32c(area.u8.subarray(0, used), bodyCrc);
      await handle.write(area.u8, 0, used, written);
      written += used;
      used = 0;
    } else {
      await nextTurn();
    }
    if (written - synced >= SNAPSHOT_SYNC_BYTES) {
      await handle.datasync();
      synced = written;
    }
    sliceStart = performance.now();
  }
  return { products, bytes: written - FILE_HEADER_BYTES, bodyCrc };
}

/**
 * Copies a live slot's product id bytes into `into`; their length. records.ts's readId
 * with no string: a snapshot copies a million ids without a string or an encode each.
 */
function copyId(pv: SharedViews, slot: number, into: Uint8Array): number {
  const start = (slotBase(slot) + SLOT_ID) * WORD_BYTES;
  const length = Math.min(Atomics.load(pv.i32, slotBase(slot) + SLOT_ID_LEN), ID_MAX_BYTES);
  for (let i = 0; i < length; i++) into[i] = pv.u8[start + i] as number;
  return length;
}
