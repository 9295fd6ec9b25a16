import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import {
  RaftpbDecodeError,
  decodeConfChange,
  decodeConfChangeV2,
  decodeConfState,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshot,
  encodeConfChange,
  encodeConfChangeV2,
  encodeConfState,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshot,
  encodedEntrySize,
} from '../../../server/src/raftpb/codec.js';
import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  emptyBytes,
  emptyConfState,
  newEntry,
  newMessage,
  type ConfChange,
  type ConfChangeV2,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
} from '../../../server/src/raftpb/types.js';

// etcd-io/raft raftpb/raft.proto (the gogoproto options dropped; they do not change the wire format),
// restricted to the messages Cairn encodes. Same field numbers and types as etcd.
const RAFT_PROTO = `
syntax = "proto2";
package raftpb;

enum EntryType { EntryNormal = 0; EntryConfChange = 1; EntryConfChangeV2 = 2; }

message Entry {
  optional uint64    Term  = 2;
  optional uint64    Index = 3;
  optional EntryType Type  = 1;
  optional bytes     Data  = 4;
}

message SnapshotMetadata {
  optional ConfState conf_state = 1;
  optional uint64    index      = 2;
  optional uint64    term       = 3;
}

message Snapshot {
  optional bytes            data     = 1;
  optional SnapshotMetadata metadata = 2;
}

enum MessageType {
  MsgHup = 0; MsgBeat = 1; MsgProp = 2; MsgApp = 3; MsgAppResp = 4; MsgVote = 5; MsgVoteResp = 6;
  MsgSnap = 7; MsgHeartbeat = 8; MsgHeartbeatResp = 9; MsgUnreachable = 10; MsgSnapStatus = 11;
  MsgCheckQuorum = 12; MsgTransferLeader = 13; MsgTimeoutNow = 14; MsgReadIndex = 15;
  MsgReadIndexResp = 16; MsgPreVote = 17; MsgPreVoteResp = 18; MsgStorageAppend = 19;
  MsgStorageAppendResp = 20; MsgStorageApply = 21; MsgStorageApplyResp = 22; MsgForgetLeader = 23;
}

message Message {
  optional MessageType type       = 1;
  optional uint64      to         = 2;
  optional uint64      from       = 3;
  optional uint64      term       = 4;
  optional uint64      logTerm    = 5;
  optional uint64      index      = 6;
  repeated Entry       entries    = 7;
  optional uint64      commit     = 8;
  optional uint64      vote       = 13;
  optional Snapshot    snapshot   = 9;
  optional bool        reject     = 10;
  optional uint64      rejectHint = 11;
  optional bytes       context    = 12;
  repeated Message     responses  = 14;
}

message HardState {
  optional uint64 term   = 1;
  optional uint64 vote   = 2;
  optional uint64 commit = 3;
}

enum ConfChangeTransition {
  ConfChangeTransitionAuto = 0; ConfChangeTransitionJointImplicit = 1; ConfChangeTransitionJointExplicit = 2;
}

message ConfState {
  repeated uint64 voters          = 1;
  repeated uint64 learners        = 2;
  repeated uint64 voters_outgoing = 3;
  repeated uint64 learners_next   = 4;
  optional bool   auto_leave      = 5;
}

enum ConfChangeType {
  ConfChangeAddNode = 0; ConfChangeRemoveNode = 1; ConfChangeUpdateNode = 2; ConfChangeAddLearnerNode = 3;
}

message ConfChange {
  optional ConfChangeType type    = 2;
  optional uint64         node_id = 3;
  optional bytes          context = 4;
  optional uint64         id      = 1;
}

message ConfChangeSingle {
  optional ConfChangeType type    = 1;
  optional uint64         node_id = 2;
}

message ConfChangeV2 {
  optional ConfChangeTransition transition = 1;
  repeated ConfChangeSingle     changes    = 2;
  optional bytes                context    = 3;
}
`;

const root = protobuf.parse(RAFT_PROTO, { keepCase: true }).root;
const pbType = (name: string): protobuf.Type => root.lookupType(`raftpb.${name}`);

/** protobufjs's view of some bytes: uint64 as decimal strings, enums as numbers, bytes as Buffers. */
function pbDecode(name: string, bytes: Uint8Array): Record<string, unknown> {
  const t = pbType(name);
  return t.toObject(t.decode(bytes), { longs: String, enums: Number, bytes: Buffer, defaults: false });
}

