/**
 * GET /v1/inventory?snapshot=true: the Go service's replication snapshot,
 * `{ state: { [productId]: product }, lastOffset, timestamp, total }`, taken as one
 * consistent cut by the engine's `snapshot()`: every change up to `lastOffset` is in it
 * and none after, so a replica that loads it and then follows /events from
 * `lastOffset + 1` misses nothing and applies nothing twice.
 *
 * Streamed: the products go out in chunks of about 64 KiB as the socket takes them, so
 * a large catalog is never one string in memory.
 */
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { Product } from '../../types.js';
import type { Context } from '../app.js';
import { productBody } from './products.js';

const CHUNK_CHARS = 64 * 1024;

export interface SnapshotCut {
  lastOffset: number;
  timestamp: string;
  total: number;
  products: Iterable<Product>;
}

/** The snapshot's JSON text, in chunks, products read from the cut one at a time. */
export function* snapshotChunks(cut: SnapshotCut): Generator<string> {
  let chunk = '{"state":{';
  let first = true;
  for (const product of cut.products) {
    chunk += `${first ? '' : ','}${JSON.stringify(product.productId)}:${JSON.stringify(productBody(product))}`;
    first = false;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}},"lastOffset":${cut.lastOffset},"timestamp":${JSON.stringify(cut.timestamp)},"total":${cut.total}}`;
}

export async function sendSnapshot(context: Context, reply: FastifyReply) {
  const cut: SnapshotCut = await context.inventory.snapshot();
  reply.type('application/json; charset=utf-8');
  return reply.send(Readable.from(snapshotChunks(cut)));
}
