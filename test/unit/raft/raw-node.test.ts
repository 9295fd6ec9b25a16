import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRaftError, type RaftErrorCode } from '../../../server/src/raft/errors.js';
import { MemoryStorage } from '../../../server/src/raft/memory-storage.js';
import { RawNode } from '../../../server/src/raft/raw-node.js';
import { StateType } from '../../../server/src/raft/ready.js';
import type { Storage } from '../../../server/src/raft/storage.js';
import { ProgressState } from '../../../server/src/raft/tracker/state.js';
import {
  emptyConfState,
  entrySizeBytes,
  MessageType,
  newEntry,
  newMessage,
  NONE,
  type Entry,
  type Snapshot,
} from '../../../server/src/raftpb/types.js';
import { AssertionError } from '../../../server/src/util/assert.js';
import { Cluster } from './test-cluster.js';
import {
  bytes,
  entriesAt,
  ids,
  indexTerms,
  storageWithPeers,
  testConfig,
  type TestRaftOptions,
} from './test-raft.js';

/*
 * The RawNode contract (etcd-io/raft rawnode.go and rawnode_test.go): the Ready/advance pairing, what
 * step() accepts, proposals, restarts from storage, status(), and a single member committing alone.
 */

const raftError = (code: RaftErrorCode) => (e: unknown) => isRaftError(e, code);

function singleNode(opts: TestRaftOptions = {}): { node: RawNode; storage: MemoryStorage } {
  const storage = storageWithPeers([1n]);
  return { node: new RawNode(testConfig(1n, storage, opts)), storage };
}

/** Persists a Ready the way the application must, and acknowledges it. */
function handle(node: RawNode, storage: MemoryStorage): ReturnType<RawNode['ready']> {
  const rd = node.ready();
  if (rd.snapshot !== undefined) storage.applySnapshot(rd.snapshot);
  storage.append(rd.entries);
  if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
  node.advance();
  return rd;
}