function pbEncode(name: string, obj: Record<string, unknown>): Uint8Array {
  const t = pbType(name);
  // fromObject ignores unknown keys: make sure the test does not misspell a field.
  for (const key of Object.keys(obj)) assert.ok(key in t.fields, `${name} has no field ${key}`);
  return t.encode(t.fromObject(obj)).finish();
}

const MAX_ID = (1n << 64n) - 1n;
const MAX = Number.MAX_SAFE_INTEGER;
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

function sampleConfState(): ConfState {
  return {
    voters: [1n, 2n, MAX_ID],
    learners: [4n],
    votersOutgoing: [1n, 5n],
    learnersNext: [5n],
    autoLeave: true,
  };
}

function sampleSnapshot(): Snapshot {
  return { data: bytes('snapshot-data'), metadata: { confState: sampleConfState(), index: MAX, term: 7 } };
}

function sampleEntries(): Entry[] {
  return [
    newEntry({}),
    newEntry({ term: 1, index: 1, data: bytes('x') }),
    newEntry({
      term: MAX,
      index: MAX,
      type: EntryType.EntryConfChangeV2,
      data: new Uint8Array(70_000).fill(7),
    }),
    newEntry({
      term: 2 ** 32,
      index: 2 ** 32 - 1,
      type: EntryType.EntryConfChange,
      data: new Uint8Array([0]),
    }),
  ];
}

function sampleMessages(): Message[] {
  const many: Entry[] = [];
  for (let i = 1; i <= 1000; i++) many.push(newEntry({ term: 3, index: 100 + i, data: bytes(`put k${i}`) }));
  return [
    newMessage({ type: MessageType.MsgHup }),
    newMessage({
      type: MessageType.MsgApp,
      to: 2n,
      from: 1n,
      term: 3,
      logTerm: 3,
      index: 100,
      entries: many,
      commit: 99,
    }),
    newMessage({
      type: MessageType.MsgAppResp,
      to: MAX_ID,
      from: MAX_ID - 1n,
      term: MAX,
      index: MAX,
      reject: true,
      rejectHint: MAX,
      logTerm: MAX,
    }),
    newMessage({ type: MessageType.MsgSnap, to: 3n, from: 1n, term: 2, snapshot: sampleSnapshot() }),
    newMessage({
      type: MessageType.MsgHeartbeat,
      to: 2n,
      from: 1n,
      term: 2,
      commit: 5,
      context: bytes('rctx'),
    }),
    newMessage({ type: MessageType.MsgPreVoteResp, to: 1n, from: 2n, term: 9 }),
    newMessage({
      type: MessageType.MsgSnap,
      snapshot: { data: emptyBytes(), metadata: { confState: emptyConfState(), index: 0, term: 0 } },
    }),
  ];
}

const hardStates: HardState[] = [
  { term: 0, vote: 0n, commit: 0 },
  { term: 5, vote: 3n, commit: 4 },
  { term: MAX, vote: MAX_ID, commit: MAX },
];

const confChanges: ConfChange[] = [
  { type: ConfChangeType.ConfChangeAddNode, nodeId: 0n, context: emptyBytes(), id: 0n },
  { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: MAX_ID, context: bytes('peer-urls'), id: MAX_ID },
  { type: ConfChangeType.ConfChangeRemoveNode, nodeId: 0x8e9e05c52164694dn, context: emptyBytes(), id: 42n },
];

const confChangesV2: ConfChangeV2[] = [
  { transition: ConfChangeTransition.ConfChangeTransitionAuto, changes: [], context: emptyBytes() },
  {
    transition: ConfChangeTransition.ConfChangeTransitionJointExplicit,
    changes: [
      { type: ConfChangeType.ConfChangeAddNode, nodeId: 4n },
      { type: ConfChangeType.ConfChangeRemoveNode, nodeId: 1n },
      { type: ConfChangeType.ConfChangeUpdateNode, nodeId: MAX_ID },
      { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 0n },
    ],
    context: bytes('ctx'),
  },
];

