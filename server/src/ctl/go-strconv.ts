// Go's strconv.ParseInt / ParseBool with their exact error texts, which etcdctl prints verbatim:
//   strconv.ParseInt: parsing "abc": invalid syntax
//   strconv.ParseInt: parsing "99999999999999999999": value out of range
// pflag parses int64 flags with base 0 (0x.., 0o.., 0b.., leading-0 octal, '_' separators); etcdctl
// parses lease ids with base 16 and revisions with base 10.
import { goQuote } from './go-quote.js';

export class GoNumError extends Error {
  constructor(fn: string, num: string, reason: 'invalid syntax' | 'value out of range') {
    super(`strconv.${fn}: parsing ${goQuote(num)}: ${reason}`);
  }
}

/** strconv's underscoreOK: '_' only between digits (or after a base prefix). */
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'box'.includes(s[1]!.toLowerCase())) {
    i = 2;
    saw = '0';
    hex = s[1]!.toLowerCase() === 'x';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && /[a-fA-F]/.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

/** strconv.ParseUint's digit loop: undefined on a syntax error, 'range' once the value passes 64 bits. */
function parseDigits(s0: string, base: number): bigint | 'range' | undefined {
  if (s0 === '') return undefined;
  let s = s0;
  const base0 = base === 0;
  if (base0) {
    base = 10;
    if (s[0] === '0') {
      const p = s.length >= 3 ? s[1]!.toLowerCase() : '';
      if (p === 'b' || p === 'o' || p === 'x') {
        base = p === 'b' ? 2 : p === 'o' ? 8 : 16;
        s = s.slice(2);
      } else {
        base = 8;
        s = s.slice(1);
      }
    }
  }
  let n = 0n;
  let underscores = false;
  for (const c of s) {
    if (c === '_' && base0) {
      underscores = true;
      continue;
    }
    const d = parseInt(c, 36);
    if (Number.isNaN(d) || d >= base) return undefined;
    n = n * BigInt(base) + BigInt(d);
    if (n >= 1n << 64n) return 'range'; // Go stops at the first overflow, before later syntax errors
  }
  if (underscores && !underscoreOK(s0)) return undefined;
  return n;
}

/** strconv.ParseInt(s, base, 64) over a byte string. Throws GoNumError. */
export function parseGoInt(s: string, base: 0 | 10 | 16): bigint {
  if (s === '') throw new GoNumError('ParseInt', s, 'invalid syntax');
  let body = s;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    body = s.slice(1);
  }
  const u = parseDigits(body, base);
  if (u === undefined) throw new GoNumError('ParseInt', s, 'invalid syntax');
  if (u === 'range') throw new GoNumError('ParseInt', s, 'value out of range');
  if (neg ? u > 1n << 63n : u > (1n << 63n) - 1n) throw new GoNumError('ParseInt', s, 'value out of range');
  return neg ? -u : u;
}

/** strconv.ParseUint(s, base, 64) over a byte string (no sign allowed). Throws GoNumError. */
export function parseGoUint(s: string, base: 0 | 10 | 16): bigint {
  const u = parseDigits(s, base);
  if (u === undefined) throw new GoNumError('ParseUint', s, 'invalid syntax');
  if (u === 'range') throw new GoNumError('ParseUint', s, 'value out of range');
  return u;
}

/** strconv.ParseBool. Throws GoNumError. */
export function parseGoBool(s: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw new GoNumError('ParseBool', s, 'invalid syntax');
}
