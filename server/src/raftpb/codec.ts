import { BinaryReader, BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { assert } from '../util/assert.js';
import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  NONE,
  emptyBytes,
  emptyConfState,
  newEntry,
  newMessage,
  type ConfChange,
  type ConfChangeSingle,
  type ConfChangeV2,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
  type SnapshotMetadata,
} from './types.js';

/**
 * The protobuf wire format of etcd's raftpb (etcd-io/raft raftpb/raft.proto, proto2), so that entries in
 * the WAL, snapshots and peer messages have the same bytes as etcd's.
 *
 * Field numbers (etcd raft.proto):
 *
 *   Entry             Type=1 Term=2 Index=3 Data=4
 *   SnapshotMetadata  conf_state=1 index=2 term=3
 *   Snapshot          data=1 metadata=2
 *   Message           type=1 to=2 from=3 term=4 logTerm=5 index=6 entries=7 commit=8 snapshot=9
 *                     reject=10 rejectHint=11 context=12 (vote=13 responses=14: etcd's local storage
 *                     messages only; never sent between peers, skipped on decode)
 *   HardState         term=1 vote=2 commit=3
 *   ConfState         voters=1 learners=2 voters_outgoing=3 learners_next=4 auto_leave=5
 *   ConfChange        id=1 type=2 node_id=3 context=4
 *   ConfChangeSingle  type=1 node_id=2
 *   ConfChangeV2      transition=1 changes=2 context=3
 *
 * Encoding follows etcd's gogoproto marshaller (non-nullable fields): fields in field-number order, every
 * scalar written even when zero, bytes fields and the optional Message.snapshot only when present
 * (non-empty bytes here; Go writes them when non-nil), repeated uint64 unpacked. The bytes are then
 * identical to etcd 3.4's for the same values (3.4 always writes Message.snapshot; we write it only when
 * set, which 3.5+ also does).
 *
 * Decoding is a trust boundary (bytes from peers and from disk): absent fields take their zero value,
 * unknown fields are skipped, packed and unpacked repeated fields are both accepted, and anything that
 * does not fit our types (a term or index above 2^53-1, an unknown enum value, a wrong wire type,
 * truncated input) throws RaftpbDecodeError. Decoded byte fields are copies: they never alias the input.
 */

export class RaftpbDecodeError extends Error {
  override readonly name = 'RaftpbDecodeError';
}

// ---------------------------------------------------------------------------------------------------
// Encoding

const UINT64_MAX = (1n << 64n) - 1n;

/**
 * Written directly into a buffer of the exact size, not through a BinaryWriter: entries are the hot path
 * (every entry is encoded for the WAL and for each MsgApp), and this is several times faster. The bytes
 * are writeEntry's (the tests compare both, and both with protobufjs).
 */
export function encodeEntry(e: Entry): Uint8Array {
  checkIndex(e.term, 'Entry.term');
  checkIndex(e.index, 'Entry.index');
  const out = new Uint8Array(encodedEntrySize(e));
  out[0] = 0x08; // field 1 (type), varint
  let p = putVarint(out, 1, e.type);
  out[p++] = 0x10; // field 2 (term), varint
  p = putVarint(out, p, e.term);
  out[p++] = 0x18; // field 3 (index), varint
  p = putVarint(out, p, e.index);
  if (e.data.length > 0) {
    out[p++] = 0x22; // field 4 (data), length-delimited
    p = putVarint(out, p, e.data.length);
    out.set(e.data, p);
    p += e.data.length;
  }
  assert(p === out.length, 'raftpb: encodeEntry wrote a different size than encodedEntrySize');
  return out;
}

