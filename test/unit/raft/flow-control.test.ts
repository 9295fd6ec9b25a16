import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRaftError } from '../../../server/src/raft/errors.js';
import type { Raft } from '../../../server/src/raft/raft.js';
import { StateType } from '../../../server/src/raft/ready.js';
import type { Progress } from '../../../server/src/raft/tracker/progress.js';
import { ProgressState } from '../../../server/src/raft/tracker/state.js';
import {
  entrySizeBytes,
  MessageType,
  newEntry,
  newMessage,
  type Entry,
  type Message,
} from '../../../server/src/raftpb/types.js';
import { Cluster } from './test-cluster.js';
import {
  acceptAndReply,
  electLeader,
  ids,
  newTestRaft,
  readMessages,
  storageWithPeers,
  type TestRaftOptions,
} from './test-raft.js';

/*
 * Flow control from the leader to one follower (etcd-io/raft raft_flow_control_test.go and the
 * Progress design in tracker/state.ts): in Replicate appends are pipelined up to a window of
 * maxInflightMsgs messages and maxInflightBytes payload bytes; in Probe at most one append is out per
 * heartbeat interval; maxSizePerMsgBytes caps each append; maxUncommittedEntriesBytes caps the
 * leader's uncommitted tail.
 */

const WINDOW = 8;

/** A leader (1) of a two-member group (1, 2) with 2's progress forced into Replicate. */
function replicatingLeader(opts: TestRaftOptions = {}): { r: Raft; pr: Progress } {
  const r = newTestRaft(1n, storageWithPeers(ids(2)), { maxInflightMsgs: WINDOW, ...opts });
  electLeader(r);
  readMessages(r);
  const pr = r.trk.progress.get(2n);
  assert.ok(pr !== undefined);
  pr.becomeReplicate();
  return { r, pr };
}

function propose(r: Raft, data: Uint8Array = new TextEncoder().encode('somedata')): void {
  r.step(newMessage({ type: MessageType.MsgProp, from: 1n, to: 1n, entries: [newEntry({ data })] }));
}

/** The appends carrying entries among `msgs` (empty appends only update the commit index). */
function appendsWithEntries(msgs: Message[]): Message[] {
  return msgs.filter((m) => m.type === MessageType.MsgApp && m.entries.length > 0);
}

function appResp(index: number, term = 1): Message {
  return newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term, index });
}

function heartbeatResp(term = 1): Message {
  return newMessage({ type: MessageType.MsgHeartbeatResp, from: 2n, to: 1n, term });
}

