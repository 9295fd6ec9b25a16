// The pieces of Go's encoding/json (Go 1.19, as in Debian's etcdctl 3.4.23) that `-w json` output
// depends on: HTML-safe string escaping, base64 []byte, and struct fields with `omitempty`. Objects are
// built field by field in Go's struct declaration order, since that order is part of the output.
import { decodeRune } from './byte-string.js';

const HEX = '0123456789abcdef';

/** encodeState.string with escapeHTML = true. Input and output are byte strings. */
export function jsonString(bytes: string): string {
  let out = '"';
  for (let i = 0; i < bytes.length;) {
    const b = bytes.charCodeAt(i);
    if (b < 0x80) {
      const c = bytes[i]!;
      if (c === '\\' || c === '"') out += '\\' + c;
      else if (c === '\n') out += '\\n';
      else if (c === '\r') out += '\\r';
      else if (c === '\t') out += '\\t';
      else if (b < 0x20 || c === '<' || c === '>' || c === '&') out += '\\u00' + HEX[b >> 4]! + HEX[b & 0xf]!;
      else out += c;
      i++;
      continue;
    }
    const d = decodeRune(bytes, i);
    if (!d.valid) out += '\\ufffd';
    else if (d.rune === 0x2028 || d.rune === 0x2029) out += '\\u202' + HEX[d.rune & 0xf]!;
    else out += bytes.slice(i, i + d.size);
    i += d.size;
  }
  return out + '"';
}

/** Builds one JSON object in field order; the `omit*` helpers implement `json:",omitempty"`. */
export class JsonObject {
  private readonly parts: string[] = [];

  /** A field that is always written (no omitempty). `json` is already-encoded JSON. */
  raw(name: string, json: string): this {
    this.parts.push(`${jsonString(name)}:${json}`);
    return this;
  }

  /** An integer field with omitempty (zero omitted). */
  int(name: string, v: bigint | number): this {
    return v === 0n || v === 0 ? this : this.raw(name, v.toString());
  }

  /** A bool field with omitempty. */
  bool(name: string, v: boolean): this {
    return v ? this.raw(name, 'true') : this;
  }

  /** A string field (byte string) with omitempty. */
  str(name: string, bytes: string): this {
    return bytes === '' ? this : this.raw(name, jsonString(bytes));
  }

  /** A []byte field with omitempty: base64 (StdEncoding, padded). */
  bytes(name: string, v: Uint8Array): this {
    return v.length === 0 ? this : this.raw(name, `"${Buffer.from(v).toString('base64')}"`);
  }

  /** A pointer-to-struct field with omitempty (nil omitted). */
  obj(name: string, json: string | undefined): this {
    return json === undefined ? this : this.raw(name, json);
  }

  /** A slice field with omitempty (nil or empty omitted). Elements are already-encoded JSON. */
  list(name: string, items: readonly string[]): this {
    return items.length === 0 ? this : this.raw(name, `[${items.join(',')}]`);
  }

  toString(): string {
    return `{${this.parts.join(',')}}`;
  }
}