/** Writes a non-negative safe integer as a varint at `pos`; returns the position after it. */
function putVarint(out: Uint8Array, pos: number, n: number): number {
  let p = pos;
  let v = n;
  // Bounded: a safe integer has at most 53 bits, so at most 8 bytes.
  while (v >= 0x80) {
    out[p++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[p++] = v;
  return p;
}

export function encodeEntries(es: readonly Entry[]): Uint8Array[] {
  return es.map(encodeEntry);
}

export function encodeHardState(hs: HardState): Uint8Array {
  const w = new BinaryWriter();
  writeIndex(w.tag(1, WireType.Varint), hs.term, 'HardState.term');
  writeId(w.tag(2, WireType.Varint), hs.vote, 'HardState.vote');
  writeIndex(w.tag(3, WireType.Varint), hs.commit, 'HardState.commit');
  return w.finish();
}

export function encodeConfState(cs: ConfState): Uint8Array {
  const w = new BinaryWriter();
  writeConfState(w, cs);
  return w.finish();
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  const w = new BinaryWriter();
  writeSnapshot(w, s);
  return w.finish();
}

export function encodeMessage(m: Message): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).uint32(m.type);
  writeId(w.tag(2, WireType.Varint), m.to, 'Message.to');
  writeId(w.tag(3, WireType.Varint), m.from, 'Message.from');
  writeIndex(w.tag(4, WireType.Varint), m.term, 'Message.term');
  writeIndex(w.tag(5, WireType.Varint), m.logTerm, 'Message.logTerm');
  writeIndex(w.tag(6, WireType.Varint), m.index, 'Message.index');
  for (const e of m.entries) {
    w.tag(7, WireType.LengthDelimited).fork();
    writeEntry(w, e);
    w.join();
  }
  writeIndex(w.tag(8, WireType.Varint), m.commit, 'Message.commit');
  if (m.snapshot !== undefined) {
    w.tag(9, WireType.LengthDelimited).fork();
    writeSnapshot(w, m.snapshot);
    w.join();
  }
  w.tag(10, WireType.Varint).bool(m.reject);
  writeIndex(w.tag(11, WireType.Varint), m.rejectHint, 'Message.rejectHint');
  if (m.context.length > 0) w.tag(12, WireType.LengthDelimited).bytes(m.context);
  return w.finish();
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const w = new BinaryWriter();
  writeId(w.tag(1, WireType.Varint), cc.id, 'ConfChange.id');
  w.tag(2, WireType.Varint).uint32(cc.type);
  writeId(w.tag(3, WireType.Varint), cc.nodeId, 'ConfChange.nodeId');
  if (cc.context.length > 0) w.tag(4, WireType.LengthDelimited).bytes(cc.context);
  return w.finish();
}

export function encodeConfChangeV2(cc: ConfChangeV2): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).uint32(cc.transition);
  for (const c of cc.changes) {
    w.tag(2, WireType.LengthDelimited).fork();
    w.tag(1, WireType.Varint).uint32(c.type);
    writeId(w.tag(2, WireType.Varint), c.nodeId, 'ConfChangeSingle.nodeId');
    w.join();
  }
  if (cc.context.length > 0) w.tag(3, WireType.LengthDelimited).bytes(cc.context);
  return w.finish();
}

/** The exact length of encodeEntry(e) (etcd's Entry.Size()), computed without encoding. */
export function encodedEntrySize(e: Entry): number {
  // One byte per tag: every field number is below 16.
  let n = 1 + varintSize(e.type) + 1 + varintSize(e.term) + 1 + varintSize(e.index);
  if (e.data.length > 0) n += 1 + varintSize(e.data.length) + e.data.length;
  return n;
}

/** The number of bytes of a non-negative safe integer as a varint (7 bits per byte). */
function varintSize(n: number): number {
  let size = 1;
  // Bounded: a safe integer has at most 53 bits, so at most 7 more bytes.
  for (let v = n; v >= 0x80 && size < 10; v = Math.floor(v / 0x80)) size++;
  return size;
}

function writeEntry(w: BinaryWriter, e: Entry): void {
  w.tag(1, WireType.Varint).uint32(e.type);
  writeIndex(w.tag(2, WireType.Varint), e.term, 'Entry.term');
  writeIndex(w.tag(3, WireType.Varint), e.index, 'Entry.index');
  if (e.data.length > 0) w.tag(4, WireType.LengthDelimited).bytes(e.data);
}

