// Small numeric helpers shared by the benchmark: percentiles over latency samples and rounding.

/** The p-th percentile (0-100) of `values` by nearest rank; sorts a copy. */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  return sortedPercentile(sorted, p);
}

export function sortedPercentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** p50/p90/p99 and the sample count, in milliseconds. */
export function summarize(values) {
  const sorted = Float64Array.from(values).sort();
  return {
    n: sorted.length,
    p50: round(sortedPercentile(sorted, 50)),
    p90: round(sortedPercentile(sorted, 90)),
    p99: round(sortedPercentile(sorted, 99)),
  };
}

export function median(values) {
  return percentile(values, 50);
}

export function round(value, digits = 3) {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** value / reference, or null when either is missing. */
export function ratio(value, reference) {
  if (typeof value !== 'number' || typeof reference !== 'number' || reference === 0) return null;
  return round(value / reference, 2);
}
