/**
 * Helpers the journal thread's modules share: a turn of the event loop (the thread
 * yields between groups, feed read pieces and snapshot slices so that Comlink calls
 * and I/O callbacks run), and a file's header.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { FILE_HEADER_BYTES } from '../../src/journal/files.js';

/** Resolves at the event loop's next turn (setImmediate), after the I/O callbacks already due. */
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The first FILE_HEADER_BYTES of `file`: its header (src/journal/files.ts decodes it). */
export function readHead(file: string): Uint8Array {
  const head = new Uint8Array(FILE_HEADER_BYTES);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, FILE_HEADER_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  return head;
}
