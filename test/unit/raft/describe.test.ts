import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeConfState,
  describeEntries,
  describeEntry,
  describeHardState,
  describeMessage,
  describeReady,
  describeSnapshot,
  describeSoftState,
  goQuote,
} from '../../../server/src/raft/describe.js';
import { StateType, type Ready } from '../../../server/src/raft/ready.js';
import { encodeConfChange, encodeConfChangeV2 } from '../../../server/src/raftpb/codec.js';
import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  emptyBytes,
  emptyConfState,
  newEntry,
  newMessage,
  type ConfState,
  type Snapshot,
} from '../../../server/src/raftpb/types.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

const cs12: ConfState = { ...emptyConfState(), voters: [1n, 2n] };
const snap4: Snapshot = { data: bytes('d'), metadata: { index: 4, term: 1, confState: cs12 } };

function emptyReady(): Ready {
  return {
    softState: undefined,
    snapshot: undefined,
    entries: [],
    hardState: undefined,
    mustSync: false,
    messages: [],
    committedEntries: [],
    readStates: [],
  };
}

describe('goQuote (Go %q of a byte slice)', () => {
  it('matches strconv.Quote', () => {
    assert.equal(goQuote(emptyBytes()), '""');
    assert.equal(goQuote(bytes('data')), '"data"');
    // etcd-io/raft util_test.go TestDescribeEntry.
    assert.equal(goQuote(bytes('hello\x00world')), '"hello\\x00world"');
    assert.equal(goQuote(bytes('a"b\\c')), '"a\\"b\\\\c"');
    assert.equal(goQuote(bytes('\x07\b\f\n\r\t\v\x1b\x7f')), '"\\a\\b\\f\\n\\r\\t\\v\\x1b\\x7f"');
    assert.equal(goQuote(bytes('héllo ✓ 日本 😀')), '"héllo ✓ 日本 😀"');
    // Non-printable runes: U+00A0 (no-break space) and U+200B (zero-width space), U+E000 (private use).
    assert.equal(goQuote(bytes('\u00a0\u200b\ue000')), '"\\u00a0\\u200b\\ue000"');
    assert.equal(goQuote(bytes('\u{f0000}')), '"\\U000f0000"');
    // Invalid UTF-8: a lone continuation byte, a truncated sequence, an overlong '/', a surrogate.
    assert.equal(goQuote(new Uint8Array([0x80, 0x41])), '"\\x80A"');
    assert.equal(goQuote(new Uint8Array([0xe6, 0x97])), '"\\xe6\\x97"');
    assert.equal(goQuote(new Uint8Array([0xc0, 0xaf])), '"\\xc0\\xaf"');
    assert.equal(goQuote(new Uint8Array([0xed, 0xa0, 0x80])), '"\\xed\\xa0\\x80"');
    assert.equal(goQuote(new Uint8Array([0xff, 0xfe])), '"\\xff\\xfe"');
  });
});

describe('describeEntry / describeEntries', () => {
  it('normal entries', () => {
    assert.equal(
      describeEntry(newEntry({ term: 1, index: 5, data: bytes('data') })),
      '1/5 EntryNormal "data"',
    );
    assert.equal(describeEntry(newEntry({ term: 1, index: 3 })), '1/3 EntryNormal ""');
    assert.equal(
      describeEntry(newEntry({ term: 1, index: 2, data: bytes('hello\x00world') }), (d) =>
        new TextDecoder().decode(d).toUpperCase(),
      ),
      '1/2 EntryNormal HELLO\x00WORLD',
    );
  });

  it('conf changes, v1 and v2', () => {
    const v1 = encodeConfChange({
      type: ConfChangeType.ConfChangeAddNode,
      nodeId: 2n,
      context: emptyBytes(),
      id: 7n,
    });
    assert.equal(
      describeEntry(newEntry({ term: 1, index: 4, type: EntryType.EntryConfChange, data: v1 })),
      '1/4 EntryConfChange v2',
    );
    const v2 = encodeConfChangeV2({
      transition: ConfChangeTransition.ConfChangeTransitionJointExplicit,
      changes: [
        { type: ConfChangeType.ConfChangeAddNode, nodeId: 3n },
        { type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 4n },
        { type: ConfChangeType.ConfChangeRemoveNode, nodeId: 1n },
        { type: ConfChangeType.ConfChangeUpdateNode, nodeId: 2n },
      ],
      context: bytes('ctx'),
    });
    assert.equal(
      describeEntry(newEntry({ term: 2, index: 9, type: EntryType.EntryConfChangeV2, data: v2 })),
      '2/9 EntryConfChangeV2 v3 l4 r1 u2',
    );
    // Leaving a joint config: an empty ConfChangeV2 shows nothing after the type.
    assert.equal(
      describeEntry(newEntry({ term: 2, index: 10, type: EntryType.EntryConfChangeV2 })),
      '2/10 EntryConfChangeV2',
    );
  });

  it('undecodable conf-change data shows the decode error', () => {
    const bad = newEntry({
      term: 1,
      index: 4,
      type: EntryType.EntryConfChange,
      data: new Uint8Array([0x0a]),
    });
    assert.match(describeEntry(bad), /^1\/4 EntryConfChange raftpb: .*ConfChange/);
  });

  it('one entry per line', () => {
    assert.equal(
      describeEntries([newEntry({ term: 1, index: 3 }), newEntry({ term: 1, index: 4, data: bytes('x') })]),
      '1/3 EntryNormal ""\n1/4 EntryNormal "x"\n',
    );
    assert.equal(describeEntries([]), '');
  });
});