describe('RawNode: Ready and advance', () => {
  it('a fresh member has nothing to do', () => {
    const { node } = singleNode();
    assert.equal(node.hasReady(), false);
    assert.equal(node.status().softState.raftState, StateType.StateFollower);
  });

  it('ready() may not be called again before advance(), nor advance() without a Ready', () => {
    const { node, storage } = singleNode();
    assert.throws(() => node.advance(), AssertionError);
    node.campaign();
    const rd = node.ready();
    assert.throws(() => node.ready(), AssertionError);
    storage.append(rd.entries);
    node.advance();
    assert.throws(() => node.advance(), AssertionError);
    // The pairing works again afterwards.
    node.propose(bytes('x'));
    assert.deepEqual(indexTerms(handle(node, storage).entries), [[2, 1]]);
  });

  it('hasReady() is false while a Ready is outstanding, and reports the work that arrived meanwhile after advance()', () => {
    const { node, storage } = singleNode();
    node.campaign();
    assert.equal(node.hasReady(), true);
    const rd = node.ready();
    assert.equal(node.hasReady(), false);

    // Inputs may still arrive between ready() and advance(); their work waits for the next Ready.
    node.propose(bytes('during'));
    assert.equal(node.hasReady(), false);
    storage.append(rd.entries);
    if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
    node.advance();
    assert.equal(node.hasReady(), true);

    const next = node.ready();
    assert.deepEqual(indexTerms(next.entries), [[2, 1]]);
    assert.deepEqual(next.entries[0]?.data, bytes('during'));
    // Entry 1 was applied with the first Ready; it is not handed out twice.
    assert.deepEqual(
      next.committedEntries.map((e) => e.index),
      [2],
    );
    node.advance();
    assert.equal(node.hasReady(), false);
  });

  it('a single-member cluster elects itself and commits its proposals on its own', () => {
    const { node, storage } = singleNode();
    node.campaign();
    const rd = handle(node, storage);
    assert.deepEqual(rd.softState, { lead: 1n, raftState: StateType.StateLeader });
    assert.deepEqual(rd.hardState, { term: 1, vote: 1n, commit: 1 });
    assert.deepEqual(indexTerms(rd.entries), [[1, 1]]);
    assert.deepEqual(indexTerms(rd.committedEntries), [[1, 1]]);
    assert.deepEqual(rd.messages, []);
    assert.equal(rd.mustSync, true);

    node.propose(bytes('foo'));
    const rd2 = handle(node, storage);
    const foo = newEntry({ index: 2, term: 1, data: bytes('foo') });
    // Persisted and applied from the same Ready (entries first, then committedEntries).
    assert.deepEqual(rd2.entries, [foo]);
    assert.deepEqual(rd2.committedEntries, [foo]);
    assert.deepEqual(rd2.hardState, { term: 1, vote: 1n, commit: 2 });
    assert.equal(rd2.softState, undefined);
    assert.equal(node.hasReady(), false);
    assert.equal(node.status().applied, 2);
    assert.equal(storage.lastIndex(), 2);
  });

  it('mustSync is set only when the term, the vote or the entries change', () => {
    const c = new Cluster(3);
    c.node(1n).campaign();
    const campaign = c.node(1n).ready();
    // A new term and a vote for itself: both must survive a crash before the vote requests go out.
    assert.deepEqual(campaign.hardState, { term: 1, vote: 1n, commit: 0 });
    assert.deepEqual(campaign.entries, []);
    assert.equal(campaign.mustSync, true);
    c.get(1n).storage.setHardState(campaign.hardState);
    c.node(1n).advance();

    // A follower granting the vote: the vote changed.
    c.deliver(campaign.messages.filter((m) => m.to === 2n));
    const vote = c.node(2n).ready();
    assert.deepEqual(vote.hardState, { term: 1, vote: 1n, commit: 0 });
    assert.equal(vote.mustSync, true);
    c.node(2n).advance();
    c.deliver(vote.messages);

    // The new leader's empty entry: entries changed.
    const lead = c.node(1n).ready();
    assert.equal(lead.entries.length, 1);
    assert.equal(lead.mustSync, true);
    c.get(1n).storage.append(lead.entries);
    c.node(1n).advance();
    c.deliver(lead.messages.filter((m) => m.to === 2n));

    // The follower appends it: entries changed.
    const append = c.node(2n).ready();
    assert.equal(append.entries.length, 1);
    assert.equal(append.mustSync, true);
    c.get(2n).storage.append(append.entries);
    c.node(2n).advance();
    c.deliver(append.messages);

    // The leader learns it is replicated: only the commit index moved, which can be relearned.
    const commit = c.node(1n).ready();
    assert.deepEqual(commit.hardState, { term: 1, vote: 1n, commit: 1 });
    assert.deepEqual(commit.entries, []);
    assert.equal(commit.committedEntries.length, 1);
    assert.equal(commit.mustSync, false);
    c.node(1n).advance();

    // Only the vote changes: a member that knows term 1 but has neither voted nor heard from a leader
    // grants a vote; the vote must be durable before the answer leaves.
    const voter = c.node(3n);
    voter.step(newMessage({ type: MessageType.MsgVoteResp, from: 2n, to: 3n, term: 1, reject: true }));
    const termOnly = voter.ready();
    assert.deepEqual(termOnly.hardState, { term: 1, vote: NONE, commit: 0 });
    voter.advance();
    voter.step(newMessage({ type: MessageType.MsgVote, from: 2n, to: 3n, term: 1 }));
    const voteOnly = voter.ready();
    assert.deepEqual(voteOnly.hardState, { term: 1, vote: 2n, commit: 0 });
    assert.deepEqual(voteOnly.entries, []);
    assert.equal(voteOnly.mustSync, true);
    voter.advance();

    // Messages alone: nothing to persist.
    c.node(1n).tick();
    const beat = c.node(1n).ready();
    assert.equal(beat.hardState, undefined);
    assert.ok(beat.messages.some((m) => m.type === MessageType.MsgHeartbeat));
    assert.equal(beat.mustSync, false);
    c.node(1n).advance();
  });

  it('messages and read states are handed out once', () => {
    const c = new Cluster(3);
    c.node(1n).campaign();
    c.stabilize();
    c.node(1n).readIndex(bytes('ctx'));
    c.stabilize();
    assert.deepEqual(c.get(1n).readStates, [{ index: 1, requestCtx: bytes('ctx') }]);
    assert.equal(c.node(1n).hasReady(), false);
    // The read state went out in a Ready and is not repeated.
    c.node(1n).tick();
    const rd = c.node(1n).ready();
    assert.deepEqual(rd.readStates, []);
    assert.ok(rd.messages.length > 0);
    c.node(1n).advance();
    assert.equal(c.node(1n).hasReady(), false);
  });
});

