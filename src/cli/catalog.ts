/** The embedded default catalog the CLI runs on: deterministic, no files needed. */
import type { ProductInput } from '../types.js';

const ADJECTIVES = [
  'Basic',
  'Compact',
  'Deluxe',
  'Heavy',
  'Light',
  'Mini',
  'Pro',
  'Smart',
  'Steel',
  'Travel',
];
const NOUNS = [
  'Widget',
  'Gadget',
  'Bracket',
  'Cable',
  'Adapter',
  'Hinge',
  'Lamp',
  'Valve',
  'Sensor',
  'Spool',
];

/** `SKU-00000` … with a name, 10 000 units each, and a price from 1.00 to 100.99. */
/** Digits of the ids of a catalog of `count`: five, or as many as the last index needs. */
export function idWidth(count: number): number {
  return Math.max(5, String(count - 1).length);
}

export function defaultCatalog(count: number, available = 10_000): ProductInput[] {
  const width = idWidth(count);
  return Array.from({ length: count }, (_, i) => ({
    productId: productId(i, width),
    name: `${ADJECTIVES[i % ADJECTIVES.length]} ${NOUNS[Math.floor(i / ADJECTIVES.length) % NOUNS.length]} ${i}`,
    available,
    price: 1 + (i % 100) + ((i * 37) % 100) / 100,
  }));
}

export function productId(i: number, width = 5): string {
  return `SKU-${String(i).padStart(width, '0')}`;
}