describe('state describers', () => {
  it('describeHardState leaves out an empty vote', () => {
    assert.equal(describeHardState({ term: 1, vote: 2n, commit: 5 }), 'Term:1 Vote:2 Commit:5');
    assert.equal(describeHardState({ term: 1, vote: 0n, commit: 0 }), 'Term:1 Commit:0');
    assert.equal(
      describeHardState({ term: 3, vote: 18446744073709551615n, commit: 9 }),
      'Term:3 Vote:18446744073709551615 Commit:9',
    );
  });

  it('describeSoftState', () => {
    assert.equal(
      describeSoftState({ lead: 1n, raftState: StateType.StateLeader }),
      'Lead:1 State:StateLeader',
    );
    assert.equal(
      describeSoftState({ lead: 0n, raftState: StateType.StatePreCandidate }),
      'Lead:0 State:StatePreCandidate',
    );
  });

  it('describeConfState', () => {
    assert.equal(
      describeConfState({ ...emptyConfState(), voters: [1n, 2n, 3n], learners: [4n] }),
      'Voters:[1 2 3] VotersOutgoing:[] Learners:[4] LearnersNext:[] AutoLeave:false',
    );
    assert.equal(
      describeConfState({
        voters: [1n, 2n, 3n],
        votersOutgoing: [1n],
        learners: [],
        learnersNext: [5n],
        autoLeave: true,
      }),
      'Voters:[1 2 3] VotersOutgoing:[1] Learners:[] LearnersNext:[5] AutoLeave:true',
    );
  });

  it('describeSnapshot', () => {
    assert.equal(
      describeSnapshot(snap4),
      'Index:4 Term:1 ConfState:Voters:[1 2] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:false',
    );
  });
});

describe('describeMessage', () => {
  it('MsgApp with one entry', () => {
    const m = newMessage({
      type: MessageType.MsgApp,
      from: 1n,
      to: 2n,
      term: 1,
      logTerm: 1,
      index: 3,
      commit: 3,
      entries: [newEntry({ term: 1, index: 4, data: bytes('x') })],
    });
    assert.equal(describeMessage(m), '1->2 MsgApp Term:1 Log:1/3 Commit:3 Entries:[1/4 EntryNormal "x"]');
  });

  it('several entries go on indented lines', () => {
    const m = newMessage({
      type: MessageType.MsgApp,
      from: 1n,
      to: 3n,
      term: 2,
      logTerm: 1,
      index: 3,
      commit: 3,
      entries: [newEntry({ term: 1, index: 4, data: bytes('a') }), newEntry({ term: 2, index: 5 })],
    });
    assert.equal(
      describeMessage(m),
      '1->3 MsgApp Term:2 Log:1/3 Commit:3 Entries:[\n  1/4 EntryNormal "a"\n  2/5 EntryNormal ""\n]',
    );
  });

  it('rejections, zero commit, None', () => {
    const resp = newMessage({
      type: MessageType.MsgAppResp,
      from: 2n,
      to: 1n,
      term: 1,
      index: 3,
      reject: true,
    });
    // Lines as in etcd-io/raft testdata/confchange_v1_add_single.txt.
    assert.equal(describeMessage(resp), '2->1 MsgAppResp Term:1 Log:0/3 Rejected (Hint: 0)');
    assert.equal(
      describeMessage(
        newMessage({
          type: MessageType.MsgAppResp,
          from: 3n,
          to: 2n,
          term: 2,
          logTerm: 1,
          index: 4,
          reject: true,
          rejectHint: 3,
        }),
      ),
      '3->2 MsgAppResp Term:2 Log:1/4 Rejected (Hint: 3)',
    );
    assert.equal(
      describeMessage(newMessage({ type: MessageType.MsgHup, from: 0n, to: 1n })),
      'None->1 MsgHup Term:0 Log:0/0',
    );
    assert.equal(
      describeMessage(newMessage({ type: MessageType.MsgHeartbeat, from: 1n, to: 2n, term: 1, commit: 4 })),
      '1->2 MsgHeartbeat Term:1 Log:0/0 Commit:4',
    );
  });

  it('snapshots on their own line; an empty snapshot is not shown', () => {
    const m = newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, term: 1, snapshot: snap4 });
    assert.equal(
      describeMessage(m),
      '1->2 MsgSnap Term:1 Log:0/0\n' +
        '  Snapshot: Index:4 Term:1 ConfState:Voters:[1 2] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:false',
    );
    const emptySnap: Snapshot = {
      data: emptyBytes(),
      metadata: { index: 0, term: 0, confState: emptyConfState() },
    };
    assert.equal(
      describeMessage(
        newMessage({ type: MessageType.MsgApp, from: 1n, to: 2n, term: 1, snapshot: emptySnap }),
      ),
      '1->2 MsgApp Term:1 Log:0/0',
    );
  });
});

