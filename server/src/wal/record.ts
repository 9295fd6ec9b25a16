import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { decodeConfState, encodeConfState } from '../raftpb/codec.js';
import type { ConfState } from '../raftpb/types.js';
import { assert } from '../util/assert.js';
import { crc32c } from '../util/crc32c.js';

/**
 * WAL records in etcd's byte format (etcd server/storage/wal: encoder.go, decoder.go, walpb/record.proto),
 * so a segment written here has the same bytes as etcd's for the same records.
 *
 * A frame is an 8-byte little-endian length field, the Record protobuf, and zero padding up to the next
 * multiple of 8 (so a length field never straddles a sector and is never torn):
 *
 *   byte  0         1   2   3   4   5   6            7
 *        +-----------------------------------------+---------------+
 *        | record length, low 56 bits (LE)         | 0 (no padding) |  or 0x80 | padBytes (1..7)
 *        +-----------------------------------------+---------------+
 *        | Record protobuf (length bytes)                         ...
 *        | ...                          | padBytes zero bytes      |  → next frame starts 8-aligned
 *
 *   Record (proto2)   type=1 int64   crc=2 uint32   data=3 bytes      fields written in this order;
 *                                                                    data absent in crc records
 *   walpb.Snapshot    index=1 uint64  term=2 uint64  conf_state=3 raftpb.ConfState (when known)
 *
 * `crc` is CRC-32C over the `data` of every record so far, chained across segments: each record's crc is
 * crc32c(data, previous crc). A crc record carries the running CRC into a new segment (its own crc field
 * is that value; it has no data and does not change the CRC).
 */

export enum RecordType {
  /** Opaque application bytes, first after the crc record of every segment (node id + cluster id). */
  Metadata = 1,
  /** A raftpb Entry. */
  Entry = 2,
  /** A raftpb HardState; the last one read wins. */
  State = 3,
  /** The running CRC carried into a segment; first record of every segment. */
  Crc = 4,
  /** A walpb Snapshot: the log was compacted behind this index. */
  Snapshot = 5,
}

/** Bytes of the length field in front of every record. */
export const FRAME_HEADER_BYTES = 8;
/**
 * The unit of a torn write: a disk persists a sector entirely or not at all, so a write cut short by a
 * crash leaves whole sectors of the preallocated zeros inside a record (etcd: minSectorSize).
 */
export const SECTOR_BYTES = 512;

export interface WalRecord {
  readonly type: RecordType;
  readonly crc: number;
  readonly data: Uint8Array;
}

/** The snapshot marker in the WAL (etcd walpb.Snapshot). */
export interface WalSnapshot {
  readonly index: number;
  readonly term: number;
  /** The membership at the snapshot; etcd ≥ 3.5 requires it for every snapshot but the initial {0, 0}. */
  readonly confState?: ConfState;
}

/** The zero padding that makes a record of `recordBytes` end 8-aligned. */
export function padBytes(recordBytes: number): number {
  return (8 - (recordBytes % 8)) % 8;
}

/** The length field's top byte for a record of `recordBytes`: 0, or 0x80 | padBytes. */
function lengthTopByte(recordBytes: number): number {
  const pad = padBytes(recordBytes);
  return pad === 0 ? 0 : 0x80 | pad;
}

/**
 * The record length a length field encodes, or undefined when the field is not one a writer produces
 * (padding flag inconsistent with the length, reserved bits set, zero length).
 */
export function decodeLengthField(
  lo: number,
  hi: number,
): { recordBytes: number; padBytes: number } | undefined {
  const recordBytes = lo + (hi & 0xffffff) * 0x1_0000_0000;
  if (recordBytes === 0 || hi >>> 24 !== lengthTopByte(recordBytes)) return undefined;
  return { recordBytes, padBytes: padBytes(recordBytes) };
}

function varintBytes(n: number): number {
  let size = 1;
  // Bounded: n is a uint32 here, at most 5 bytes.
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) size++;
  return size;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  let v = n;
  // Bounded: n is a uint32 here, at most 5 bytes.
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[pos++] = v;
  return pos;
}

/** The size of the Record protobuf: type (1-byte varint), crc, and data unless this is a crc record. */
function recordBytes(type: RecordType, crc: number, data: Uint8Array): number {
  let n = 2 + 1 + varintBytes(crc);
  if (type !== RecordType.Crc) n += 1 + varintBytes(data.length) + data.length;
  return n;
}

/**
 * Builds the frames of consecutive records into one buffer, chaining the CRC: the bytes of one save()
 * become one write. `crc` is the running CRC after the last record added.
 */
export class RecordEncoder {
  private readonly records: WalRecord[] = [];
  private size = 0;

  constructor(
    /** Invariant: the CRC-32C chain over the data of every record before, this segment and earlier ones. */
    public crc: number,
  ) {
    assert(Number.isInteger(crc) && crc >= 0 && crc <= 0xffffffff, `wal: crc ${crc} is not a uint32`);
  }