describe('flow control: Replicate', () => {
  it('appends fill the in-flight window, then pause until acknowledged', () => {
    const { r, pr } = replicatingLeader();
    for (let i = 0; i < WINDOW; i++) {
      propose(r);
      const msgs = readMessages(r);
      assert.equal(msgs.length, 1, `proposal ${i}`);
      assert.equal(msgs[0]?.type, MessageType.MsgApp);
    }
    assert.equal(pr.inflights.length, WINDOW);
    assert.equal(pr.isPaused(), true);

    for (let i = 0; i < 10; i++) {
      propose(r);
      assert.deepEqual(readMessages(r), [], `proposal ${i} while the window is full`);
    }
    // The entries are in the leader's log all the same, waiting to be sent.
    assert.equal(r.raftLog.lastIndex(), 1 + WINDOW + 10);
  });

  it('an acknowledgement frees the window up to its index; a stale one frees nothing', () => {
    const { r, pr } = replicatingLeader();
    for (let i = 0; i < WINDOW; i++) {
      propose(r);
      readMessages(r);
    }
    // Index 1 is the empty entry of the new term, sent together with the first proposal (2).
    for (let acked = 2; acked < WINDOW; acked++) {
      r.step(appResp(acked));
      assert.equal(pr.isPaused(), false, `after ack of ${acked}`);
      readMessages(r);

      // One more proposal refills the single freed slot.
      propose(r);
      const sent = appendsWithEntries(readMessages(r));
      assert.equal(sent.length, 1);
      assert.equal(pr.isPaused(), true);

      // Acknowledgements of indexes already acknowledged change nothing.
      for (let stale = 0; stale < acked; stale++) {
        r.step(appResp(stale));
        assert.equal(pr.isPaused(), true, `stale ack of ${stale}`);
        assert.deepEqual(appendsWithEntries(readMessages(r)), []);
      }
    }
  });

  it('an acknowledgement of several appends lets the leader send as many pending ones', () => {
    const { r, pr } = replicatingLeader({
      maxSizePerMsgBytes: entrySizeBytes(newEntry({ data: new Uint8Array(8) })),
    });
    // One entry per append: each proposal sends the oldest unsent entry, starting with the empty one (1).
    for (let i = 0; i < WINDOW + 3; i++) propose(r);
    assert.equal(appendsWithEntries(readMessages(r)).length, WINDOW);
    assert.equal(pr.inflights.length, WINDOW);
    // Acknowledging entries 1..4 frees four slots, and the four pending entries go out at once.
    r.step(appResp(4));
    const sent = appendsWithEntries(readMessages(r));
    assert.deepEqual(
      sent.map((m) => m.entries.map((e) => e.index)),
      [[WINDOW + 1], [WINDOW + 2], [WINDOW + 3], [WINDOW + 4]],
    );
    assert.equal(pr.inflights.length, WINDOW);
    assert.equal(pr.isPaused(), true);
  });

  it('maxInflightBytes pauses appends once the payload in flight reaches it', () => {
    const payload = 100;
    const { r, pr } = replicatingLeader({
      maxInflightMsgs: 256,
      maxInflightBytes: 10 * payload,
      maxSizePerMsgBytes: 10 * payload,
    });
    const data = new Uint8Array(payload);
    for (let i = 0; i < 10; i++) {
      assert.equal(pr.isPaused(), false, `before proposal ${i}`);
      propose(r, data);
      assert.equal(appendsWithEntries(readMessages(r)).length, 1);
    }
    assert.equal(pr.inflights.totalBytes, 10 * payload);
    assert.equal(pr.inflights.length, 10);
    assert.equal(pr.isPaused(), true);
    propose(r, data);
    assert.deepEqual(readMessages(r), []);

    // Freeing the first append's bytes lets the pending proposal through, which fills the window again.
    r.step(appResp(2));
    const sent = appendsWithEntries(readMessages(r));
    assert.deepEqual(
      sent.map((m) => m.entries.map((e) => e.index)),
      [[12]],
    );
    assert.equal(pr.isPaused(), true);
  });

  it('a single append larger than maxInflightBytes is still sent, and fills the window alone', () => {
    const { r, pr } = replicatingLeader({
      maxInflightMsgs: 256,
      maxInflightBytes: 1000,
      maxSizePerMsgBytes: 1000,
    });
    // The empty entry of the term goes out and is acknowledged first.
    r.bcastAppend();
    r.step(appResp(1));
    readMessages(r);
    assert.equal(pr.inflights.length, 0);
    propose(r, new Uint8Array(5000));
    assert.deepEqual(
      appendsWithEntries(readMessages(r)).map((m) => m.entries.map((e) => e.data.length)),
      [[5000]],
    );
    assert.equal(pr.inflights.length, 1);
    assert.equal(pr.isPaused(), true);
    propose(r, new Uint8Array(1));
    assert.deepEqual(readMessages(r), []);
  });

  it('a heartbeat response frees exactly one slot of a full window', () => {
    // One entry per append, so that each slot is one entry.
    const data = new Uint8Array(8);
    const { r, pr } = replicatingLeader({ maxSizePerMsgBytes: entrySizeBytes(newEntry({ data })) });
    for (let i = 0; i < WINDOW; i++) propose(r, data);
    readMessages(r);
    assert.equal(pr.isPaused(), true);
    const pending = 4;
    for (let i = 0; i < pending; i++) propose(r, data);
    assert.deepEqual(readMessages(r), []);
    let next = pr.next;
    assert.ok(next <= r.raftLog.lastIndex() - pending);

    for (let i = 0; i < pending; i++) {
      // The follower answered a heartbeat, so it is alive although none of its acks arrived: one
      // append may go out.
      r.step(heartbeatResp());
      const sent = readMessages(r);
      assert.equal(sent.length, 1, `heartbeat response ${i}`);
      assert.equal(sent[0]?.type, MessageType.MsgApp);
      assert.deepEqual(
        sent[0]?.entries.map((e) => e.index),
        [next++],
      );
      assert.equal(pr.inflights.length, WINDOW);
      assert.equal(pr.isPaused(), true);
      // Proposals still wait.
      propose(r, data);
      assert.deepEqual(readMessages(r), []);
    }
  });

  it('a heartbeat response also frees one append of a window full by bytes', () => {
    const payload = 100;
    const { r, pr } = replicatingLeader({
      maxInflightMsgs: 256,
      maxInflightBytes: 3 * payload,
      maxSizePerMsgBytes: entrySizeBytes(newEntry({ data: new Uint8Array(payload) })),
    });
    // The empty entry of the term first, acknowledged, so that every append below is one payload.
    r.bcastAppend();
    r.step(appResp(1));
    readMessages(r);
    for (let i = 0; i < 5; i++) propose(r, new Uint8Array(payload));
    assert.equal(appendsWithEntries(readMessages(r)).length, 3);
    assert.equal(pr.inflights.totalBytes, 3 * payload);
    assert.equal(pr.isPaused(), true);

    r.step(heartbeatResp());
    assert.deepEqual(
      appendsWithEntries(readMessages(r)).map((m) => m.entries.map((e) => e.index)),
      [[5]],
    );
    assert.equal(pr.inflights.length, 3);
    assert.equal(pr.isPaused(), true);
  });

  it('a heartbeat response does not touch a window that is not full', () => {
    const { r, pr } = replicatingLeader();
    propose(r);
    propose(r);
    readMessages(r);
    assert.equal(pr.inflights.length, 2);
    r.step(heartbeatResp());
    assert.equal(pr.inflights.length, 2);
    // The follower lacks entries, so the leader sends what comes after its optimistic next: nothing.
    assert.deepEqual(
      readMessages(r).map((m) => [m.type, m.index, m.entries.length]),
      [[MessageType.MsgApp, 3, 0]],
    );
  });

  it('MsgUnreachable moves a follower from Replicate back to Probe', () => {
    const { r, pr } = replicatingLeader();
    propose(r);
    propose(r);
    readMessages(r);
    r.step(appResp(2));
    readMessages(r);
    assert.equal(pr.state, ProgressState.Replicate);
    assert.equal(pr.match, 2);
    assert.equal(pr.next, 4);

    r.step(newMessage({ type: MessageType.MsgUnreachable, from: 2n, to: 1n }));

    assert.equal(pr.state, ProgressState.Probe);
    // Anything after match may have been lost: probing restarts there, with an empty window.
    assert.equal(pr.next, pr.match + 1);
    assert.equal(pr.inflights.length, 0);
    // In Probe, one append goes out and the next waits for an answer.
    propose(r);
    assert.deepEqual(
      appendsWithEntries(readMessages(r)).map((m) => [m.index, m.entries.map((e) => e.index)]),
      [[2, [3, 4]]],
    );
    propose(r);
    assert.deepEqual(readMessages(r), []);
  });

  it('a rejection of an index at or below match is stale and changes nothing', () => {
    const { r, pr } = replicatingLeader();
    propose(r);
    propose(r);
    readMessages(r);
    r.step(appResp(2));
    readMessages(r);
    for (const rejected of [1, 2]) {
      r.step(
        newMessage({
          type: MessageType.MsgAppResp,
          from: 2n,
          to: 1n,
          term: 1,
          index: rejected,
          reject: true,
          rejectHint: 0,
        }),
      );
      assert.equal(pr.state, ProgressState.Replicate, `rejection of ${rejected}`);
      assert.equal(pr.next, 4);
      assert.deepEqual(readMessages(r), []);
    }
    // A rejection above match is real: back to probing from match.
    r.step(
      newMessage({
        type: MessageType.MsgAppResp,
        from: 2n,
        to: 1n,
        term: 1,
        index: 3,
        reject: true,
        rejectHint: 2,
      }),
    );
    assert.equal(pr.state, ProgressState.Probe);
    assert.equal(pr.next, 3);
    assert.deepEqual(
      readMessages(r).map((m) => [m.type, m.index, m.entries.map((e) => e.index)]),
      [[MessageType.MsgApp, 2, [3]]],
    );
  });

  it('MsgUnreachable leaves a probing follower as it is', () => {
    const r = newTestRaft(1n, storageWithPeers(ids(2)));
    electLeader(r);
    const pr = r.trk.progress.get(2n) as Progress;
    assert.equal(pr.state, ProgressState.Probe);
    r.step(newMessage({ type: MessageType.MsgUnreachable, from: 2n, to: 1n }));
    assert.equal(pr.state, ProgressState.Probe);
    assert.equal(pr.next, 1);
  });
});