describe('RawNode: step and propose', () => {
  it('refuses local message types from the network (ErrStepLocalMsg)', () => {
    const local = [
      MessageType.MsgHup,
      MessageType.MsgBeat,
      MessageType.MsgUnreachable,
      MessageType.MsgSnapStatus,
      MessageType.MsgCheckQuorum,
    ];
    for (const type of local) {
      const { node } = singleNode();
      assert.throws(
        () => node.step(newMessage({ type, from: 1n, to: 1n })),
        raftError('ErrStepLocalMsg'),
        MessageType[type],
      );
      // Nothing happened: in particular MsgHup did not start an election.
      assert.equal(node.hasReady(), false, MessageType[type]);
      assert.equal(node.raft.term, 0);
    }
  });

  it('refuses responses from members not in the configuration (ErrStepPeerNotFound)', () => {
    const responses = [
      MessageType.MsgAppResp,
      MessageType.MsgVoteResp,
      MessageType.MsgHeartbeatResp,
      MessageType.MsgPreVoteResp,
    ];
    const c = new Cluster(3);
    c.node(1n).campaign();
    c.stabilize();
    for (const type of responses) {
      assert.throws(
        () => c.node(1n).step(newMessage({ type, from: 9n, to: 1n, term: 1 })),
        raftError('ErrStepPeerNotFound'),
        MessageType[type],
      );
    }
    assert.equal(c.node(1n).hasReady(), false);
    // The same responses from a member are accepted.
    c.node(1n).step(newMessage({ type: MessageType.MsgHeartbeatResp, from: 2n, to: 1n, term: 1 }));
  });

  it('propose without a leader throws ErrProposalDropped and appends nothing', () => {
    const c = new Cluster(3);
    // A follower that knows no leader.
    assert.throws(() => c.node(2n).propose(bytes('x')), raftError('ErrProposalDropped'));
    // A candidate.
    c.node(1n).campaign();
    assert.equal(c.node(1n).raft.state, StateType.StateCandidate);
    assert.throws(() => c.node(1n).propose(bytes('x')), raftError('ErrProposalDropped'));
    assert.equal(c.node(1n).raft.raftLog.lastIndex(), 0);
    assert.equal(c.node(2n).raft.raftLog.lastIndex(), 0);
  });

  it('a follower forwards a proposal to its leader, unless forwarding is disabled', () => {
    const c = new Cluster(3);
    c.node(1n).campaign();
    c.stabilize();
    c.node(2n).propose(bytes('fwd'));
    const rd = c.node(2n).ready();
    assert.deepEqual(
      rd.messages.map((m) => [m.type, m.to, m.entries.map((e) => e.data)]),
      [[MessageType.MsgProp, 1n, [bytes('fwd')]]],
    );
    c.node(2n).advance();
    c.deliver(rd.messages);
    c.stabilize();
    for (const id of ids(3)) {
      assert.deepEqual(c.get(id).applied[c.get(id).applied.length - 1]?.data, bytes('fwd'), `member ${id}`);
    }

    const d = new Cluster(3, { disableProposalForwarding: true });
    d.node(1n).campaign();
    d.stabilize();
    assert.throws(() => d.node(2n).propose(bytes('x')), raftError('ErrProposalDropped'));
    assert.equal(d.node(2n).hasReady(), false);
  });
});

