// Go's time.Duration text forms: time.ParseDuration for --dial-timeout / --command-timeout (and their
// ETCDCTL_* variables), Duration.String for flag defaults and `endpoint health`'s "took". Durations are
// nanoseconds as bigint, like Go's int64 Duration.

const NS_PER: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  '\u00b5s': 1_000n, // U+00B5 micro sign
  '\u03bcs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const MAX_INT64 = (1n << 63n) - 1n;

export class GoDurationError extends Error {}

/** time's private quote(): printable ASCII kept, everything else as \x escapes of its UTF-8 bytes. */
function timeQuote(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s, 'utf8')) {
    if (b >= 0x80 || b < 0x20) out += '\\x' + b.toString(16).padStart(2, '0');
    else {
      const c = String.fromCharCode(b);
      out += c === '"' || c === '\\' ? '\\' + c : c;
    }
  }
  return out + '"';
}

/** time.ParseDuration. `text` is ordinary (UTF-16) text. Throws GoDurationError with Go's message. */
export function parseGoDuration(text: string): bigint {
  const invalid = (): GoDurationError => new GoDurationError(`time: invalid duration ${timeQuote(text)}`);
  let s = text;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();
  let total = 0n;
  while (s !== '') {
    if (!/^[0-9.]/.test(s)) throw invalid();
    const intDigits = /^[0-9]*/.exec(s)![0];
    let v = intDigits === '' ? 0n : BigInt(intDigits);
    if (v > 1n << 63n) throw invalid(); // leadingInt overflow
    s = s.slice(intDigits.length);
    let frac = '';
    let post = false;
    if (s.startsWith('.')) {
      s = s.slice(1);
      frac = /^[0-9]*/.exec(s)![0];
      post = frac !== '';
      s = s.slice(frac.length);
    }
    if (intDigits === '' && !post) throw invalid();
    const unitMatch = /^[^0-9.]*/.exec(s)![0];
    if (unitMatch === '') throw new GoDurationError(`time: missing unit in duration ${timeQuote(text)}`);
    s = s.slice(unitMatch.length);
    const unit = NS_PER[unitMatch];
    if (unit === undefined) {
      throw new GoDurationError(`time: unknown unit ${timeQuote(unitMatch)} in duration ${timeQuote(text)}`);
    }
    if (v > (1n << 63n) / unit) throw invalid();
    v *= unit;
    if (frac !== '') {
      // Go accumulates at most what fits in a uint64 and then uses float64(f) * (unit / scale).
      let f = 0n;
      let scale = 1;
      for (const ch of frac) {
        if (f > ((1n << 63n) - 1n) / 10n) break;
        f = f * 10n + BigInt(ch.charCodeAt(0) - 48);
        scale *= 10;
      }
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > 1n << 63n) throw invalid();
    }
    total += v;
    if (total > 1n << 63n) throw invalid();
  }
  if (neg) return -total;
  if (total > MAX_INT64) throw invalid();
  return total;
}

/** Writes the fraction v/10**prec without trailing zeros (Go's fmtFrac). */
function fmtFrac(v: bigint, prec: number): { text: string; rest: bigint } {
  let text = '';
  let print = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    print = print || digit !== 0n;
    if (print) text = digit.toString() + text;
    v /= 10n;
  }
  return { text: print ? '.' + text : '', rest: v };
}

/** Duration.String, e.g. "2s", "1m30s", "1.5ms", "3.921564ms". Returns a byte string ("µ" is 2 bytes). */
export function formatGoDuration(ns: bigint): string {
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    if (u === 0n) return '0s';
    let prec: number;
    let unit: string;
    if (u < 1_000n) {
      prec = 0;
      unit = 'ns';
    } else if (u < 1_000_000n) {
      prec = 3;
      unit = '\xc2\xb5s';
    } else {
      prec = 6;
      unit = 'ms';
    }
    const f = fmtFrac(u, prec);
    out = f.rest.toString() + f.text + unit;
  } else {
    const f = fmtFrac(u, 9);
    u = f.rest;
    out = (u % 60n).toString() + f.text + 's';
    u /= 60n;
    if (u > 0n) {
      out = (u % 60n).toString() + 'm' + out;
      u /= 60n;
      if (u > 0n) out = u.toString() + 'h' + out;
    }
  }
  return neg ? '-' + out : out;
}

/** Nanoseconds → milliseconds for timers (rounded up, so a deadline is never early). */
export function durationToMs(ns: bigint): number {
  if (ns <= 0n) return 0;
  return Number((ns + 999_999n) / 1_000_000n);
}
