// A fixed-bucket histogram (Prometheus's shape): cumulative counts per upper bound, their sum and count.

export interface HistogramSnapshot {
  /** Cumulative: observations ≤ `le` (the last bound is +Infinity). */
  readonly buckets: readonly { readonly le: number; readonly count: number }[];
  readonly sum: number;
  readonly count: number;
}

export interface Histogram {
  observe(value: number): void;
  snapshot(): HistogramSnapshot;
}

export function createHistogram(bounds: readonly number[]): Histogram {
  const les = [...new Set(bounds)].filter(Number.isFinite).sort((a, b) => a - b);
  les.push(Infinity);
  const counts = new Array<number>(les.length).fill(0);
  let sum = 0;
  let count = 0;
  return {
    observe(value) {
      if (!Number.isFinite(value)) return;
      let i = 0;
      while (value > (les[i] as number)) i++;
      counts[i]!++;
      sum += value;
      count++;
    },
    snapshot() {
      let running = 0;
      return { buckets: les.map((le, i) => ({ le, count: (running += counts[i] as number) })), sum, count };
    },
  };
}