describe('flow control: Probe', () => {
  it('sends at most one append per heartbeat interval until the follower answers', () => {
    const r = newTestRaft(1n, storageWithPeers(ids(2)));
    electLeader(r);
    r.bcastAppend();
    const pr = r.trk.progress.get(2n) as Progress;
    assert.equal(pr.state, ProgressState.Probe);
    assert.equal(appendsWithEntries(readMessages(r)).length, 1);
    assert.equal(pr.isPaused(), true);

    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5; i++) propose(r);
      assert.deepEqual(readMessages(r), [], `round ${round}: proposals wait`);
      // A heartbeat itself carries no entries...
      r.tick();
      assert.deepEqual(
        readMessages(r).map((m) => m.type),
        [MessageType.MsgHeartbeat],
      );
      // ...but its answer allows the next probe: one append, from the same next index.
      r.step(heartbeatResp());
      const sent = readMessages(r);
      assert.equal(sent.length, 1, `round ${round}`);
      assert.equal(sent[0]?.type, MessageType.MsgApp);
      assert.equal(sent[0]?.index, 0);
      assert.equal(sent[0]?.entries.length, r.raftLog.lastIndex());
      assert.equal(pr.isPaused(), true);
    }

    // The follower answers the probe: replication switches to Replicate and sends what is pending.
    r.step(appResp(1));
    assert.equal(pr.state, ProgressState.Replicate);
    assert.equal(pr.match, 1);
  });

  it('a rejected probe moves next back and probes again at once', () => {
    const s = storageWithPeers(ids(2));
    s.append([1, 1, 1].map((term, i) => newEntry({ index: i + 1, term })));
    const r = newTestRaft(1n, s);
    r.loadState({ term: 1, vote: 0n, commit: 0 });
    electLeader(r);
    r.bcastAppend();
    const pr = r.trk.progress.get(2n) as Progress;
    const [probe] = readMessages(r);
    assert.equal(probe?.index, 3);
    // The follower has nothing: it hints at index 0.
    r.step(
      newMessage({
        type: MessageType.MsgAppResp,
        from: 2n,
        to: 1n,
        term: 2,
        index: 3,
        reject: true,
        rejectHint: 0,
      }),
    );
    const [next] = readMessages(r);
    assert.equal(next?.type, MessageType.MsgApp);
    assert.equal(next?.index, 0);
    assert.equal(next?.entries.length, 4);
    assert.equal(pr.next, 1);
    assert.equal(pr.isPaused(), true);
    // A duplicate of the old rejection is stale and ignored.
    r.step(
      newMessage({
        type: MessageType.MsgAppResp,
        from: 2n,
        to: 1n,
        term: 2,
        index: 3,
        reject: true,
        rejectHint: 0,
      }),
    );
    assert.deepEqual(readMessages(r), []);
    assert.equal(pr.next, 1);
  });
});