function writeSnapshot(w: BinaryWriter, s: Snapshot): void {
  if (s.data.length > 0) w.tag(1, WireType.LengthDelimited).bytes(s.data);
  w.tag(2, WireType.LengthDelimited).fork();
  w.tag(1, WireType.LengthDelimited).fork();
  writeConfState(w, s.metadata.confState);
  w.join();
  writeIndex(w.tag(2, WireType.Varint), s.metadata.index, 'SnapshotMetadata.index');
  writeIndex(w.tag(3, WireType.Varint), s.metadata.term, 'SnapshotMetadata.term');
  w.join();
}

function writeConfState(w: BinaryWriter, cs: ConfState): void {
  for (const id of cs.voters) writeId(w.tag(1, WireType.Varint), id, 'ConfState.voters');
  for (const id of cs.learners) writeId(w.tag(2, WireType.Varint), id, 'ConfState.learners');
  for (const id of cs.votersOutgoing) writeId(w.tag(3, WireType.Varint), id, 'ConfState.votersOutgoing');
  for (const id of cs.learnersNext) writeId(w.tag(4, WireType.Varint), id, 'ConfState.learnersNext');
  w.tag(5, WireType.Varint).bool(cs.autoLeave);
}

/** Terms, indexes and commit indexes: the caller's invariant is a non-negative safe integer. */
function checkIndex(n: number, field: string): void {
  assert(
    Number.isSafeInteger(n) && n >= 0,
    `raftpb: ${field} ${String(n)} is not a non-negative safe integer`,
  );
}

function writeIndex(w: BinaryWriter, n: number, field: string): void {
  checkIndex(n, field);
  if (n <= 0xffffffff) w.uint32(n);
  else w.uint64(n);
}

function writeId(w: BinaryWriter, id: bigint, field: string): void {
  assert(id >= 0n && id <= UINT64_MAX, `raftpb: ${field} ${id} does not fit in uint64`);
  w.uint64(id);
}

// ---------------------------------------------------------------------------------------------------
// Decoding

export function decodeEntry(bytes: Uint8Array): Entry {
  return decoding('Entry', () => readEntry(new BinaryReader(bytes)));
}

export function decodeHardState(bytes: Uint8Array): HardState {
  return decoding('HardState', () => {
    const r = new BinaryReader(bytes);
    const hs: HardState = { term: 0, vote: NONE, commit: 0 };
    // Bounded: every iteration consumes at least the tag byte.
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      switch (no) {
        case 1:
          hs.term = readIndex(r, wt, 'HardState.term');
          break;
        case 2:
          hs.vote = readId(r, wt, 'HardState.vote');
          break;
        case 3:
          hs.commit = readIndex(r, wt, 'HardState.commit');
          break;
        default:
          r.skip(wt, no);
      }
    }
    return hs;
  });
}

export function decodeConfState(bytes: Uint8Array): ConfState {
  return decoding('ConfState', () => readConfState(new BinaryReader(bytes)));
}

export function decodeSnapshot(bytes: Uint8Array): Snapshot {
  return decoding('Snapshot', () => readSnapshot(new BinaryReader(bytes)));
}

export function decodeMessage(bytes: Uint8Array): Message {
  return decoding('Message', () => {
    const r = new BinaryReader(bytes);
    const m = newMessage({ type: MessageType.MsgHup });
    // Bounded: every iteration consumes at least the tag byte.
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      switch (no) {
        case 1:
          m.type = readEnum<MessageType>(r, wt, 'Message.type', MessageType);
          break;
        case 2:
          m.to = readId(r, wt, 'Message.to');
          break;
        case 3:
          m.from = readId(r, wt, 'Message.from');
          break;
        case 4:
          m.term = readIndex(r, wt, 'Message.term');
          break;
        case 5:
          m.logTerm = readIndex(r, wt, 'Message.logTerm');
          break;
        case 6:
          m.index = readIndex(r, wt, 'Message.index');
          break;
        case 7:
          m.entries.push(readEntry(readNested(r, wt, 'Message.entries')));
          break;
        case 8:
          m.commit = readIndex(r, wt, 'Message.commit');
          break;
        case 9:
          // proto2 merge semantics would merge repeated occurrences; etcd never repeats it, last wins.
          m.snapshot = readSnapshot(readNested(r, wt, 'Message.snapshot'));
          break;
        case 10:
          m.reject = readBool(r, wt, 'Message.reject');
          break;
        case 11:
          m.rejectHint = readIndex(r, wt, 'Message.rejectHint');
          break;
        case 12:
          m.context = readBytes(r, wt, 'Message.context');
          break;
        default:
          // Includes vote=13 and responses=14 (etcd's local storage-thread messages).
          r.skip(wt, no);
      }
    }
    return m;
  });
}