describe('raftpb codec: round trips', () => {
  it('Entry', () => {
    for (const e of sampleEntries()) assert.deepEqual(decodeEntry(encodeEntry(e)), e);
  });

  it('HardState', () => {
    for (const hs of hardStates) assert.deepEqual(decodeHardState(encodeHardState(hs)), hs);
  });

  it('ConfState', () => {
    for (const cs of [emptyConfState(), sampleConfState()]) {
      assert.deepEqual(decodeConfState(encodeConfState(cs)), cs);
    }
  });

  it('Snapshot', () => {
    const empty: Snapshot = {
      data: emptyBytes(),
      metadata: { confState: emptyConfState(), index: 0, term: 0 },
    };
    for (const s of [empty, sampleSnapshot()]) assert.deepEqual(decodeSnapshot(encodeSnapshot(s)), s);
  });

  it('Message, including many entries and a nested snapshot', () => {
    for (const m of sampleMessages()) assert.deepEqual(decodeMessage(encodeMessage(m)), m);
  });

  it('ConfChange and ConfChangeV2', () => {
    for (const cc of confChanges) assert.deepEqual(decodeConfChange(encodeConfChange(cc)), cc);
    for (const cc of confChangesV2) assert.deepEqual(decodeConfChangeV2(encodeConfChangeV2(cc)), cc);
  });

  it('every enum value survives', () => {
    for (let t = MessageType.MsgHup; t <= MessageType.MsgPreVoteResp; t++) {
      assert.equal(decodeMessage(encodeMessage(newMessage({ type: t }))).type, t);
    }
    for (const t of [EntryType.EntryNormal, EntryType.EntryConfChange, EntryType.EntryConfChangeV2]) {
      assert.equal(decodeEntry(encodeEntry(newEntry({ type: t }))).type, t);
    }
  });

  it('decoded bytes are copies, not views of the input', () => {
    const buf = encodeEntry(newEntry({ term: 1, index: 1, data: bytes('abc') }));
    const e = decodeEntry(buf);
    buf.fill(0);
    assert.deepEqual(e.data, bytes('abc'));
    // Node Buffers too (Buffer#slice would return a view), and the result is a plain Uint8Array.
    const nodeBuf = Buffer.from(
      encodeMessage(newMessage({ type: MessageType.MsgProp, context: bytes('ctx') })),
    );
    const m = decodeMessage(nodeBuf);
    nodeBuf.fill(0);
    assert.deepEqual(m.context, bytes('ctx'));
    assert.equal(Object.getPrototypeOf(m.context), Uint8Array.prototype);
  });
});

describe('raftpb codec: the bytes etcd writes', () => {
  it('Entry is written in field order with zero scalars present and empty data absent', () => {
    // gogoproto's marshaller for a non-nullable Entry: Type, Term, Index always; Data when non-nil.
    assert.deepEqual(
      encodeEntry(newEntry({ term: 1, index: 2, data: bytes('x') })),
      new Uint8Array([0x08, 0x00, 0x10, 0x01, 0x18, 0x02, 0x22, 0x01, 0x78]),
    );
    assert.deepEqual(encodeEntry(newEntry({})), new Uint8Array([0x08, 0x00, 0x10, 0x00, 0x18, 0x00]));
  });

  it('HardState always carries all three fields', () => {
    assert.deepEqual(
      encodeHardState({ term: 0, vote: 0n, commit: 0 }),
      new Uint8Array([0x08, 0x00, 0x10, 0x00, 0x18, 0x00]),
    );
  });

  it('Message without snapshot or context: the twelve-field etcd 3.4 layout', () => {
    const m = newMessage({ type: MessageType.MsgHeartbeat, to: 2n, from: 1n, term: 3, commit: 4 });
    assert.deepEqual(
      encodeMessage(m),
      new Uint8Array([
        0x08, 0x08, 0x10, 0x02, 0x18, 0x01, 0x20, 0x03, 0x28, 0x00, 0x30, 0x00, 0x40, 0x04, 0x50, 0x00, 0x58,
        0x00,
      ]),
    );
  });

  it('encodedEntrySize is the exact encoded length', () => {
    const entries = [
      ...sampleEntries(),
      newEntry({ term: 127, index: 128, data: new Uint8Array(127) }),
      newEntry({ term: 16383, index: 16384, data: new Uint8Array(128) }),
      newEntry({ term: 2 ** 35, index: 2 ** 49, data: new Uint8Array(16384) }),
    ];
    for (const e of entries) assert.equal(encodedEntrySize(e), encodeEntry(e).length);
  });

  it('encodeEntry (hand-written) writes the bytes protobufjs writes', () => {
    const entries = [
      ...sampleEntries(),
      newEntry({ term: 127, index: 128, data: new Uint8Array(127).fill(1) }),
      newEntry({ term: 2 ** 35, index: 2 ** 49 + 3, data: new Uint8Array(16384).fill(2) }),
    ];
    for (const e of entries) {
      const pb = pbEncode('Entry', {
        Type: e.type,
        Term: String(e.term),
        Index: String(e.index),
        ...(e.data.length > 0 ? { Data: Buffer.from(e.data) } : {}),
      });
      assert.deepEqual(encodeEntry(e), new Uint8Array(pb));
    }
    assert.throws(
      () => encodeEntry(newEntry({ index: -1 })),
      /Entry.index -1 is not a non-negative safe integer/,
    );
    assert.throws(() => encodeEntry(newEntry({ term: 2 ** 53 })), /Entry.term/);
  });
});