describe('flow control: commit index', () => {
  it('a probed follower answering after its entries committed is told the commit index at once', () => {
    const r = newTestRaft(1n, storageWithPeers(ids(3)));
    electLeader(r);
    propose(r);
    // Both probes carry entries 1..2.
    const probes = readMessages(r).filter((m) => m.type === MessageType.MsgApp);
    assert.deepEqual(
      probes.map((m) => [m.to, m.entries.map((e) => e.index)]),
      [
        [2n, [1, 2]],
        [3n, [1, 2]],
      ],
    );
    // 2 answers first: that commits 2.
    r.step(acceptAndReply(probes[0] as Message));
    assert.equal(r.raftLog.committed, 2);
    readMessages(r);
    // 3's answer commits nothing new and there is nothing more to send, but 3 must still learn that
    // its entries are committed, without waiting for a heartbeat.
    r.step(acceptAndReply(probes[1] as Message));
    assert.deepEqual(
      readMessages(r).map((m) => [m.type, m.to, m.index, m.entries.length, m.commit]),
      [[MessageType.MsgApp, 3n, 2, 0, 2]],
    );
  });
});

describe('flow control: message size', () => {
  it('maxSizePerMsgBytes splits a backlog into appends within the limit, in order', () => {
    const data = new Uint8Array(100);
    const entrySize = entrySizeBytes(newEntry({ data }));
    const maxSizePerMsgBytes = 2 * entrySize;
    const r = newTestRaft(1n, storageWithPeers(ids(2)), { maxSizePerMsgBytes });
    electLeader(r);
    r.bcastAppend();
    readMessages(r); // the probe with the empty entry
    const backlog = 9;
    for (let i = 0; i < backlog; i++) propose(r, data);
    assert.deepEqual(readMessages(r), []);

    // The probe is answered: in Replicate, the whole backlog goes out at once, in pieces.
    r.step(appResp(1));
    const sent = appendsWithEntries(readMessages(r));
    assert.ok(sent.length >= Math.ceil(backlog / 2), `${sent.length} appends`);
    let expectedPrev = 1;
    for (const m of sent) {
      const bytes = m.entries.reduce((sum, e) => sum + entrySizeBytes(e), 0);
      assert.ok(bytes <= maxSizePerMsgBytes, `append after ${m.index} has ${bytes} bytes`);
      assert.equal(m.index, expectedPrev, 'appends are contiguous');
      expectedPrev = (m.entries[m.entries.length - 1] as Entry).index;
    }
    assert.equal(expectedPrev, 1 + backlog);
  });

  it('an entry larger than maxSizePerMsgBytes travels alone', () => {
    const { r } = replicatingLeader({ maxSizePerMsgBytes: 100 });
    propose(r, new Uint8Array(1000));
    propose(r, new Uint8Array(10));
    r.step(appResp(1));
    const sent = appendsWithEntries(readMessages(r));
    assert.deepEqual(
      sent.map((m) => m.entries.map((e) => e.data.length)),
      [[0], [1000], [10]],
    );
  });
});