export function decodeConfChange(bytes: Uint8Array): ConfChange {
  return decoding('ConfChange', () => {
    const r = new BinaryReader(bytes);
    const cc: ConfChange = {
      type: ConfChangeType.ConfChangeAddNode,
      nodeId: NONE,
      context: emptyBytes(),
      id: 0n,
    };
    // Bounded: every iteration consumes at least the tag byte.
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      switch (no) {
        case 1:
          cc.id = readId(r, wt, 'ConfChange.id');
          break;
        case 2:
          cc.type = readEnum<ConfChangeType>(r, wt, 'ConfChange.type', ConfChangeType);
          break;
        case 3:
          cc.nodeId = readId(r, wt, 'ConfChange.nodeId');
          break;
        case 4:
          cc.context = readBytes(r, wt, 'ConfChange.context');
          break;
        default:
          r.skip(wt, no);
      }
    }
    return cc;
  });
}

export function decodeConfChangeV2(bytes: Uint8Array): ConfChangeV2 {
  return decoding('ConfChangeV2', () => {
    const r = new BinaryReader(bytes);
    const cc: ConfChangeV2 = {
      transition: ConfChangeTransition.ConfChangeTransitionAuto,
      changes: [],
      context: emptyBytes(),
    };
    // Bounded: every iteration consumes at least the tag byte.
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      switch (no) {
        case 1:
          cc.transition = readEnum<ConfChangeTransition>(
            r,
            wt,
            'ConfChangeV2.transition',
            ConfChangeTransition,
          );
          break;
        case 2:
          cc.changes.push(readConfChangeSingle(readNested(r, wt, 'ConfChangeV2.changes')));
          break;
        case 3:
          cc.context = readBytes(r, wt, 'ConfChangeV2.context');
          break;
        default:
          r.skip(wt, no);
      }
    }
    return cc;
  });
}

/** Runs a decoder and turns the reader's own errors (premature EOF, bad varint) into RaftpbDecodeError. */
function decoding<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if (err instanceof RaftpbDecodeError) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new RaftpbDecodeError(`raftpb: cannot decode ${what}: ${detail}`);
  }
}

function readEntry(r: BinaryReader): Entry {
  const e = newEntry({});
  // Bounded: every iteration consumes at least the tag byte.
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    switch (no) {
      case 1:
        e.type = readEnum<EntryType>(r, wt, 'Entry.type', EntryType);
        break;
      case 2:
        e.term = readIndex(r, wt, 'Entry.term');
        break;
      case 3:
        e.index = readIndex(r, wt, 'Entry.index');
        break;
      case 4:
        e.data = readBytes(r, wt, 'Entry.data');
        break;
      default:
        r.skip(wt, no);
    }
  }
  return e;
}

function readSnapshot(r: BinaryReader): Snapshot {
  const s: Snapshot = { data: emptyBytes(), metadata: { confState: emptyConfState(), index: 0, term: 0 } };
  // Bounded: every iteration consumes at least the tag byte.
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    switch (no) {
      case 1:
        s.data = readBytes(r, wt, 'Snapshot.data');
        break;
      case 2:
        s.metadata = readSnapshotMetadata(readNested(r, wt, 'Snapshot.metadata'));
        break;
      default:
        r.skip(wt, no);
    }
  }
  return s;
}

function readSnapshotMetadata(r: BinaryReader): SnapshotMetadata {
  const md: SnapshotMetadata = { confState: emptyConfState(), index: 0, term: 0 };
  // Bounded: every iteration consumes at least the tag byte.
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    switch (no) {
      case 1:
        md.confState = readConfState(readNested(r, wt, 'SnapshotMetadata.confState'));
        break;
      case 2:
        md.index = readIndex(r, wt, 'SnapshotMetadata.index');
        break;
      case 3:
        md.term = readIndex(r, wt, 'SnapshotMetadata.term');
        break;
      default:
        r.skip(wt, no);
    }
  }
  return md;
}