describe('raftpb codec: wire compatibility with etcd raft.proto (protobufjs)', () => {
  const ids = (xs: bigint[]): string[] => xs.map(String);

  it('Entry both ways', () => {
    for (const e of sampleEntries()) {
      const obj = pbDecode('Entry', encodeEntry(e));
      assert.equal(obj.Term, String(e.term));
      assert.equal(obj.Index, String(e.index));
      assert.equal(obj.Type, e.type);
      assert.deepEqual(new Uint8Array((obj.Data as Buffer | undefined) ?? []), e.data);
    }
    const fromPb = decodeEntry(
      pbEncode('Entry', { Term: '9007199254740991', Index: '17', Type: 2, Data: Buffer.from('zz') }),
    );
    assert.deepEqual(
      fromPb,
      newEntry({ term: MAX, index: 17, type: EntryType.EntryConfChangeV2, data: bytes('zz') }),
    );
    // protobufjs leaves unset proto2 fields out entirely: absent fields decode as zero.
    assert.deepEqual(decodeEntry(pbEncode('Entry', {})), newEntry({}));
  });

  it('HardState both ways', () => {
    for (const hs of hardStates) {
      assert.deepEqual(pbDecode('HardState', encodeHardState(hs)), {
        term: String(hs.term),
        vote: String(hs.vote),
        commit: String(hs.commit),
      });
      assert.deepEqual(
        decodeHardState(
          pbEncode('HardState', { term: String(hs.term), vote: String(hs.vote), commit: String(hs.commit) }),
        ),
        hs,
      );
    }
    assert.deepEqual(decodeHardState(pbEncode('HardState', { vote: '3' })), { term: 0, vote: 3n, commit: 0 });
  });

  it('ConfState and Snapshot both ways', () => {
    const s = sampleSnapshot();
    const obj = pbDecode('Snapshot', encodeSnapshot(s));
    assert.deepEqual(new Uint8Array(obj.data as Buffer), s.data);
    const md = obj.metadata as Record<string, unknown>;
    assert.equal(md.index, String(s.metadata.index));
    assert.equal(md.term, String(s.metadata.term));
    const cs = md.conf_state as Record<string, unknown>;
    const want = s.metadata.confState;
    assert.deepEqual(cs.voters, ids(want.voters));
    assert.deepEqual(cs.learners, ids(want.learners));
    assert.deepEqual(cs.voters_outgoing, ids(want.votersOutgoing));
    assert.deepEqual(cs.learners_next, ids(want.learnersNext));
    assert.equal(cs.auto_leave, true);

    const back = decodeSnapshot(
      pbEncode('Snapshot', {
        data: Buffer.from('snapshot-data'),
        metadata: {
          index: String(MAX),
          term: '7',
          conf_state: {
            voters: ids(want.voters),
            learners: ids(want.learners),
            voters_outgoing: ids(want.votersOutgoing),
            learners_next: ids(want.learnersNext),
            auto_leave: true,
          },
        },
      }),
    );
    assert.deepEqual(back, s);
  });

  it('ConfState: packed repeated ids are accepted too', () => {
    const packedRoot = protobuf.parse(
      'syntax = "proto2"; message CS { repeated uint64 voters = 1 [packed = true]; repeated uint64 learners = 2 [packed = true]; }',
    ).root;
    const CS = packedRoot.lookupType('CS');
    const buf = CS.encode(CS.fromObject({ voters: ['1', '2', MAX_ID.toString()], learners: ['9'] })).finish();
    assert.equal(buf[0], (1 << 3) | 2, 'the test must produce a packed field');
    const cs = decodeConfState(buf);
    assert.deepEqual(cs.voters, [1n, 2n, MAX_ID]);
    assert.deepEqual(cs.learners, [9n]);
  });

  it('Message both ways, with entries and snapshot', () => {
    for (const m of sampleMessages()) {
      const obj = pbDecode('Message', encodeMessage(m));
      assert.equal(obj.type ?? 0, m.type);
      assert.equal(obj.to, String(m.to));
      assert.equal(obj.from, String(m.from));
      assert.equal(obj.term, String(m.term));
      assert.equal(obj.logTerm, String(m.logTerm));
      assert.equal(obj.index, String(m.index));
      assert.equal(obj.commit, String(m.commit));
      assert.equal(obj.reject, m.reject);
      assert.equal(obj.rejectHint, String(m.rejectHint));
      assert.deepEqual(new Uint8Array((obj.context as Buffer | undefined) ?? []), m.context);
      const entries = (obj.entries as Record<string, unknown>[] | undefined) ?? [];
      assert.equal(entries.length, m.entries.length);
      entries.forEach((e, i) => assert.equal(e.Index, String(m.entries[i]?.index)));
      assert.equal(obj.snapshot !== undefined, m.snapshot !== undefined);
      if (m.snapshot !== undefined) {
        const md = (obj.snapshot as Record<string, unknown>).metadata as Record<string, unknown>;
        assert.equal(md.index, String(m.snapshot.metadata.index));
      }
    }

    const fromPb = decodeMessage(
      pbEncode('Message', {
        type: MessageType.MsgApp,
        to: '18446744073709551615',
        from: '1',
        term: '2',
        logTerm: '2',
        index: '10',
        entries: [
          { Term: '2', Index: '11', Type: 0, Data: Buffer.from('a') },
          { Term: '2', Index: '12', Type: 1 },
        ],
        commit: '10',
        snapshot: { metadata: { index: '4', term: '1', conf_state: { voters: ['1', '2'] } } },
        reject: true,
        rejectHint: '9',
        context: Buffer.from('c'),
      }),
    );
    assert.deepEqual(
      fromPb,
      newMessage({
        type: MessageType.MsgApp,
        to: MAX_ID,
        from: 1n,
        term: 2,
        logTerm: 2,
        index: 10,
        entries: [
          newEntry({ term: 2, index: 11, data: bytes('a') }),
          newEntry({ term: 2, index: 12, type: EntryType.EntryConfChange }),
        ],
        commit: 10,
        snapshot: {
          data: emptyBytes(),
          metadata: { index: 4, term: 1, confState: { ...emptyConfState(), voters: [1n, 2n] } },
        },
        reject: true,
        rejectHint: 9,
        context: bytes('c'),
      }),
    );
  });

  it('Message: etcd-only fields (vote, responses) and unknown fields are skipped', () => {
    const withExtras = pbEncode('Message', {
      type: MessageType.MsgVote,
      to: '2',
      from: '1',
      term: '5',
      vote: '7',
      responses: [{ type: MessageType.MsgAppResp, to: '3', term: '4' }],
    });
    // An unknown length-delimited field 99 and an unknown fixed64 field 100 appended by hand.
    const unknown = new Uint8Array([0x9a, 0x06, 0x02, 0xaa, 0xbb, 0xa1, 0x06, 1, 2, 3, 4, 5, 6, 7, 8]);
    const buf = new Uint8Array([...withExtras, ...unknown]);
    assert.deepEqual(
      decodeMessage(buf),
      newMessage({ type: MessageType.MsgVote, to: 2n, from: 1n, term: 5 }),
    );
  });

  it('ConfChange and ConfChangeV2 both ways', () => {
    for (const cc of confChanges) {
      const obj = pbDecode('ConfChange', encodeConfChange(cc));
      assert.equal(obj.type, cc.type);
      assert.equal(obj.node_id, String(cc.nodeId));
      assert.equal(obj.id, String(cc.id));
      assert.deepEqual(new Uint8Array((obj.context as Buffer | undefined) ?? []), cc.context);
      assert.deepEqual(
        decodeConfChange(
          pbEncode('ConfChange', {
            type: cc.type,
            node_id: String(cc.nodeId),
            id: String(cc.id),
            context: Buffer.from(cc.context),
          }),
        ),
        cc,
      );
    }
    for (const cc of confChangesV2) {
      const obj = pbDecode('ConfChangeV2', encodeConfChangeV2(cc));
      assert.equal(obj.transition, cc.transition);
      assert.deepEqual(
        ((obj.changes as Record<string, unknown>[] | undefined) ?? []).map((c) => [c.type, c.node_id]),
        cc.changes.map((c) => [c.type, String(c.nodeId)]),
      );
      const back = decodeConfChangeV2(
        pbEncode('ConfChangeV2', {
          transition: cc.transition,
          changes: cc.changes.map((c) => ({ type: c.type, node_id: String(c.nodeId) })),
          context: Buffer.from(cc.context),
        }),
      );
      assert.deepEqual(back, cc);
    }
  });
});

