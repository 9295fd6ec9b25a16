// The report of a run, computed and printed as etcd's pkg/report does: latencies in seconds of the requests
// that succeeded, failed requests counted by error message, Requests/sec over the wall time of the run.

export interface RunResult {
  /** Latency of each successful request, in seconds. */
  latenciesSec: number[];
  /** Failed requests by error message. */
  errors: Map<string, number>;
  /** Wall time of the whole run, in seconds. */
  totalSec: number;
}

export interface Stats {
  totalSec: number;
  /** Ascending. */
  sortedSec: number[];
  fastestSec: number;
  slowestSec: number;
  averageSec: number;
  /** Population standard deviation (divided by n, as etcd). */
  stddevSec: number;
  rps: number;
  errors: Map<string, number>;
}

/** The percentiles etcd prints, in percent. */
export const PERCENTILES = [10, 25, 50, 75, 90, 95, 99, 99.9] as const;

/** Number of histogram buckets between fastest and slowest (plus one for the slowest itself), as etcd. */
export const HISTOGRAM_BUCKETS = 10;
const BAR_WIDTH = 40;

export function computeStats(run: RunResult): Stats {
  const sortedSec = [...run.latenciesSec].sort((a, b) => a - b);
  const n = sortedSec.length;
  const sum = sortedSec.reduce((s, x) => s + x, 0);
  const averageSec = n === 0 ? 0 : sum / n;
  const squares = sortedSec.reduce((s, x) => s + (x - averageSec) ** 2, 0);
  return {
    totalSec: run.totalSec,
    sortedSec,
    fastestSec: sortedSec[0] ?? 0,
    slowestSec: sortedSec[n - 1] ?? 0,
    averageSec,
    stddevSec: n === 0 ? 0 : Math.sqrt(squares / n),
    rps: run.totalSec > 0 ? n / run.totalSec : 0,
    errors: run.errors,
  };
}

/**
 * Nearest-rank percentile as etcd computes it: index ceil(p * (n + 1) / 100) - 1, clamped to [0, n-1].
 * 0 for no samples.
 */
export function percentile(sortedSec: readonly number[], p: number): number {
  const n = sortedSec.length;
  if (n === 0) return 0;
  const idx = Math.min(n - 1, Math.max(0, Math.ceil((p * (n + 1)) / 100) - 1));
  return sortedSec[idx] ?? 0;
}

export interface Bucket {
  /** Upper bound of the bucket, in seconds (a latency <= mark and above the previous mark falls here). */
  markSec: number;
  count: number;
}

/** etcd's histogram: marks fastest + i * (slowest - fastest) / 10 for i in 0..9, then slowest. */
export function histogram(stats: Stats): Bucket[] {
  const width = (stats.slowestSec - stats.fastestSec) / HISTOGRAM_BUCKETS;
  const buckets: Bucket[] = [];
  for (let i = 0; i < HISTOGRAM_BUCKETS; i++)
    buckets.push({ markSec: stats.fastestSec + width * i, count: 0 });
  buckets.push({ markSec: stats.slowestSec, count: 0 });
  let b = 0;
  for (const lat of stats.sortedSec) {
    // Sorted input: the bucket index only moves forward; the last mark is the slowest, so it always fits.
    while (b < buckets.length - 1 && lat > (buckets[b]?.markSec ?? 0)) b++;
    const bucket = buckets[b];
    if (bucket !== undefined) bucket.count++;
  }
  return buckets;
}

const secs = (s: number): string => `${s.toFixed(4)} secs`;

/** The text etcd's benchmark prints at the end of a run. */
export function formatReport(stats: Stats): string {
  let out = '';
  if (stats.sortedSec.length > 0) {
    out += '\nSummary:\n';
    out += `  Total:\t${secs(stats.totalSec)}.\n`;
    out += `  Slowest:\t${secs(stats.slowestSec)}.\n`;
    out += `  Fastest:\t${secs(stats.fastestSec)}.\n`;
    out += `  Average:\t${secs(stats.averageSec)}.\n`;
    out += `  Stddev:\t${secs(stats.stddevSec)}.\n`;
    out += `  Requests/sec:\t${stats.rps.toFixed(4)}\n`;
    const buckets = histogram(stats);
    const max = Math.max(...buckets.map((b) => b.count));
    out += '\nResponse time histogram:\n';
    for (const b of buckets) {
      const bar = max > 0 ? Math.floor((b.count * BAR_WIDTH) / max) : 0;
      out += `  ${b.markSec.toFixed(4)} [${b.count}]\t|${'∎'.repeat(bar)}\n`;
    }
    out += '\nLatency distribution:\n';
    for (const p of PERCENTILES) {
      const v = percentile(stats.sortedSec, p);
      if (v > 0) out += `  ${p}% in ${(v * 1000).toFixed(3)} ms.\n`;
    }
  }
  if (stats.errors.size > 0) {
    out += '\nError distribution:\n';
    for (const [message, count] of stats.errors) out += `  [${count}]\t${message}\n`;
  }
  return out;
}

export interface JsonSummary {
  requests: number;
  errors: number;
  errorDist: Record<string, number>;
  totalSec: number;
  qps: number;
  avgMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  slowestMs: number;
}

/** The one-object summary of --json, for scripts (hack/bench-kv.mjs). */
export function jsonSummary(stats: Stats): JsonSummary {
  const ms = (s: number): number => Math.round(s * 1e6) / 1e3;
  let errors = 0;
  for (const c of stats.errors.values()) errors += c;
  return {
    requests: stats.sortedSec.length,
    errors,
    errorDist: Object.fromEntries(stats.errors),
    totalSec: Math.round(stats.totalSec * 1e4) / 1e4,
    qps: Math.round(stats.rps * 10) / 10,
    avgMs: ms(stats.averageSec),
    p50Ms: ms(percentile(stats.sortedSec, 50)),
    p90Ms: ms(percentile(stats.sortedSec, 90)),
    p99Ms: ms(percentile(stats.sortedSec, 99)),
    slowestMs: ms(stats.slowestSec),
  };
}
