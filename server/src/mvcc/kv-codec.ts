import { assert } from '../util/assert.js';

/**
 * A key's state at one revision, as the store holds it. Revisions and versions are JavaScript numbers
 * (checked safe integers); the lease id is a 64-bit id and so a bigint.
 */
export interface KeyValue {
  key: Buffer;
  createRevision: number;
  modRevision: number;
  version: number;
  value: Buffer;
  lease: bigint;
}

/**
 * Values in the backend's key bucket are mvccpb.KeyValue in protobuf wire format, exactly as etcd
 * stores them, so sizes and hashes over the stored bytes are comparable with etcd's:
 *
 *   field 1 key bytes | 2 create_revision int64 | 3 mod_revision int64 | 4 version int64
 *   | 5 value bytes | 6 lease int64          (proto3: zero values are omitted)
 *
 * This codec is hand-written (not the generated one) because the store keeps revisions as numbers.
 */
export function encodeKeyValue(kv: KeyValue): Buffer {
  const size =
    sizeBytesField(kv.key.length) +
    sizeIntField(kv.createRevision) +
    sizeIntField(kv.modRevision) +
    sizeIntField(kv.version) +
    sizeBytesField(kv.value.length) +
    (kv.lease === 0n ? 0 : 1 + varintSizeBig(BigInt.asUintN(64, kv.lease)));
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  if (kv.key.length > 0) {
    out[pos++] = 0x0a;
    pos = writeVarint(out, pos, kv.key.length);
    pos += kv.key.copy(out, pos);
  }
  pos = writeIntField(out, pos, 0x10, kv.createRevision);
  pos = writeIntField(out, pos, 0x18, kv.modRevision);
  pos = writeIntField(out, pos, 0x20, kv.version);
  if (kv.value.length > 0) {
    out[pos++] = 0x2a;
    pos = writeVarint(out, pos, kv.value.length);
    pos += kv.value.copy(out, pos);
  }
  if (kv.lease !== 0n) {
    out[pos++] = 0x30;
    let v = BigInt.asUintN(64, kv.lease);
    while (v >= 0x80n) {
      out[pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    out[pos++] = Number(v);
  }
  assert(pos === size, 'KeyValue encoder size mismatch');
  return out;
}

/** Decodes a stored KeyValue. Throws on malformed input (a corrupt backend). */
export function decodeKeyValue(buf: Uint8Array): KeyValue {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const kv: KeyValue = {
    key: EMPTY,
    createRevision: 0,
    modRevision: 0,
    version: 0,
    value: EMPTY,
    lease: 0n,
  };
  let pos = 0;
  while (pos < b.length) {
    const tag = b[pos++]!;
    const field = tag >> 3;
    const wire = tag & 7;
    if (wire === 2) {
      const [len, p] = readVarint(b, pos);
      pos = p;
      if (pos + len > b.length) throw new Error('mvcc: truncated KeyValue');
      const bytes = b.subarray(pos, pos + len);
      pos += len;
      if (field === 1) kv.key = bytes;
      else if (field === 5) kv.value = bytes;
    } else if (wire === 0) {
      if (field === 6) {
        const [v, p] = readVarintBig(b, pos);
        pos = p;
        kv.lease = BigInt.asIntN(64, v);
        continue;
      }
      const [v, p] = readVarint(b, pos);
      pos = p;
      if (field === 2) kv.createRevision = v;
      else if (field === 3) kv.modRevision = v;
      else if (field === 4) kv.version = v;
    } else {
      throw new Error(`mvcc: unexpected wire type ${wire} in KeyValue`);
    }
  }
  return kv;
}

const EMPTY = Buffer.alloc(0);

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function varintSizeBig(v: bigint): number {
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

function sizeBytesField(len: number): number {
  return len === 0 ? 0 : 1 + varintSize(len) + len;
}

function sizeIntField(v: number): number {
  return v === 0 ? 0 : 1 + varintSize(v);
}

function writeVarint(out: Buffer, pos: number, v: number): number {
  assert(Number.isSafeInteger(v) && v >= 0, `varint out of range: ${v}`);
  while (v >= 0x80) {
    out[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  out[pos++] = v;
  return pos;
}

function writeIntField(out: Buffer, pos: number, tag: number, v: number): number {
  if (v === 0) return pos;
  out[pos++] = tag;
  return writeVarint(out, pos, v);
}

function readVarint(b: Buffer, pos: number): [number, number] {
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 8; i++) {
    if (pos >= b.length) throw new Error('mvcc: truncated varint');
    const byte = b[pos++]!;
    result += (byte & 0x7f) * mul;
    if (byte < 0x80) {
      if (!Number.isSafeInteger(result)) throw new Error('mvcc: varint exceeds safe integer range');
      return [result, pos];
    }
    mul *= 128;
  }
  throw new Error('mvcc: varint exceeds safe integer range');
}

function readVarintBig(b: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= b.length) throw new Error('mvcc: truncated varint');
    const byte = b[pos++]!;
    result |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) return [BigInt.asUintN(64, result), pos];
    shift += 7n;
  }
  throw new Error('mvcc: malformed varint');
}