describe('raftpb codec: rejecting bad input', () => {
  const isDecodeError = (pattern: RegExp) => (err: unknown) =>
    err instanceof RaftpbDecodeError && pattern.test(err.message);

  it('a term or index above 2^53-1', () => {
    const tooBig = '9007199254740992';
    assert.throws(
      () => decodeEntry(pbEncode('Entry', { Term: tooBig })),
      isDecodeError(/Entry\.term .*2\^53-1/),
    );
    assert.throws(
      () => decodeEntry(pbEncode('Entry', { Index: '18446744073709551615' })),
      isDecodeError(/Entry\.index/),
    );
    assert.throws(() => decodeHardState(pbEncode('HardState', { commit: tooBig })), isDecodeError(/commit/));
    assert.throws(
      () => decodeMessage(pbEncode('Message', { entries: [{ Term: tooBig }] })),
      isDecodeError(/Entry\.term/),
    );
    assert.throws(
      () => decodeMessage(pbEncode('Message', { snapshot: { metadata: { index: tooBig } } })),
      isDecodeError(/SnapshotMetadata\.index/),
    );
    // The largest safe integer itself is fine.
    assert.equal(decodeEntry(pbEncode('Entry', { Term: String(MAX) })).term, MAX);
  });

  it('truncated input', () => {
    const full = encodeMessage(sampleMessages()[3] ?? newMessage({ type: MessageType.MsgSnap }));
    assert.throws(() => decodeMessage(full.subarray(0, full.length - 1)), isDecodeError(/premature EOF/));
    // Every cut either decodes (it ends on a field boundary) or fails with a RaftpbDecodeError.
    let failures = 0;
    for (let cut = 0; cut < full.length; cut++) {
      try {
        decodeMessage(full.subarray(0, cut));
      } catch (err) {
        assert.ok(err instanceof RaftpbDecodeError, `cut ${cut}: ${String(err)}`);
        failures++;
      }
    }
    assert.ok(failures > full.length / 2);
    const entry = encodeEntry(newEntry({ term: 300, index: 1, data: bytes('abc') }));
    assert.throws(() => decodeEntry(entry.subarray(0, 3)), isDecodeError(/Entry/)); // inside the term varint
    assert.throws(() => decodeEntry(entry.subarray(0, entry.length - 2)), isDecodeError(/premature EOF/));
  });

  it('unknown enum values and wrong wire types', () => {
    assert.throws(() => decodeMessage(pbEncode('Message', { type: 19 })), isDecodeError(/Message\.type 19/));
    assert.throws(() => decodeEntry(new Uint8Array([0x08, 0x03])), isDecodeError(/Entry\.type 3/));
    assert.throws(() => decodeConfChange(new Uint8Array([0x10, 0x04])), isDecodeError(/ConfChange\.type/));
    assert.throws(
      () => decodeConfChangeV2(new Uint8Array([0x08, 0x03])),
      isDecodeError(/ConfChangeV2\.transition/),
    );
    // Entry.term (field 2) sent as length-delimited.
    assert.throws(
      () => decodeEntry(new Uint8Array([0x12, 0x01, 0x05])),
      isDecodeError(/Entry\.term has wire type/),
    );
    // A stray end-group tag.
    assert.throws(() => decodeHardState(new Uint8Array([0x0c])), isDecodeError(/HardState/));
  });
});