describe('flow control: maxUncommittedEntriesBytes', () => {
  it('drops proposals beyond the uncommitted limit with ErrProposalDropped, and accepts again once committed', () => {
    const payload = 100;
    const c = new Cluster(3, { maxUncommittedEntriesBytes: 10 * payload });
    c.node(1n).campaign();
    c.stabilize();
    assert.equal(c.node(1n).status().softState.raftState, StateType.StateLeader);
    const leader = c.node(1n).raft;

    // Followers are unreachable: nothing commits.
    c.dropped.add(2n);
    c.dropped.add(3n);
    for (let i = 0; i < 10; i++) c.node(1n).propose(new Uint8Array(payload));
    assert.equal(leader.uncommittedSize, 10 * payload);
    const lastIndex = leader.raftLog.lastIndex();
    assert.throws(
      () => c.node(1n).propose(new Uint8Array(payload)),
      (e: unknown) => isRaftError(e, 'ErrProposalDropped'),
    );
    assert.equal(leader.raftLog.lastIndex(), lastIndex, 'the dropped proposal is not in the log');
    // An empty proposal takes no room and is never refused.
    c.node(1n).propose(new Uint8Array(0));
    c.stabilize();

    c.dropped.clear();
    leader.tick(); // a heartbeat round brings the followers back
    c.stabilize();
    assert.equal(leader.raftLog.committed, leader.raftLog.lastIndex());
    assert.equal(leader.uncommittedSize, 0);
    for (let i = 0; i < 10; i++) c.node(1n).propose(new Uint8Array(payload));
    assert.throws(
      () => c.node(1n).propose(new Uint8Array(payload)),
      (e: unknown) => isRaftError(e, 'ErrProposalDropped'),
    );
  });

  it('an empty uncommitted tail accepts one proposal of any size', () => {
    const c = new Cluster(3, { maxUncommittedEntriesBytes: 100 });
    c.node(1n).campaign();
    c.stabilize();
    c.dropped.add(2n);
    c.dropped.add(3n);
    c.node(1n).propose(new Uint8Array(1000));
    assert.throws(
      () => c.node(1n).propose(new Uint8Array(1)),
      (e: unknown) => isRaftError(e, 'ErrProposalDropped'),
    );
  });
});

