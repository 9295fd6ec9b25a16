// Go strings are byte sequences; etcdctl prints keys, values and arguments byte for byte. cairnctl keeps
// every such string as a "byte string": a JS string whose char codes are the bytes (0..255), i.e. latin1.
// Command-line arguments are converted once at entry (UTF-8 → bytes), response fields once when printed,
// and the output sinks write byte strings back as raw bytes. ASCII text is identical in both forms.

/** UTF-16 text → its UTF-8 bytes as a byte string. */
export function bytesOf(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** Buffer → byte string. */
export function bytesFromBuffer(buf: Uint8Array): string {
  return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('latin1');
}

/** Byte string → Buffer (for requests and output). */
export function bufferOf(bytes: string): Buffer {
  return Buffer.from(bytes, 'latin1');
}

/** Byte string holding UTF-8 → UTF-16 text (invalid sequences become U+FFFD, as Go's range loop does). */
export function textOf(bytes: string): string {
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

export interface DecodedRune {
  /** The code point, or 0xfffd for an invalid byte. */
  rune: number;
  /** Bytes consumed (1 for an invalid byte). */
  size: number;
  /** False when the byte at `i` does not start a valid UTF-8 sequence (Go's RuneError with width 1). */
  valid: boolean;
}

/** utf8.DecodeRuneInString over a byte string, at byte offset `i` (< bytes.length). */
export function decodeRune(bytes: string, i: number): DecodedRune {
  const b0 = bytes.charCodeAt(i);
  if (b0 < 0x80) return { rune: b0, size: 1, valid: true };
  const invalid: DecodedRune = { rune: 0xfffd, size: 1, valid: false };
  const cont = (k: number): number => {
    const b = i + k < bytes.length ? bytes.charCodeAt(i + k) : -1;
    return b >= 0x80 && b <= 0xbf ? b & 0x3f : -1;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    const c1 = cont(1);
    return c1 < 0 ? invalid : { rune: ((b0 & 0x1f) << 6) | c1, size: 2, valid: true };
  }
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const c1 = cont(1);
    const c2 = cont(2);
    if (c1 < 0 || c2 < 0) return invalid;
    const r = ((b0 & 0x0f) << 12) | (c1 << 6) | c2;
    if (r < 0x800 || (r >= 0xd800 && r <= 0xdfff)) return invalid;
    return { rune: r, size: 3, valid: true };
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const c1 = cont(1);
    const c2 = cont(2);
    const c3 = cont(3);
    if (c1 < 0 || c2 < 0 || c3 < 0) return invalid;
    const r = ((b0 & 0x07) << 18) | (c1 << 12) | (c2 << 6) | c3;
    if (r < 0x10000 || r > 0x10ffff) return invalid;
    return { rune: r, size: 4, valid: true };
  }
  return invalid;
}

/** utf8.AppendRune: the UTF-8 encoding of one code point, as a byte string. */
export function encodeRune(rune: number): string {
  return bytesOf(String.fromCodePoint(rune));
}

/** Number of runes (Go's utf8.RuneCountInString). */
export function runeCount(bytes: string): number {
  let n = 0;
  for (let i = 0; i < bytes.length; n++) i += decodeRune(bytes, i).size;
  return n;
}