function readConfState(r: BinaryReader): ConfState {
  const cs = emptyConfState();
  // Bounded: every iteration consumes at least the tag byte.
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    switch (no) {
      case 1:
        readIds(r, wt, 'ConfState.voters', cs.voters);
        break;
      case 2:
        readIds(r, wt, 'ConfState.learners', cs.learners);
        break;
      case 3:
        readIds(r, wt, 'ConfState.votersOutgoing', cs.votersOutgoing);
        break;
      case 4:
        readIds(r, wt, 'ConfState.learnersNext', cs.learnersNext);
        break;
      case 5:
        cs.autoLeave = readBool(r, wt, 'ConfState.autoLeave');
        break;
      default:
        r.skip(wt, no);
    }
  }
  return cs;
}

function readConfChangeSingle(r: BinaryReader): ConfChangeSingle {
  const c: ConfChangeSingle = { type: ConfChangeType.ConfChangeAddNode, nodeId: 0n };
  // Bounded: every iteration consumes at least the tag byte.
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    switch (no) {
      case 1:
        c.type = readEnum<ConfChangeType>(r, wt, 'ConfChangeSingle.type', ConfChangeType);
        break;
      case 2:
        c.nodeId = readId(r, wt, 'ConfChangeSingle.nodeId');
        break;
      default:
        r.skip(wt, no);
    }
  }
  return c;
}

function expectWireType(got: WireType, want: WireType, field: string): void {
  if (got !== want) {
    throw new RaftpbDecodeError(`raftpb: ${field} has wire type ${got}, want ${want}`);
  }
}

function readUint64(r: BinaryReader): bigint {
  const v = r.uint64();
  return typeof v === 'bigint' ? v : BigInt(v);
}

function readIndex(r: BinaryReader, wt: WireType, field: string): number {
  expectWireType(wt, WireType.Varint, field);
  const v = readUint64(r);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RaftpbDecodeError(`raftpb: ${field} ${v} is above the largest safe integer 2^53-1`);
  }
  return Number(v);
}

function readId(r: BinaryReader, wt: WireType, field: string): bigint {
  expectWireType(wt, WireType.Varint, field);
  return readUint64(r);
}

/** A repeated uint64, written unpacked by etcd; packed is accepted too, as protobuf parsers must. */
function readIds(r: BinaryReader, wt: WireType, field: string, into: bigint[]): void {
  if (wt === WireType.LengthDelimited) {
    const packed = new BinaryReader(r.bytes());
    // Bounded: every iteration consumes at least one byte.
    while (packed.pos < packed.len) into.push(readUint64(packed));
    return;
  }
  into.push(readId(r, wt, field));
}

function readBool(r: BinaryReader, wt: WireType, field: string): boolean {
  expectWireType(wt, WireType.Varint, field);
  return r.bool();
}

function readBytes(r: BinaryReader, wt: WireType, field: string): Uint8Array {
  expectWireType(wt, WireType.LengthDelimited, field);
  const b = r.bytes();
  // Not b.slice(): for a Node Buffer input, Buffer#slice returns a view, not a copy.
  return b.length === 0 ? emptyBytes() : new Uint8Array(b);
}

/** A reader over exactly the bytes of an embedded message, so it cannot read past them. */
function readNested(r: BinaryReader, wt: WireType, field: string): BinaryReader {
  expectWireType(wt, WireType.LengthDelimited, field);
  return new BinaryReader(r.bytes());
}

/** An enum value that must be one of ours: an unknown one cannot be handled, so it is an error. */
function readEnum<E extends number>(
  r: BinaryReader,
  wt: WireType,
  field: string,
  values: Record<string, string | number>,
): E {
  expectWireType(wt, WireType.Varint, field);
  const v = readUint64(r);
  const n = Number(v);
  if (v > 0xffn || typeof values[n] !== 'string') {
    throw new RaftpbDecodeError(`raftpb: ${field} ${v} is not a known value`);
  }
  return n as E;
}
