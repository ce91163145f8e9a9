/**
 * The one plain-text table printer of the load report and the benchmarks: cells
 * padded to their column's widest, columns apart by a gap, no trailing spaces.
 */

export type Align = 'left' | 'right';

export interface TableOptions {
  /**
   * Alignment per column; columns past the list take its last entry. Default: the
   * first column (labels) left, the rest (figures) right.
   */
  align?: readonly Align[];
  /** Spaces before every line. */
  indent?: number;
  /** Spaces between columns. */
  gap?: number;
}

const LABELS_THEN_FIGURES: readonly Align[] = ['left', 'right'];

export function table(
  rows: readonly (readonly (string | number)[])[],
  { align = LABELS_THEN_FIGURES, indent = 0, gap = 3 }: TableOptions = {},
): string {
  const cells = rows.map((row) => row.map(String));
  const columns = Math.max(0, ...cells.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, c) =>
    Math.max(...cells.map((row) => (row[c] ?? '').length)),
  );
  const alignOf = (c: number): Align => align[Math.min(c, align.length - 1)] ?? 'left';
  return cells
    .map((row) => {
      const line = row
        .map((cell, c) =>
          alignOf(c) === 'left' ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0),
        )
        .join(' '.repeat(gap));
      return `${' '.repeat(indent)}${line}`.trimEnd();
    })
    .join('\n');
}
