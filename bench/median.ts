// The median of a list of timings: the figure every latency workload reports, because one slow
// outlier (a checkpoint of WAL, a GC pause) moves a mean but not the middle.
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