describe('RawNode: restart', () => {
  it('restarts from its storage: committed entries are handed out, the unchanged hard state is not', () => {
    const ents = [newEntry({ index: 1, term: 1 }), newEntry({ index: 2, term: 1, data: bytes('foo') })];
    const storage = storageWithPeers([1n]);
    storage.setHardState({ term: 1, vote: NONE, commit: 1 });
    storage.append(ents);
    const node = new RawNode(testConfig(1n, storage));
    assert.equal(node.raft.term, 1);
    assert.equal(node.raft.state, StateType.StateFollower);

    const rd = node.ready();
    assert.equal(rd.hardState, undefined);
    assert.equal(rd.softState, undefined);
    assert.deepEqual(rd.entries, []);
    assert.deepEqual(rd.committedEntries, ents.slice(0, 1));
    assert.equal(rd.mustSync, false);
    node.advance();
    assert.equal(node.hasReady(), false);
  });

  it('restarts with `applied`: entries up to it are not handed out again', () => {
    const ents = entriesAt(1, 1, 1, 1, 1);
    for (const applied of [0, 1, 3, 4]) {
      const storage = storageWithPeers([1n]);
      storage.setHardState({ term: 1, vote: 1n, commit: 4 });
      storage.append(ents);
      const node = new RawNode(testConfig(1n, storage, { applied }));
      assert.equal(node.status().applied, applied);
      if (applied === 4) {
        assert.equal(node.hasReady(), false, 'everything is applied');
        continue;
      }
      const rd = node.ready();
      assert.deepEqual(
        rd.committedEntries.map((e) => e.index),
        [1, 2, 3, 4].filter((i) => i > applied),
        `applied ${applied}`,
      );
      node.advance();
      assert.equal(node.status().applied, 4);
      assert.equal(node.hasReady(), false);
    }
  });

  it('restarts from a snapshot: only entries after it are applied', () => {
    const snap: Snapshot = {
      data: new Uint8Array(0),
      metadata: { index: 2, term: 1, confState: { ...emptyConfState(), voters: [1n, 2n] } },
    };
    const foo = newEntry({ index: 3, term: 1, data: bytes('foo') });
    const storage = new MemoryStorage();
    storage.setHardState({ term: 1, vote: NONE, commit: 3 });
    storage.applySnapshot(snap);
    storage.append([foo]);
    const node = new RawNode(testConfig(1n, storage));
    assert.equal(node.status().applied, 2);

    const rd = node.ready();
    assert.equal(rd.hardState, undefined);
    assert.deepEqual(rd.committedEntries, [foo]);
    assert.equal(rd.mustSync, false);
    node.advance();
    assert.equal(node.hasReady(), false);
  });

  it('an applied index beyond the synced commit index raises it; beyond the log it is a broken invariant', () => {
    // A Ready that only moves the commit index need not be synced, while the state machine may be:
    // after a crash the applied index can be above the saved commit index. Applied entries were
    // committed, so the commit index is raised to match, as long as the entries are in the log.
    const storage = storageWithPeers([1n]);
    storage.setHardState({ term: 1, vote: 1n, commit: 2 });
    storage.append(entriesAt(1, 1, 1, 1));
    const node = new RawNode(testConfig(1n, storage, { applied: 3 }));
    assert.equal(node.status().hardState.commit, 3);
    assert.equal(node.status().applied, 3);
    assert.throws(() => new RawNode(testConfig(1n, storage, { applied: 4 })), AssertionError);
  });

  it('applies every committed entry exactly once in size-limited Readys, even if storage ignores the size hint', () => {
    // etcd TestRawNodeCommitPaginationAfterRestart: a storage that returns more than asked must not
    // make the applied cursor skip an entry.
    const mem = storageWithPeers([1n, 2n]);
    const ents = Array.from({ length: 10 }, (_, i) => newEntry({ index: i + 1, term: 1, data: bytes('a') }));
    mem.append(ents);
    mem.setHardState({ term: 1, vote: 1n, commit: 10 });
    // Entry 11 is in the log but not yet known to be committed.
    mem.append([newEntry({ index: 11, term: 1, data: bytes('boom') })]);
    const ignoresSizeHint: Storage = {
      initialState: () => mem.initialState(),
      entries: (lo, hi) => mem.entries(lo, hi, Number.MAX_SAFE_INTEGER),
      term: (i) => mem.term(i),
      lastIndex: () => mem.lastIndex(),
      firstIndex: () => mem.firstIndex(),
      snapshot: () => mem.snapshot(),
    };
    const size = ents.reduce((sum, e) => sum + entrySizeBytes(e), 0);
    const node = new RawNode(
      testConfig(1n, ignoresSizeHint, { maxSizePerMsgBytes: size - entrySizeBytes(ents[9] as Entry) - 1 }),
    );

    const applied: number[] = [];
    for (let round = 0; round < 20 && applied[applied.length - 1] !== 11; round++) {
      const rd = node.ready();
      assert.ok(rd.committedEntries.length > 0, `stopped applying after ${applied.length} entries`);
      applied.push(...rd.committedEntries.map((e) => e.index));
      node.advance();
      node.step(newMessage({ type: MessageType.MsgHeartbeat, from: 2n, to: 1n, term: 1, commit: 11 }));
    }
    assert.deepEqual(applied, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('a snapshot from the leader arrives in a Ready and counts as applied once acknowledged', () => {
    const storage = storageWithPeers(ids(3));
    const node = new RawNode(testConfig(2n, storage));
    const snap: Snapshot = {
      data: bytes('state'),
      metadata: { index: 10, term: 1, confState: { ...emptyConfState(), voters: ids(3) } },
    };
    // The leader of term 1 is known already, so only the snapshot (and the commit index) is new.
    node.step(newMessage({ type: MessageType.MsgHeartbeat, from: 1n, to: 2n, term: 1 }));
    handle(node, storage);
    node.step(newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, term: 1, snapshot: snap }));
    const rd = node.ready();
    assert.equal(rd.snapshot?.metadata.index, 10);
    assert.deepEqual(rd.hardState, { term: 1, vote: NONE, commit: 10 });
    // The snapshot replaces the log: it must be durable before the answer below acknowledges it.
    assert.equal(rd.mustSync, true);
    assert.deepEqual(rd.committedEntries, []);
    assert.deepEqual(
      rd.messages.map((m) => [m.type, m.to, m.index, m.reject]),
      [[MessageType.MsgAppResp, 1n, 10, false]],
    );
    storage.applySnapshot(rd.snapshot);
    storage.setHardState(rd.hardState);
    node.advance();
    assert.equal(node.status().applied, 10);
    assert.equal(node.hasReady(), false);
    assert.equal(node.raft.raftLog.firstIndex(), 11);
  });
});

describe('RawNode: snapshots and applying', () => {
  it('a snapshot arriving while a Ready’s committed entries are being applied is refused, then accepted after advance', () => {
    const storage = storageWithPeers(ids(3));
    const node = new RawNode(testConfig(2n, storage));
    node.step(
      newMessage({
        type: MessageType.MsgApp,
        from: 1n,
        to: 2n,
        term: 1,
        index: 0,
        logTerm: 0,
        entries: entriesAt(1, 1, 1),
        commit: 2,
      }),
    );
    const rd = node.ready();
    assert.deepEqual(
      rd.committedEntries.map((e) => e.index),
      [1, 2],
    );
    storage.append(rd.entries);
    const snap: Snapshot = {
      data: bytes('state@10'),
      metadata: { index: 10, term: 1, confState: { ...emptyConfState(), voters: ids(3) } },
    };
    const snapMsg = newMessage({ type: MessageType.MsgSnap, from: 1n, to: 2n, term: 1, snapshot: snap });

    // Entries 1..2 are being applied: the log and configuration must not be replaced under them.
    node.step(structuredClone(snapMsg));
    assert.equal(node.raft.raftLog.hasPendingSnapshot(), false);
    assert.equal(node.raft.raftLog.committed, 2);
    node.advance();
    const refusal = node.ready();
    assert.equal(refusal.snapshot, undefined);
    assert.deepEqual(
      refusal.messages.map((m) => [m.type, m.index, m.reject]),
      [[MessageType.MsgAppResp, 2, false]],
    );
    node.advance();

    // Once they are applied, the same snapshot is installed.
    node.step(structuredClone(snapMsg));
    const installed = node.ready();
    assert.equal(installed.snapshot?.metadata.index, 10);
    assert.deepEqual(
      installed.messages.map((m) => [m.type, m.index, m.reject]),
      [[MessageType.MsgAppResp, 10, false]],
    );
    storage.applySnapshot(installed.snapshot);
    node.advance();
    assert.equal(node.status().applied, 10);
  });
});

describe('RawNode: status', () => {
  it('a leader reports every member’s progress; a follower none', () => {
    const c = new Cluster(3);
    c.node(1n).campaign();
    c.stabilize();
    c.node(1n).propose(bytes('x'));
    c.stabilize();

    const leader = c.node(1n).status();
    assert.equal(leader.id, 1n);
    assert.deepEqual(leader.softState, { lead: 1n, raftState: StateType.StateLeader });
    assert.deepEqual(leader.hardState, { term: 1, vote: 1n, commit: 2 });
    assert.equal(leader.applied, 2);
    assert.equal(leader.leadTransferee, NONE);
    assert.deepEqual(leader.config.toConfState().voters, ids(3));
    assert.ok(leader.progress !== undefined);
    assert.deepEqual([...leader.progress.keys()].sort(), ids(3));
    for (const id of ids(3)) {
      const pr = leader.progress.get(id);
      assert.equal(pr?.match, 2, `member ${id}`);
      assert.equal(pr?.next, 3, `member ${id}`);
      assert.equal(pr?.state, ProgressState.Replicate, `member ${id}`);
    }

    const follower = c.node(2n).status();
    assert.equal(follower.id, 2n);
    assert.deepEqual(follower.softState, { lead: 1n, raftState: StateType.StateFollower });
    assert.deepEqual(follower.hardState, { term: 1, vote: 1n, commit: 2 });
    assert.equal(follower.applied, 2);
    assert.equal(follower.progress, undefined);
    assert.deepEqual(follower.config.toConfState().voters, ids(3));
  });

  it('is a copy: changing it changes nothing in the member', () => {
    const c = new Cluster(3);
    c.node(1n).campaign();
    c.stabilize();
    const st = c.node(1n).status();
    const pr = st.progress?.get(2n);
    assert.ok(pr !== undefined);
    pr.match = 100;
    pr.becomeProbe();
    st.hardState.commit = 100;
    st.config.learners.add(7n);
    const again = c.node(1n).status();
    assert.equal(again.progress?.get(2n)?.match, 1);
    assert.equal(again.progress?.get(2n)?.state, ProgressState.Replicate);
    assert.equal(again.hardState.commit, 1);
    assert.equal(again.config.learners.size, 0);
  });
});
