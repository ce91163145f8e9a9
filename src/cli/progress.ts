/** A one-line progress bar for a terminal: redrawn in place, cleared when done. */
import type { Progress } from './load.js';

const WIDTH = 28;

export class ProgressBar {
  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly label: string,
  ) {}

  update(p: Progress): void {
    const filled = Math.round(p.fraction * WIDTH);
    const bar = '█'.repeat(filled) + '░'.repeat(WIDTH - filled);
    const remaining = p.fraction > 0 ? (p.elapsedMs / p.fraction - p.elapsedMs) / 1000 : Number.NaN;
    const left = p.draining
      ? `draining ${p.inFlight.toLocaleString('en-US')} in flight`
      : `${Number.isFinite(remaining) ? `${remaining.toFixed(1)}s` : '?'} left`;
    const line =
      `${this.label.padEnd(6)} ${bar} ${String(Math.round(p.fraction * 100)).padStart(3)}%  ` +
      `${Math.round(p.opsPerSec).toLocaleString('en-US')} ops/s  ` +
      `${(p.elapsedMs / 1000).toFixed(1)}s elapsed, ${left}`;
    this.out.write(`\r${line.slice(0, (this.out.columns ?? 120) - 1)}\x1b[K`);
  }

  finish(): void {
    this.out.write('\r\x1b[K');
  }
}
