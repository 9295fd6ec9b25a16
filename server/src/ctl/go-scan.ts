// The slice of Go's fmt scanning that etcdctl's txn syntax goes through: strings.TrimSpace, and
// fmt.Sscanf with the verbs %q and %s and literal text / spaces in the format. Errors carry fmt's texts
// ("unexpected EOF", "expected quoted string", "input does not match format", ...) and the count of
// operands scanned before the failure, which etcdctl prints. Input is a byte string.
import { decodeRune } from './byte-string.js';
import { goUnquote } from './go-quote.js';

/** fmt's isSpace table (scan.go). */
function isScanSpace(r: number): boolean {
  return (
    (r >= 0x09 && r <= 0x0d) ||
    r === 0x20 ||
    r === 0x85 ||
    r === 0xa0 ||
    r === 0x1680 ||
    (r >= 0x2000 && r <= 0x200a) ||
    r === 0x2028 ||
    r === 0x2029 ||
    r === 0x202f ||
    r === 0x205f ||
    r === 0x3000
  );
}

/** strings.TrimSpace (unicode.IsSpace has the same members as fmt's table). */
export function goTrimSpace(s: string): string {
  const runes: { start: number; end: number; space: boolean }[] = [];
  for (let i = 0; i < s.length;) {
    const d = decodeRune(s, i);
    runes.push({ start: i, end: i + d.size, space: d.valid && isScanSpace(d.rune) });
    i += d.size;
  }
  let a = 0;
  while (a < runes.length && runes[a]!.space) a++;
  let b = runes.length;
  while (b > a && runes[b - 1]!.space) b--;
  return a >= b ? '' : s.slice(runes[a]!.start, runes[b - 1]!.end);
}

class ScanError extends Error {}

const EOF = -1;

/** A rune reader over a byte string, with one rune of unread (fmt's ss). */
class Scanner {
  private pos = 0;
  private lastSize = 0;

  constructor(private readonly s: string) {}

  getRune(): number {
    if (this.pos >= this.s.length) {
      this.lastSize = 0;
      return EOF;
    }
    const d = decodeRune(this.s, this.pos);
    this.pos += d.size;
    this.lastSize = d.size;
    return d.rune;
  }

  unreadRune(): void {
    this.pos -= this.lastSize;
    this.lastSize = 0;
  }

  mustReadRune(): number {
    const r = this.getRune();
    if (r === EOF) throw new ScanError('unexpected EOF');
    return r;
  }

  /** Raw bytes consumed since `from`. */
  since(from: number): string {
    return this.s.slice(from, this.pos);
  }

  get offset(): number {
    return this.pos;
  }

  skipSpace(): void {
    for (;;) {
      const r = this.getRune();
      if (r === EOF) return;
      if (!isScanSpace(r) || r === 0x0a) {
        // Sscanf does not treat newlines as spaces; they are not skipped here.
        this.unreadRune();
        return;
      }
    }
  }

  notEOF(): void {
    const r = this.getRune();
    if (r === EOF) throw new ScanError('unexpected EOF');
    this.unreadRune();
  }

  /** %q: a double-quoted (escapes processed by strconv.Unquote) or back-quoted string. */
  quotedString(): string {
    this.skipSpace();
    this.notEOF();
    const start = this.offset;
    const quote = this.getRune();
    if (quote === 0x60) {
      for (;;) if (this.mustReadRune() === 0x60) break;
      const raw = this.since(start);
      return raw.slice(1, -1);
    }
    if (quote !== 0x22) throw new ScanError('expected quoted string');
    for (;;) {
      const r = this.mustReadRune();
      if (r === 0x5c) this.mustReadRune();
      else if (r === 0x22) break;
    }
    try {
      return goUnquote(this.since(start));
    } catch (err) {
      throw new ScanError((err as Error).message);
    }
  }

  /** %s: the next space-delimited word. */
  word(): string {
    this.skipSpace();
    this.notEOF();
    const start = this.offset;
    for (;;) {
      const r = this.getRune();
      if (r === EOF) break;
      if (isScanSpace(r)) {
        this.unreadRune();
        break;
      }
    }
    return this.since(start);
  }

  /** Literal format text: spaces match one or more spaces (or the end), anything else itself. */
  literal(text: string): void {
    for (let i = 0; i < text.length;) {
      if (isScanSpace(text.charCodeAt(i))) {
        while (i < text.length && isScanSpace(text.charCodeAt(i))) i++;
        const r = this.getRune();
        if (r !== EOF && !isScanSpace(r)) throw new ScanError('expected space in input to match format');
        let c = r;
        while (c !== EOF && isScanSpace(c) && c !== 0x0a) c = this.getRune();
        if (c !== EOF) this.unreadRune();
        continue;
      }
      const r = this.mustReadRune();
      if (r !== text.charCodeAt(i)) {
        this.unreadRune();
        throw new ScanError('input does not match format');
      }
      i++;
    }
  }
}

export type ScanPart = { verb: 'q' | 's' } | { literal: string };

export interface ScanResult {
  /** Operands scanned successfully (Sscanf's n). */
  n: number;
  values: string[];
  /** Set when n < the number of verbs. */
  error?: string;
}

/** fmt.Sscanf(input, format) for formats made of %q, %s and literal text, given as parts. */
export function goSscanf(input: string, parts: readonly ScanPart[]): ScanResult {
  const sc = new Scanner(input);
  const values: string[] = [];
  try {
    for (const p of parts) {
      if ('literal' in p) {
        sc.literal(p.literal);
        continue;
      }
      sc.skipSpace();
      values.push(p.verb === 'q' ? sc.quotedString() : sc.word());
    }
    return { n: values.length, values };
  } catch (err) {
    if (!(err instanceof ScanError)) throw err;
    return { n: values.length, values, error: err.message };
  }
}
