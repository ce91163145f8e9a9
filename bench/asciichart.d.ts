/** The part of asciichart's API lockstock uses (the package ships no types). */
declare module 'asciichart' {
  export interface PlotConfig {
    height?: number;
    min?: number;
    max?: number;
    offset?: number;
    padding?: string;
    colors?: string[];
    format?: (value: number, index: number) => string;
  }
  export function plot(series: number[] | number[][], config?: PlotConfig): string;
  export const blue: string;
  export const green: string;
  export const red: string;
  export const yellow: string;
  export const magenta: string;
  export const cyan: string;
  export const reset: string;
  const asciichart: {
    plot: typeof plot;
    blue: string;
    green: string;
    red: string;
    yellow: string;
    magenta: string;
    cyan: string;
    reset: string;
  };
  export default asciichart;
}
