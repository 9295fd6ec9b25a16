// github.com/dustin/go-humanize's Bytes (SI units, base 1000), which etcdctl uses for the "db size"
// column of `endpoint status`: 24576 → "25 kB", 1500 → "1.5 kB", 7 → "7 B".

const SIZES = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];

/**
 * fmt's %.{prec}f. JS toFixed and Go both round the exact binary value; they differ only on exact ties
 * (x.5 with prec 0), where Go rounds half to even and toFixed rounds up.
 */
function goFixed(x: number, prec: 0 | 1): string {
  if (prec === 0 && x % 1 === 0.5) {
    const down = Math.floor(x);
    return (down % 2 === 0 ? down : down + 1).toFixed(0);
  }
  return x.toFixed(prec);
}

/** humanize.Bytes. */
export function humanizeBytes(size: bigint): string {
  if (size < 10n) return `${size} B`;
  const s = Number(size);
  const e = Math.floor(Math.log(s) / Math.log(1000));
  const suffix = SIZES[e] ?? '?';
  const val = Math.floor((s / Math.pow(1000, e)) * 10 + 0.5) / 10;
  return `${goFixed(val, val < 10 ? 1 : 0)} ${suffix}`;
}