  add(type: RecordType, data: Uint8Array): void {
    // A crc record restates the running CRC; it has no data and leaves the CRC as it is.
    if (type === RecordType.Crc) assert(data.length === 0, 'wal: a crc record carries no data');
    else this.crc = crc32c(data, this.crc);
    const rec: WalRecord = { type, crc: this.crc, data };
    this.records.push(rec);
    const n = recordBytes(type, rec.crc, data);
    this.size += FRAME_HEADER_BYTES + n + padBytes(n);
  }

  get byteLength(): number {
    return this.size;
  }

  /** The frames added since the last take(), as one buffer; the encoder is then empty (CRC kept). */
  take(): Buffer {
    const buf = Buffer.alloc(this.size);
    let pos = 0;
    for (const rec of this.records) pos = writeFrame(buf, pos, rec);
    assert(pos === buf.length, 'wal: encoded size differs from the computed size');
    this.records.length = 0;
    this.size = 0;
    return buf;
  }
}

function writeFrame(buf: Buffer, pos: number, rec: WalRecord): number {
  const n = recordBytes(rec.type, rec.crc, rec.data);
  buf.writeUInt32LE(n % 0x1_0000_0000, pos);
  buf.writeUInt32LE(((lengthTopByte(n) << 24) | Math.floor(n / 0x1_0000_0000)) >>> 0, pos + 4);
  let p = pos + FRAME_HEADER_BYTES;
  buf[p++] = 0x08; // field 1, varint
  buf[p++] = rec.type;
  buf[p++] = 0x10; // field 2, varint
  p = writeVarint(buf, p, rec.crc);
  if (rec.type !== RecordType.Crc) {
    buf[p++] = 0x1a; // field 3, length-delimited
    p = writeVarint(buf, p, rec.data.length);
    buf.set(rec.data, p);
    p += rec.data.length;
  }
  // Padding: Buffer.alloc zero-filled it.
  return p + padBytes(n);
}

/**
 * Parses a Record protobuf strictly: only fields 1-3 with their wire types, a crc that fits in 32 bits,
 * a known type. Returns a reason instead of a record when the bytes are not a record we write; data is a
 * view into `bytes`.
 */
export function parseRecord(bytes: Uint8Array): WalRecord | string {
  let type: number | undefined;
  let crc = 0;
  let data: Uint8Array = bytes.subarray(0, 0);
  let pos = 0;
  const varint = (): number | undefined => {
    let v = 0;
    // Bounded: at most 8 bytes are read (7 bits each, 56 bits, beyond any value we accept).
    for (let shift = 0; shift < 56; shift += 7) {
      if (pos >= bytes.length) return undefined;
      const b = bytes[pos++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
    return undefined;
  };
  // Bounded: every iteration consumes at least one byte or returns.
  while (pos < bytes.length) {
    const tag = bytes[pos++]!;
    switch (tag) {
      case 0x08: {
        const v = varint();
        if (v === undefined || v < (RecordType.Metadata as number) || v > (RecordType.Snapshot as number)) {
          return `record type ${v === undefined ? 'unreadable' : String(v)}`;
        }
        type = v;
        break;
      }
      case 0x10: {
        const v = varint();
        if (v === undefined || v > 0xffffffff) return 'record crc unreadable';
        crc = v;
        break;
      }
      case 0x1a: {
        const len = varint();
        if (len === undefined || len > bytes.length - pos) return 'record data length past the record';
        data = bytes.subarray(pos, pos + len);
        pos += len;
        break;
      }
      default:
        return `unexpected protobuf tag 0x${tag.toString(16)}`;
    }
  }
  if (type === undefined) return 'record without a type';
  return { type, crc, data };
}

/** etcd walpb.Snapshot: index and term always (proto2 optional, set), conf_state when known. */
export function encodeWalSnapshot(s: WalSnapshot): Uint8Array {
  assert(
    Number.isSafeInteger(s.index) && s.index >= 0 && Number.isSafeInteger(s.term) && s.term >= 0,
    `wal: snapshot index ${s.index} / term ${s.term} must be non-negative safe integers`,
  );
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).uint64(s.index);
  w.tag(2, WireType.Varint).uint64(s.term);
  if (s.confState !== undefined) w.tag(3, WireType.LengthDelimited).bytes(encodeConfState(s.confState));
  return w.finish();
}

/** Throws on bytes that are not a walpb.Snapshot (the caller turns that into a WalError). */
export function decodeWalSnapshot(bytes: Uint8Array): WalSnapshot {
  const r = new BinaryReader(bytes);
  let index = 0;
  let term = 0;
  let confState: ConfState | undefined;
  const u64 = (): number => {
    const v = BigInt(r.uint64());
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`value ${v} is above 2^53-1`);
    return Number(v);
  };
  // Bounded: every iteration consumes at least the tag byte.
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1 && wt === WireType.Varint) index = u64();
    else if (no === 2 && wt === WireType.Varint) term = u64();
    else if (no === 3 && wt === WireType.LengthDelimited) confState = decodeConfState(r.bytes());
    else r.skip(wt, no);
  }
  return confState === undefined ? { index, term } : { index, term, confState };
}