describe('flow control: acknowledgement bookkeeping', () => {
  it('acceptAndReply of every append in flight empties the window', () => {
    const { r, pr } = replicatingLeader();
    const inFlight: Message[] = [];
    for (let i = 0; i < WINDOW; i++) {
      propose(r);
      inFlight.push(...appendsWithEntries(readMessages(r)));
    }
    assert.equal(pr.isPaused(), true);
    for (const m of inFlight) r.step(acceptAndReply(m));
    assert.equal(pr.inflights.length, 0);
    assert.equal(pr.match, r.raftLog.lastIndex());
    assert.equal(r.raftLog.committed, r.raftLog.lastIndex());
  });
});

describe('flow control: Snapshot', () => {
  /**
   * A leader (1, term 2) whose log is compacted up to 10, and a follower 2 with an empty log: the
   * probe is rejected, the entries it needs are gone, so it gets the snapshot.
   */
  function leaderSendingSnapshot(): { r: Raft; pr: Progress } {
    const s = storageWithPeers(ids(3));
    s.append(Array.from({ length: 10 }, (_, i) => newEntry({ index: i + 1, term: 1 })));
    s.setHardState({ term: 1, vote: 1n, commit: 10 });
    s.createSnapshot(10, undefined, new TextEncoder().encode('state@10'));
    s.compact(10);
    const r = newTestRaft(1n, s, { applied: 10 });
    electLeader(r);
    const pr = r.trk.progress.get(2n) as Progress;
    r.step(heartbeatResp(2));
    const [probe] = readMessages(r).filter((m) => m.to === 2n);
    assert.equal(probe?.type, MessageType.MsgApp);
    assert.equal(probe?.index, 10);
    r.step(
      newMessage({
        type: MessageType.MsgAppResp,
        from: 2n,
        to: 1n,
        term: 2,
        index: 10,
        reject: true,
        rejectHint: 0,
      }),
    );
    const sent = readMessages(r);
    assert.deepEqual(
      sent.map((m) => [m.type, m.to, m.snapshot?.metadata.index]),
      [[MessageType.MsgSnap, 2n, 10]],
    );
    assert.equal(pr.state, ProgressState.Snapshot);
    assert.equal(pr.pendingSnapshot, 10);
    return { r, pr };
  }

  it('no appends go to a follower while its snapshot is in flight, not even after a heartbeat', () => {
    const { r, pr } = leaderSendingSnapshot();
    propose(r);
    r.step(heartbeatResp(2));
    r.tick();
    assert.deepEqual(
      readMessages(r).filter(
        (m) => m.to === 2n && (m.type === MessageType.MsgApp || m.type === MessageType.MsgSnap),
      ),
      [],
    );
    assert.equal(pr.isPaused(), true);
  });

  it('the follower acknowledging the snapshot index resumes replication from the log', () => {
    const { r, pr } = leaderSendingSnapshot();
    propose(r);
    readMessages(r);
    r.step(appResp(10, 2));
    assert.equal(pr.state, ProgressState.Replicate);
    assert.equal(pr.match, 10);
    const sent = appendsWithEntries(readMessages(r)).filter((m) => m.to === 2n);
    assert.deepEqual(
      sent.map((m) => [m.index, m.entries.map((e) => e.index)]),
      [[10, [11, 12]]],
    );
  });

  it('a reported success waits for the follower; a reported failure probes again and resends the snapshot', () => {
    {
      const { r, pr } = leaderSendingSnapshot();
      r.step(newMessage({ type: MessageType.MsgSnapStatus, from: 2n, to: 1n }));
      assert.equal(pr.state, ProgressState.Probe);
      assert.equal(pr.next, 11, 'probing starts after the snapshot');
      assert.equal(pr.isPaused(), true, 'until the follower answers');
      assert.deepEqual(readMessages(r), []);
    }
    {
      const { r, pr } = leaderSendingSnapshot();
      r.step(newMessage({ type: MessageType.MsgSnapStatus, from: 2n, to: 1n, reject: true }));
      assert.equal(pr.state, ProgressState.Probe);
      assert.equal(pr.pendingSnapshot, 0);
      assert.equal(pr.next, 1, 'the snapshot never arrived');
      assert.deepEqual(readMessages(r), [], 'a heartbeat interval passes first');
      r.step(heartbeatResp(2));
      assert.deepEqual(
        readMessages(r).map((m) => [m.type, m.snapshot?.metadata.index]),
        [[MessageType.MsgSnap, 10]],
      );
      assert.equal(pr.state, ProgressState.Snapshot);
    }
  });
});
