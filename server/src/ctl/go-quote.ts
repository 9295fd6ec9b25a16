// Go's strconv.Quote / QuoteRune / Unquote over byte strings (see byte-string.ts). etcdctl formats many
// messages with %q (pflag errors, txn parse errors, the fields printer) and parses txn comparisons with
// fmt.Sscanf("%q"), so these must agree with Go byte for byte.
import { decodeRune, encodeRune } from './byte-string.js';

const HEX = '0123456789abcdef';

/** unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
function isPrint(rune: number): boolean {
  if (rune < 0x80) return rune >= 0x20 && rune < 0x7f;
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(String.fromCodePoint(rune));
}

function hexDigits(v: number, n: number): string {
  let s = '';
  for (let shift = (n - 1) * 4; shift >= 0; shift -= 4) s += HEX[Math.floor(v / 2 ** shift) & 0xf]!;
  return s;
}

/** strconv's appendEscapedRune (ASCIIonly = graphicOnly = false). */
function escapeRune(rune: number, quote: string): string {
  const ch = String.fromCharCode(rune);
  if (ch === quote || ch === '\\') return '\\' + ch;
  if (isPrint(rune)) return encodeRune(rune);
  switch (rune) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
  }
  if (rune < 0x20 || rune === 0x7f) return '\\x' + hexDigits(rune, 2);
  if (rune < 0x10000) return '\\u' + hexDigits(rune, 4);
  return '\\U' + hexDigits(rune, 8);
}

/** strconv.Quote (fmt's %q for strings): the input and output are byte strings. */
export function goQuote(bytes: string): string {
  let out = '"';
  for (let i = 0; i < bytes.length;) {
    const d = decodeRune(bytes, i);
    if (!d.valid) out += '\\x' + hexDigits(bytes.charCodeAt(i), 2);
    else out += escapeRune(d.rune, '"');
    i += d.size;
  }
  return out + '"';
}

/** strconv.QuoteRune (fmt's %q for a rune or a byte). */
export function goQuoteRune(rune: number): string {
  const r = rune > 0x10ffff || (rune >= 0xd800 && rune <= 0xdfff) ? 0xfffd : rune;
  return "'" + escapeRune(r, "'") + "'";
}

/** strconv.ErrSyntax, whose text etcdctl prints as `Error: invalid syntax`. */
export class GoSyntaxError extends Error {
  constructor() {
    super('invalid syntax');
  }
}

function unhex(c: string): number {
  const v = '0123456789abcdef'.indexOf(c.toLowerCase());
  return c.length === 1 ? v : -1;
}

interface UnquotedChar {
  bytes: string;
  rest: string;
}

/** strconv.UnquoteChar: one (possibly escaped) character from the front of `s`. Throws GoSyntaxError. */
function unquoteChar(s: string, quote: string): UnquotedChar {
  const c = s[0];
  if (c === undefined || c === quote) throw new GoSyntaxError();
  if (c.charCodeAt(0) >= 0x80) {
    const d = decodeRune(s, 0);
    return { bytes: encodeRune(d.rune), rest: s.slice(d.size) };
  }
  if (c !== '\\') return { bytes: c, rest: s.slice(1) };
  if (s.length <= 1) throw new GoSyntaxError();
  const e = s[1]!;
  let rest = s.slice(2);
  const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
  const mapped = simple[e];
  if (mapped !== undefined) return { bytes: mapped, rest };
  if (e === 'x' || e === 'u' || e === 'U') {
    const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
    if (rest.length < n) throw new GoSyntaxError();
    let v = 0;
    for (let j = 0; j < n; j++) {
      const x = unhex(rest[j]!);
      if (x < 0) throw new GoSyntaxError();
      v = v * 16 + x;
    }
    rest = rest.slice(n);
    // \x is a single byte, possibly not UTF-8; \u and \U must be valid runes.
    if (e === 'x') return { bytes: String.fromCharCode(v), rest };
    if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new GoSyntaxError();
    return { bytes: encodeRune(v), rest };
  }
  if (e >= '0' && e <= '7') {
    if (rest.length < 2) throw new GoSyntaxError();
    let v = e.charCodeAt(0) - 48;
    for (let j = 0; j < 2; j++) {
      const x = rest.charCodeAt(j) - 48;
      if (x < 0 || x > 7) throw new GoSyntaxError();
      v = (v << 3) | x;
    }
    if (v > 255) throw new GoSyntaxError();
    return { bytes: String.fromCharCode(v), rest: rest.slice(2) };
  }
  if (e === '\\') return { bytes: '\\', rest };
  if (e === "'" || e === '"') {
    if (e !== quote) throw new GoSyntaxError();
    return { bytes: e, rest };
  }
  throw new GoSyntaxError();
}

/** strconv.Unquote of a double-quoted or back-quoted Go string literal. Throws GoSyntaxError. */
export function goUnquote(literal: string): string {
  const n = literal.length;
  if (n < 2) throw new GoSyntaxError();
  const quote = literal[0]!;
  if (quote !== literal[n - 1]) throw new GoSyntaxError();
  let s = literal.slice(1, n - 1);
  if (quote === '`') {
    if (s.includes('`')) throw new GoSyntaxError();
    return s.replace(/\r/g, '');
  }
  if (quote !== '"' && quote !== "'") throw new GoSyntaxError();
  if (s.includes('\n')) throw new GoSyntaxError();
  let out = '';
  while (s.length > 0) {
    const ch = unquoteChar(s, quote);
    out += ch.bytes;
    s = ch.rest;
    if (quote === "'" && s.length !== 0) throw new GoSyntaxError();
  }
  return out;
}
