/** The machine a figure was measured on, printed beside every figure (docs/DESIGN.md). */
import os from 'node:os';

export interface Machine {
  /** Threads the process may run in parallel (os.availableParallelism). */
  cores: number;
  cpu: string;
  node: string;
}

export function machine(): Machine {
  return {
    cores: os.availableParallelism(),
    cpu: os.cpus()[0]?.model.trim() || 'unknown',
    node: process.version,
  };
}

/** `2 cores (AMD EPYC 7B13), Node v20.20.2` */
export function describeMachine(m: Machine): string {
  return `${m.cores} core${m.cores === 1 ? '' : 's'} (${m.cpu}), Node ${m.node}`;
}