describe('describeReady', () => {
  it('an empty Ready', () => {
    assert.equal(describeReady(emptyReady()), '<empty Ready>');
    // An all-zero hard state and an empty snapshot count as absent.
    const rd = emptyReady();
    rd.hardState = { term: 0, vote: 0n, commit: 0 };
    rd.snapshot = { data: emptyBytes(), metadata: { index: 0, term: 0, confState: emptyConfState() } };
    rd.mustSync = true;
    assert.equal(describeReady(rd), '<empty Ready>');
  });

  it('every section, in etcd order', () => {
    const rd: Ready = {
      softState: { lead: 1n, raftState: StateType.StateLeader },
      hardState: { term: 1, vote: 1n, commit: 4 },
      readStates: [
        { index: 5, requestCtx: bytes('ctx') },
        { index: 6, requestCtx: emptyBytes() },
      ],
      entries: [newEntry({ term: 1, index: 3 }), newEntry({ term: 1, index: 4, data: bytes('x') })],
      snapshot: snap4,
      committedEntries: [newEntry({ term: 1, index: 3 })],
      messages: [
        newMessage({ type: MessageType.MsgApp, from: 1n, to: 2n, term: 1, logTerm: 1, index: 3, commit: 4 }),
        newMessage({ type: MessageType.MsgSnap, from: 1n, to: 3n, term: 1, snapshot: snap4 }),
      ],
      mustSync: true,
    };
    assert.equal(
      describeReady(rd),
      [
        'Ready MustSync=true:',
        'Lead:1 State:StateLeader',
        'HardState Term:1 Vote:1 Commit:4',
        'ReadStates [{5 [99 116 120]} {6 []}]',
        'Entries:',
        '1/3 EntryNormal ""',
        '1/4 EntryNormal "x"',
        'Snapshot Index:4 Term:1 ConfState:Voters:[1 2] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:false',
        'CommittedEntries:',
        '1/3 EntryNormal ""',
        'Messages:',
        '1->2 MsgApp Term:1 Log:1/3 Commit:4',
        '1->3 MsgSnap Term:1 Log:0/0',
        '  Snapshot: Index:4 Term:1 ConfState:Voters:[1 2] VotersOutgoing:[] Learners:[] LearnersNext:[] AutoLeave:false',
        '',
      ].join('\n'),
    );
  });

  it('as in etcd-io/raft testdata/confchange_v1_add_single.txt', () => {
    const cc = encodeConfChange({
      type: ConfChangeType.ConfChangeAddNode,
      nodeId: 2n,
      context: emptyBytes(),
      id: 0n,
    });
    const rd = emptyReady();
    rd.softState = { lead: 1n, raftState: StateType.StateLeader };
    rd.entries = [
      newEntry({ term: 1, index: 3 }),
      newEntry({ term: 1, index: 4, type: EntryType.EntryConfChange, data: cc }),
    ];
    rd.mustSync = true;
    assert.equal(
      describeReady(rd),
      'Ready MustSync=true:\nLead:1 State:StateLeader\nEntries:\n1/3 EntryNormal ""\n1/4 EntryConfChange v2\n',
    );
    const follower = emptyReady();
    follower.softState = { lead: 1n, raftState: StateType.StateFollower };
    follower.hardState = { term: 1, vote: 0n, commit: 0 };
    follower.messages = [
      newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: 1, index: 3, reject: true }),
    ];
    follower.mustSync = true;
    assert.equal(
      describeReady(follower),
      'Ready MustSync=true:\nLead:1 State:StateFollower\nHardState Term:1 Commit:0\nMessages:\n' +
        '2->1 MsgAppResp Term:1 Log:0/3 Rejected (Hint: 0)\n',
    );
  });
});
