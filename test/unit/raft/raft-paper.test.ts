/*
 * Tests of the Raft core against the Raft paper ("In Search of an Understandable Consensus Algorithm
 * (Extended Version)", Ongaro and Ousterhout, https://raft.github.io/raft.pdf), in the manner of
 * etcd-io/raft's raft_paper_test.go. Each test checks one claim: a few sentences of the paper, quoted
 * or paraphrased in its name, with the section in a `// Reference:` comment at its end.
 *
 * Each test has three parts: it builds the state the sentence starts from by hand (members constructed
 * over a MemoryStorage, state set through loadState/become*), drives the scenario with step() and
 * tick(), and checks the outgoing messages and the resulting state. Multi-member scenarios use the
 * small in-memory network of test-network.ts; the figure-3 guarantees are checked after every step of
 * seeded runs under faults (figure3.ts). Check-quorum and pre-vote are off (the paper has neither)
 * unless a test says why it needs them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Raft } from '../../../server/src/raft/raft.js';
import { StateType } from '../../../server/src/raft/ready.js';
import { ProgressState } from '../../../server/src/raft/tracker/state.js';
import {
  emptyConfState,
  MessageType,
  newEntry,
  newMessage,
  NONE,
  type Entry,
  type Message,
} from '../../../server/src/raftpb/types.js';
import { runFigure3 } from './figure3.js';
import { Network } from './test-network.js';
import {
  acceptAndReply,
  bytes,
  commitNoopEntry,
  electLeader,
  entriesAt,
  ids,
  indexTerms,
  newTestRaft,
  persistUnstable,
  readMessages,
  sortMessages,
  storageWithPeers,
  type TestRaftOptions,
} from './test-raft.js';

type Role = 'follower' | 'candidate' | 'leader';

function become(r: Raft, role: Role): void {
  switch (role) {
    case 'follower':
      r.becomeFollower(1, 2n);
      return;
    case 'candidate':
      r.becomeCandidate();
      return;
    case 'leader':
      electLeader(r);
      return;
  }
}

/** A proposal as a client hands it to the leader (a local message: no term). */
function proposal(to: bigint, data: Uint8Array = new Uint8Array(0)): Message {
  return newMessage({ type: MessageType.MsgProp, from: to, to, entries: [newEntry({ data })] });
}

function hup(id: bigint): Message {
  return newMessage({ type: MessageType.MsgHup, from: id, to: id });
}

/** The member's whole log (storage and unstable tail) as [index, term] pairs. */
function logOf(r: Raft): [number, number][] {
  return indexTerms(r.raftLog.allEntries());
}

describe('Raft paper §5.1: terms', () => {
  it('a server seeing a larger term adopts it; a candidate or leader with a stale term reverts to follower', () => {
    const higherTerm: Message[] = [
      newMessage({ type: MessageType.MsgApp, from: 2n, to: 1n, term: 2 }),
      newMessage({ type: MessageType.MsgHeartbeat, from: 2n, to: 1n, term: 2 }),
      newMessage({ type: MessageType.MsgVote, from: 3n, to: 1n, term: 2 }),
      newMessage({ type: MessageType.MsgVoteResp, from: 3n, to: 1n, term: 2, reject: true }),
    ];
    for (const role of ['follower', 'candidate', 'leader'] as const) {
      for (const m of higherTerm) {
        const what = `${role} <- ${MessageType[m.type]}`;
        const r = newTestRaft(1n, storageWithPeers(ids(3)));
        become(r, role);
        assert.equal(r.term, 1, what);

        r.step(structuredClone(m));

        assert.equal(r.term, 2, what);
        assert.equal(r.state, StateType.StateFollower, what);
        // Only a message from the leader of the new term tells who leads it.
        const fromLeader = m.type === MessageType.MsgApp || m.type === MessageType.MsgHeartbeat;
        assert.equal(r.lead, fromLeader ? 2n : NONE, what);
      }
    }
    // Reference: section 5.1
  });

  it('a request with a stale term is rejected: it changes neither state nor log', () => {
    // The paper says "rejects"; like etcd we drop it without an answer (the sender will learn the
    // newer term from anyone it talks to next).
    const r = newTestRaft(1n, storageWithPeers(ids(3)));
    r.loadState({ term: 2, vote: NONE, commit: 0 });
    r.tick();
    r.tick();
    const stale = [
      newMessage({
        type: MessageType.MsgApp,
        from: 2n,
        to: 1n,
        term: 1,
        entries: entriesAt(1, 1),
        commit: 1,
      }),
      newMessage({ type: MessageType.MsgHeartbeat, from: 2n, to: 1n, term: 1, commit: 1 }),
      newMessage({ type: MessageType.MsgVote, from: 3n, to: 1n, term: 1, index: 5, logTerm: 1 }),
    ];
    for (const m of stale) r.step(m);

    assert.equal(r.term, 2);
    assert.equal(r.state, StateType.StateFollower);
    assert.equal(r.lead, NONE);
    assert.equal(r.vote, NONE);
    assert.equal(r.raftLog.lastIndex(), 0);
    assert.equal(r.raftLog.committed, 0);
    // A stale leader's message does not count as hearing from a leader.
    assert.equal(r.electionElapsed, 2);
    assert.deepEqual(readMessages(r), []);
    // Reference: section 5.1
  });

  it('with check-quorum, a stale leader is answered with the newer term so it steps down', () => {
    // Extension of the claim above (thesis §6.2, etcd): with check-quorum no one campaigns against a
    // live leader, so a leader of an old term that was cut off would never learn the new term unless
    // someone answers it.
    const follower = newTestRaft(1n, storageWithPeers(ids(3)), { checkQuorum: true });
    follower.loadState({ term: 2, vote: NONE, commit: 0 });
    follower.step(newMessage({ type: MessageType.MsgHeartbeat, from: 2n, to: 1n, term: 1 }));
    const msgs = readMessages(follower);
    assert.deepEqual(msgs, [newMessage({ type: MessageType.MsgAppResp, from: 1n, to: 2n, term: 2 })]);

    const staleLeader = newTestRaft(2n, storageWithPeers(ids(3)));
    electLeader(staleLeader);
    assert.equal(staleLeader.term, 1);
    staleLeader.step(msgs[0] as Message);
    assert.equal(staleLeader.state, StateType.StateFollower);
    assert.equal(staleLeader.term, 2);
    // Reference: section 5.1
  });
});

describe('Raft paper §5.2: leader election', () => {
  it('servers start up as followers', () => {
    const r = newTestRaft(1n, storageWithPeers(ids(3)));
    assert.equal(r.state, StateType.StateFollower);
    assert.equal(r.term, 0);
    assert.equal(r.lead, NONE);

    // A restarted server too, keeping its persisted term and vote.
    const s = storageWithPeers(ids(3));
    s.setHardState({ term: 5, vote: 3n, commit: 0 });
    const restarted = newTestRaft(1n, s);
    assert.equal(restarted.state, StateType.StateFollower);
    assert.equal(restarted.term, 5);
    assert.equal(restarted.vote, 3n);
    // Reference: section 5.2
  });

  it('a leader sends periodic heartbeats (AppendEntries with no entries) to all followers', () => {
    const heartbeatTicks = 3;
    const r = newTestRaft(1n, storageWithPeers(ids(3)), { heartbeatTicks });
    electLeader(r);
    for (let i = 0; i < 10; i++) assert.ok(r.appendEntry([newEntry({ data: bytes(`e${i}`) })]));
    readMessages(r);

    for (let i = 1; i < heartbeatTicks; i++) {
      r.tick();
      assert.deepEqual(readMessages(r), [], `no heartbeat after ${i} ticks`);
    }
    r.tick();

    // The commit index a heartbeat carries is capped by what the follower is known to have (0 here).
    assert.deepEqual(sortMessages(readMessages(r)), [
      newMessage({ type: MessageType.MsgHeartbeat, from: 1n, to: 2n, term: 1, commit: 0 }),
      newMessage({ type: MessageType.MsgHeartbeat, from: 1n, to: 3n, term: 1, commit: 0 }),
    ]);
    // Reference: section 5.2
  });

  it('a follower hearing nothing for an election timeout becomes a candidate: new term, own vote, RequestVote to all', () => {
    for (const role of ['follower', 'candidate'] as const) {
      // A candidate whose election did not finish times out the same way and starts a new one.
      const electionTicks = 10;
      const r = newTestRaft(1n, storageWithPeers(ids(3)), { electionTicks });
      become(r, role);
      readMessages(r);

      // The randomized timeout is below 2*electionTicks, so this many ticks always reach it.
      for (let i = 1; i < 2 * electionTicks; i++) r.tick();

      assert.equal(r.term, 2, role);
      assert.equal(r.state, StateType.StateCandidate, role);
      assert.equal(r.vote, 1n, role);
      assert.equal(r.trk.votes.get(1n), true, role);
      assert.deepEqual(
        sortMessages(readMessages(r)),
        [
          newMessage({ type: MessageType.MsgVote, from: 1n, to: 2n, term: 2, index: 0, logTerm: 0 }),
          newMessage({ type: MessageType.MsgVote, from: 1n, to: 3n, term: 2, index: 0, logTerm: 0 }),
        ],
        role,
      );
    }
    // Reference: section 5.2
  });

  it('a server remains a follower as long as it receives valid RPCs from a leader', () => {
    const electionTicks = 10;
    const r = newTestRaft(1n, storageWithPeers(ids(3)), { electionTicks });
    r.becomeFollower(1, 2n);
    // Ten election timeouts, with an AppendEntries or a heartbeat from the leader every few ticks.
    for (let tick = 1; tick <= 10 * electionTicks; tick++) {
      r.tick();
      if (tick % (electionTicks - 1) === 0) {
        const type = tick % 2 === 0 ? MessageType.MsgHeartbeat : MessageType.MsgApp;
        r.step(newMessage({ type, from: 2n, to: 1n, term: 1 }));
      }
      assert.equal(r.state, StateType.StateFollower, `tick ${tick}`);
      assert.equal(r.term, 1);
    }
    assert.ok(readMessages(r).every((m) => m.type !== MessageType.MsgVote));
    // Once the leader falls silent, an election starts within the randomized timeout.
    for (let tick = 0; tick < 2 * electionTicks && r.state === StateType.StateFollower; tick++) r.tick();
    assert.equal(r.state, StateType.StateCandidate);
    assert.equal(r.term, 2);
    // Reference: section 5.2
  });

  it('one round of RequestVote: win with a majority, fall back on a majority of denials, else keep waiting', () => {
    const cases: { size: number; votes: [bigint, boolean][]; want: StateType }[] = [
      // A candidate wins an election if it receives votes from a majority of the servers.
      { size: 1, votes: [], want: StateType.StateLeader },
      {
        size: 3,
        votes: [
          [2n, true],
          [3n, true],
        ],
        want: StateType.StateLeader,
      },
      { size: 3, votes: [[2n, true]], want: StateType.StateLeader },
      {
        size: 5,
        votes: [
          [2n, true],
          [3n, true],
          [4n, true],
          [5n, true],
        ],
        want: StateType.StateLeader,
      },
      {
        size: 5,
        votes: [
          [2n, true],
          [3n, true],
          [4n, true],
        ],
        want: StateType.StateLeader,
      },
      {
        size: 5,
        votes: [
          [2n, true],
          [3n, true],
        ],
        want: StateType.StateLeader,
      },
      // Denied by a majority: the election is lost.
      {
        size: 3,
        votes: [
          [2n, false],
          [3n, false],
        ],
        want: StateType.StateFollower,
      },
      {
        size: 5,
        votes: [
          [2n, false],
          [3n, false],
          [4n, false],
          [5n, false],
        ],
        want: StateType.StateFollower,
      },
      {
        size: 5,
        votes: [
          [2n, true],
          [3n, false],
          [4n, false],
          [5n, false],
        ],
        want: StateType.StateFollower,
      },
      // Neither: the candidate stays one until its timeout.
      { size: 3, votes: [], want: StateType.StateCandidate },
      { size: 5, votes: [[2n, true]], want: StateType.StateCandidate },
      {
        size: 5,
        votes: [
          [2n, false],
          [3n, false],
        ],
        want: StateType.StateCandidate,
      },
      { size: 5, votes: [], want: StateType.StateCandidate },
    ];
    for (const [i, tt] of cases.entries()) {
      const r = newTestRaft(1n, storageWithPeers(ids(tt.size)));
      r.step(hup(1n));
      for (const [from, granted] of tt.votes) {
        r.step(newMessage({ type: MessageType.MsgVoteResp, from, to: 1n, term: r.term, reject: !granted }));
      }
      assert.equal(r.state, tt.want, `#${i}`);
      assert.equal(r.term, 1, `#${i}`);
    }
    // Reference: section 5.2
  });

  it('each server votes for at most one candidate in a term, first come first served', () => {
    const cases: { vote: bigint; candidate: bigint; reject: boolean }[] = [
      { vote: NONE, candidate: 2n, reject: false },
      { vote: NONE, candidate: 3n, reject: false },
      { vote: 2n, candidate: 2n, reject: false },
      { vote: 3n, candidate: 3n, reject: false },
      { vote: 2n, candidate: 3n, reject: true },
      { vote: 3n, candidate: 2n, reject: true },
    ];
    for (const [i, tt] of cases.entries()) {
      const r = newTestRaft(1n, storageWithPeers(ids(3)));
      r.loadState({ term: 1, vote: tt.vote, commit: 0 });
      r.step(newMessage({ type: MessageType.MsgVote, from: tt.candidate, to: 1n, term: 1 }));
      assert.deepEqual(
        readMessages(r),
        [
          newMessage({
            type: MessageType.MsgVoteResp,
            from: 1n,
            to: tt.candidate,
            term: 1,
            reject: tt.reject,
          }),
        ],
        `#${i}`,
      );
      assert.equal(r.vote, tt.vote === NONE ? tt.candidate : tt.vote, `#${i}`);
    }

    // The same as a sequence: the first request of the term gets the vote, a later rival does not.
    const r = newTestRaft(1n, storageWithPeers(ids(3)));
    const granted = (from: bigint): boolean => {
      r.step(newMessage({ type: MessageType.MsgVote, from, to: 1n, term: 4 }));
      const [resp, ...rest] = readMessages(r);
      assert.equal(rest.length, 0);
      assert.equal(resp?.type, MessageType.MsgVoteResp);
      return resp.reject === false;
    };
    assert.equal(granted(3n), true);
    assert.equal(granted(2n), false);
    assert.equal(granted(3n), true, 'a repeated request (e.g. a retransmission) is granted again');
    assert.equal(r.vote, 3n);

    // Having heard from the leader of the term counts as having chosen (etcd): a follower that never
    // voted in term 5 but follows 2 does not vote for a rival candidate of that term.
    const f = newTestRaft(1n, storageWithPeers(ids(3)));
    f.step(newMessage({ type: MessageType.MsgHeartbeat, from: 2n, to: 1n, term: 5 }));
    readMessages(f);
    assert.equal(f.lead, 2n);
    assert.equal(f.vote, NONE);
    f.step(newMessage({ type: MessageType.MsgVote, from: 3n, to: 1n, term: 5 }));
    assert.deepEqual(
      readMessages(f).map((m) => [m.type, m.reject]),
      [[MessageType.MsgVoteResp, true]],
    );
    assert.equal(f.vote, NONE);
    // Reference: section 5.2
  });

  it('a candidate receiving AppendEntries from a leader of at least its term returns to follower', () => {
    for (const term of [1, 2]) {
      const r = newTestRaft(1n, storageWithPeers(ids(3)));
      r.step(hup(1n));
      assert.equal(r.state, StateType.StateCandidate);
      assert.equal(r.term, 1);

      r.step(newMessage({ type: MessageType.MsgApp, from: 2n, to: 1n, term }));

      assert.equal(r.state, StateType.StateFollower, `term ${term}`);
      assert.equal(r.term, term);
      assert.equal(r.lead, 2n);
      // ...and answers the append as a follower.
      const [resp] = readMessages(r).filter((m) => m.type === MessageType.MsgAppResp);
      assert.equal(resp?.reject, false);
    }
    // Reference: section 5.2
  });

  it('a candidate receiving AppendEntries of a smaller term rejects it and stays a candidate', () => {
    const r = newTestRaft(1n, storageWithPeers(ids(3)));
    r.loadState({ term: 1, vote: NONE, commit: 0 });
    r.step(hup(1n));
    assert.equal(r.term, 2);
    readMessages(r);

    r.step(newMessage({ type: MessageType.MsgApp, from: 2n, to: 1n, term: 1, entries: entriesAt(1, 1) }));
    r.step(newMessage({ type: MessageType.MsgHeartbeat, from: 2n, to: 1n, term: 1 }));

    assert.equal(r.state, StateType.StateCandidate);
    assert.equal(r.term, 2);
    assert.equal(r.lead, NONE);
    assert.equal(r.raftLog.lastIndex(), 0);
    // The election goes on: the votes still count.
    r.step(newMessage({ type: MessageType.MsgVoteResp, from: 3n, to: 1n, term: 2 }));
    assert.equal(r.state, StateType.StateLeader);
    // Reference: section 5.2
  });

  it('split vote: no candidate wins, each times out and a new election in a new term decides', () => {
    // Three voters; 3 is unreachable, so 1 and 2 campaigning at once each end with one vote of three.
    const r1 = newTestRaft(1n, storageWithPeers(ids(3)));
    const r2 = newTestRaft(2n, storageWithPeers(ids(3)));
    const net = new Network([r1, r2, undefined]);
    r1.step(hup(1n));
    r2.step(hup(2n));
    net.send(...readMessages(r1), ...readMessages(r2));

    for (const r of [r1, r2]) {
      assert.equal(r.state, StateType.StateCandidate, `member ${r.id}`);
      assert.equal(r.term, 1);
      assert.equal(r.vote, r.id);
    }

    // The one whose randomized timeout ends first starts a new election at term 2 and wins it.
    for (
      let t = 0;
      t < 2 * r1.electionTimeout && r1.state === StateType.StateCandidate && r1.term === 1;
      t++
    ) {
      r1.tick();
      net.send(...readMessages(r1));
    }
    assert.equal(r1.term, 2);
    net.send(...readMessages(r1));
    assert.equal(r1.state, StateType.StateLeader);
    assert.equal(r2.state, StateType.StateFollower);
    assert.equal(r2.term, 2);
    assert.equal(r2.lead, 1n);
    // Reference: section 5.2
  });

  it('election timeouts are chosen randomly from a fixed interval [et, 2et)', () => {
    const electionTicks = 10;
    for (const role of ['follower', 'candidate'] as const) {
      const r = newTestRaft(1n, storageWithPeers(ids(3)), { electionTicks });
      const seen = new Set<number>();
      for (let round = 0; round < 50 * electionTicks; round++) {
        if (role === 'follower') r.becomeFollower(r.term + 1, 2n);
        else r.becomeCandidate();
        readMessages(r);
        let ticks = 0;
        while (readMessages(r).length === 0) {
          assert.ok(ticks < 2 * electionTicks, `${role}: no election within ${2 * electionTicks} ticks`);
          r.tick();
          ticks++;
        }
        assert.ok(ticks >= electionTicks, `${role}: timed out after only ${ticks} ticks`);
        seen.add(ticks);
      }
      for (let d = electionTicks; d < 2 * electionTicks; d++) {
        assert.ok(seen.has(d), `${role}: a timeout of ${d} ticks should happen`);
      }
    }
    // Reference: section 5.2
  });

  it('randomized timeouts spread out the servers, so that in most cases only one times out', () => {
    const electionTicks = 10;
    const size = 5;
    for (const role of ['follower', 'candidate'] as const) {
      const rs = ids(size).map((id) => newTestRaft(id, storageWithPeers(ids(size)), { electionTicks }));
      let conflicts = 0;
      const rounds = 1000;
      for (let round = 0; round < rounds; round++) {
        for (const r of rs) {
          if (role === 'follower') r.becomeFollower(r.term + 1, NONE);
          else r.becomeCandidate();
          readMessages(r);
        }
        let timedOut = 0;
        for (let tick = 0; timedOut === 0 && tick < 2 * electionTicks; tick++) {
          for (const r of rs) {
            r.tick();
            if (readMessages(r).length > 0) timedOut++;
          }
        }
        assert.ok(timedOut > 0, `${role}: nobody timed out within ${2 * electionTicks} ticks`);
        // Several servers timing out on the same tick would split the vote.
        if (timedOut > 1) conflicts++;
      }
      assert.ok(
        conflicts / rounds <= 0.3,
        `${role}: ${conflicts} of ${rounds} rounds had simultaneous timeouts`,
      );
    }
    // Reference: section 5.2
  });
});

describe('Raft paper §5.3: log replication', () => {
  it('the leader appends a proposal to its log, then sends AppendEntries naming the preceding entry', () => {
    const s = storageWithPeers(ids(3));
    const r = newTestRaft(1n, s);
    electLeader(r);
    commitNoopEntry(r, s);
    const li = r.raftLog.lastIndex();

    r.step(proposal(1n, bytes('some data')));

    assert.equal(r.raftLog.lastIndex(), li + 1);
    assert.equal(r.raftLog.committed, li);
    const want = [newEntry({ index: li + 1, term: 1, data: bytes('some data') })];
    assert.deepEqual(sortMessages(readMessages(r)), [
      newMessage({
        type: MessageType.MsgApp,
        from: 1n,
        to: 2n,
        term: 1,
        index: li,
        logTerm: 1,
        entries: want,
        commit: li,
      }),
      newMessage({
        type: MessageType.MsgApp,
        from: 1n,
        to: 3n,
        term: 1,
        index: li,
        logTerm: 1,
        entries: want,
        commit: li,
      }),
    ]);
    // The new entry is handed out to be written to stable storage.
    assert.deepEqual(r.raftLog.unstableEntries(), want);
    // Reference: section 5.3
  });

  it('once replicated, the leader commits and applies the entry and tells followers the new commit index', () => {
    const s = storageWithPeers(ids(3));
    const r = newTestRaft(1n, s);
    electLeader(r);
    commitNoopEntry(r, s);
    const li = r.raftLog.lastIndex();
    r.step(proposal(1n, bytes('some data')));

    for (const m of readMessages(r)) r.step(acceptAndReply(m));

    assert.equal(r.raftLog.committed, li + 1);
    assert.deepEqual(r.raftLog.nextCommittedEntries(), [
      newEntry({ index: li + 1, term: 1, data: bytes('some data') }),
    ]);
    const msgs = sortMessages(readMessages(r));
    assert.deepEqual(
      msgs.map((m) => [m.to, m.type, m.commit]),
      [
        [2n, MessageType.MsgApp, li + 1],
        [3n, MessageType.MsgApp, li + 1],
      ],
    );
    // Reference: section 5.3
  });

  it('an entry is committed once the leader that created it has replicated it on a majority', () => {
    const cases: { size: number; acceptors: bigint[]; committed: boolean }[] = [
      { size: 1, acceptors: [], committed: true },
      { size: 3, acceptors: [], committed: false },
      { size: 3, acceptors: [2n], committed: true },
      { size: 3, acceptors: [2n, 3n], committed: true },
      { size: 5, acceptors: [], committed: false },
      { size: 5, acceptors: [2n], committed: false },
      { size: 5, acceptors: [2n, 3n], committed: true },
      { size: 5, acceptors: [2n, 3n, 4n], committed: true },
      { size: 5, acceptors: [2n, 3n, 4n, 5n], committed: true },
    ];
    for (const [i, tt] of cases.entries()) {
      const s = storageWithPeers(ids(tt.size));
      const r = newTestRaft(1n, s);
      electLeader(r);
      commitNoopEntry(r, s);
      const li = r.raftLog.lastIndex();
      r.step(proposal(1n, bytes('some data')));
      for (const m of readMessages(r)) {
        if (tt.acceptors.includes(m.to)) r.step(acceptAndReply(m));
      }
      assert.equal(r.raftLog.committed > li, tt.committed, `#${i}`);
    }
    // Reference: section 5.3
  });

  it("committing an entry commits all preceding entries, including previous leaders'; they apply in log order", () => {
    const cases: Entry[][] = [[], entriesAt(1, 2), entriesAt(1, 1, 2), entriesAt(1, 1)];
    for (const [i, prior] of cases.entries()) {
      const s = storageWithPeers(ids(3));
      s.append(prior);
      const r = newTestRaft(1n, s);
      r.loadState({ term: 2, vote: NONE, commit: 0 });
      electLeader(r);
      r.step(proposal(1n, bytes('some data')));

      for (const m of readMessages(r)) r.step(acceptAndReply(m));

      const li = prior.length;
      assert.deepEqual(
        r.raftLog.nextCommittedEntries(),
        [
          ...prior,
          newEntry({ index: li + 1, term: 3 }),
          newEntry({ index: li + 2, term: 3, data: bytes('some data') }),
        ],
        `#${i}`,
      );
    }
    // Reference: section 5.3
  });

  it('a follower that learns an entry is committed applies it (and everything before it, in order)', () => {
    const e = (index: number, data: string): Entry => newEntry({ index, term: 1, data: bytes(data) });
    const cases: { ents: Entry[]; commit: number }[] = [
      { ents: [e(1, 'some data')], commit: 1 },
      { ents: [e(1, 'some data'), e(2, 'some data2')], commit: 2 },
      { ents: [e(1, 'some data2'), e(2, 'some data')], commit: 2 },
      { ents: [e(1, 'some data'), e(2, 'some data2')], commit: 1 },
    ];
    for (const [i, tt] of cases.entries()) {
      const r = newTestRaft(1n, storageWithPeers(ids(3)));
      r.becomeFollower(1, 2n);

      r.step(
        newMessage({
          type: MessageType.MsgApp,
          from: 2n,
          to: 1n,
          term: 1,
          entries: tt.ents,
          commit: tt.commit,
        }),
      );

      assert.equal(r.raftLog.committed, tt.commit, `#${i}`);
      assert.deepEqual(r.raftLog.nextCommittedEntries(), tt.ents.slice(0, tt.commit), `#${i}`);
    }
    // Reference: section 5.3
  });

  it('followers eventually find out the commit index from later AppendEntries and heartbeats', () => {
    const rs = ids(3).map((id) => newTestRaft(id, storageWithPeers(ids(3))));
    const [r1, r2, r3] = rs as [Raft, Raft, Raft];
    const net = new Network(rs);
    net.send(hup(1n));
    assert.equal(r1.state, StateType.StateLeader);
    net.send(proposal(1n, bytes('x')));
    const committed = r1.raftLog.committed;
    assert.equal(committed, 2);
    for (const r of [r2, r3]) assert.equal(r.raftLog.committed, committed, `member ${r.id}`);

    // Member 3 misses the appends of the next proposal; a heartbeat brings its commit index only up
    // to what it is known to hold, and the append that follows the heartbeat's answer the rest.
    net.cut(1n, 3n);
    net.send(proposal(1n, bytes('y')));
    assert.equal(r1.raftLog.committed, 3);
    assert.equal(r2.raftLog.committed, 3);
    assert.equal(r3.raftLog.committed, 2);
    net.recover();
    r1.tick();
    net.send(...readMessages(r1));
    assert.equal(r3.raftLog.committed, 3);
    assert.deepEqual(logOf(r3), logOf(r1));
    // Reference: section 5.3
  });

  it('a follower refuses AppendEntries unless its log has an entry at the preceding index and term', () => {
    const ents = entriesAt(1, 1, 2);
    const cases: {
      term: number;
      index: number;
      windex: number;
      reject: boolean;
      hint: number;
      hintTerm: number;
    }[] = [
      // Matches a committed entry.
      { term: 0, index: 0, windex: 1, reject: false, hint: 0, hintTerm: 0 },
      { term: 1, index: 1, windex: 1, reject: false, hint: 0, hintTerm: 0 },
      // Matches an uncommitted entry.
      { term: 2, index: 2, windex: 2, reject: false, hint: 0, hintTerm: 0 },
      // An entry at that index with another term.
      { term: 1, index: 2, windex: 2, reject: true, hint: 1, hintTerm: 1 },
      // No entry at that index.
      { term: 3, index: 3, windex: 3, reject: true, hint: 2, hintTerm: 2 },
    ];
    for (const [i, tt] of cases.entries()) {
      const s = storageWithPeers(ids(3));
      s.append(ents);
      const r = newTestRaft(1n, s);
      r.loadState({ term: 0, vote: NONE, commit: 1 });
      r.becomeFollower(2, 2n);

      r.step(
        newMessage({
          type: MessageType.MsgApp,
          from: 2n,
          to: 1n,
          term: 2,
          logTerm: tt.term,
          index: tt.index,
        }),
      );

      assert.deepEqual(
        readMessages(r),
        [
          newMessage({
            type: MessageType.MsgAppResp,
            from: 1n,
            to: 2n,
            term: 2,
            index: tt.windex,
            reject: tt.reject,
            rejectHint: tt.hint,
            logTerm: tt.hintTerm,
          }),
        ],
        `#${i}`,
      );
      assert.deepEqual(logOf(r), indexTerms(ents), `#${i}: the log is unchanged`);
    }
    // Reference: section 5.3
  });

  it("a follower deletes a conflicting entry and all that follow it, and appends the leader's new entries", () => {
    const cases: { index: number; term: number; ents: Entry[]; want: Entry[]; unstable: Entry[] }[] = [
      { index: 2, term: 2, ents: entriesAt(3, 3), want: entriesAt(1, 1, 2, 3), unstable: entriesAt(3, 3) },
      {
        index: 1,
        term: 1,
        ents: entriesAt(2, 3, 4),
        want: entriesAt(1, 1, 3, 4),
        unstable: entriesAt(2, 3, 4),
      },
      // Entries the follower already has are not rewritten.
      { index: 0, term: 0, ents: entriesAt(1, 1), want: entriesAt(1, 1, 2), unstable: [] },
      { index: 0, term: 0, ents: entriesAt(1, 3), want: entriesAt(1, 3), unstable: entriesAt(1, 3) },
    ];
    for (const [i, tt] of cases.entries()) {
      const s = storageWithPeers(ids(3));
      s.append(entriesAt(1, 1, 2));
      const r = newTestRaft(1n, s);
      r.becomeFollower(2, 2n);

      r.step(
        newMessage({
          type: MessageType.MsgApp,
          from: 2n,
          to: 1n,
          term: 2,
          logTerm: tt.term,
          index: tt.index,
          entries: tt.ents,
        }),
      );

      assert.deepEqual(r.raftLog.allEntries(), tt.want, `#${i}`);
      // What changed is handed out to be written to stable storage.
      assert.deepEqual(r.raftLog.unstableEntries(), tt.unstable, `#${i}`);
    }
    // Reference: section 5.3
  });

  it("the leader backs up nextIndex after rejections until the logs match, then brings the follower's log to its own", () => {
    // The follower logs (a)-(f) of figure 7; the leader's log is the figure's top line, at term 8.
    const leaderTerms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const followers = [
      [1, 1, 1, 4, 4, 5, 5, 6, 6],
      [1, 1, 1, 4],
      [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
      [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
      [1, 1, 1, 4, 4, 4, 4],
      [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
    ];
    const term = 8;
    for (const [i, followerTerms] of followers.entries()) {
      const leadStorage = storageWithPeers(ids(3));
      leadStorage.append(entriesAt(1, ...leaderTerms));
      const lead = newTestRaft(1n, leadStorage);
      lead.loadState({ term, vote: NONE, commit: lead.raftLog.lastIndex() });
      const followerStorage = storageWithPeers(ids(3));
      followerStorage.append(entriesAt(1, ...followerTerms));
      const follower = newTestRaft(2n, followerStorage);
      follower.loadState({ term: term - 1, vote: NONE, commit: 0 });
      // A third voter is needed: a follower with a more up-to-date log denies its vote, and then the
      // vote of 3 (a black hole here, answered by hand) elects the leader.
      const net = new Network([lead, follower, undefined]);
      net.send(hup(1n));
      net.send(newMessage({ type: MessageType.MsgVoteResp, from: 3n, to: 1n, term: term + 1 }));
      assert.equal(lead.state, StateType.StateLeader, `#${i}`);
      net.send(proposal(1n));

      assert.deepEqual(logOf(follower), logOf(lead), `#${i}`);
      assert.equal(follower.raftLog.committed, lead.raftLog.committed, `#${i}`);
      assert.equal(lead.raftLog.committed, leaderTerms.length + 2, `#${i}`);
    }
    // Reference: section 5.3, figure 7
  });

  it('a leader never overwrites or deletes entries in its own log; it only appends', () => {
    // Figure 7 (d): the follower has entries of term 7 the leader lacks, and a stale leader of term 7
    // tries to push them on the new leader too.
    const leaderTerms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const leadStorage = storageWithPeers(ids(3));
    leadStorage.append(entriesAt(1, ...leaderTerms));
    const lead = newTestRaft(1n, leadStorage);
    lead.loadState({ term: 8, vote: NONE, commit: 0 });
    const followerStorage = storageWithPeers(ids(3));
    followerStorage.append(entriesAt(1, 1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7));
    const follower = newTestRaft(2n, followerStorage);
    follower.loadState({ term: 7, vote: NONE, commit: 0 });
    const net = new Network([lead, follower, undefined]);
    net.send(hup(1n));
    net.send(newMessage({ type: MessageType.MsgVoteResp, from: 3n, to: 1n, term: 9 }));
    assert.equal(lead.state, StateType.StateLeader);
    const before = logOf(lead);

    // The follower's conflicting answers and a stale leader's append all leave the leader's log alone.
    lead.step(
      newMessage({
        type: MessageType.MsgAppResp,
        from: 2n,
        to: 1n,
        term: 9,
        index: 12,
        reject: true,
        rejectHint: 12,
        logTerm: 7,
      }),
    );
    lead.step(
      newMessage({
        type: MessageType.MsgApp,
        from: 3n,
        to: 1n,
        term: 7,
        index: 10,
        logTerm: 6,
        entries: entriesAt(11, 7, 7),
        commit: 12,
      }),
    );
    assert.deepEqual(logOf(lead), before);
    assert.equal(lead.state, StateType.StateLeader);
    net.send(...readMessages(lead));

    net.send(proposal(1n));
    net.send(proposal(1n));
    assert.deepEqual(logOf(lead), [...before, [12, 9], [13, 9]]);
    assert.deepEqual(logOf(follower), logOf(lead));
    // Reference: section 5.3
  });
});

describe('Raft paper §5.4: safety', () => {
  it('the election restriction: a candidate whose log lacks a committed entry cannot win, so leaders hold every committed entry', () => {
    const rs = ids(3).map((id) => newTestRaft(id, storageWithPeers(ids(3))));
    const [r1, r2, r3] = rs as [Raft, Raft, Raft];
    const net = new Network(rs);
    net.send(hup(1n));
    // 3 misses an entry that 1 and 2 commit.
    net.isolate(3n);
    net.send(proposal(1n, bytes('committed')));
    assert.equal(r1.raftLog.committed, 2);
    assert.equal(r2.raftLog.lastIndex(), 2);
    assert.equal(r3.raftLog.lastIndex(), 1);
    // The leader goes away; 3 comes back first and campaigns.
    net.recover();
    net.isolate(1n);
    net.send(hup(3n));
    assert.notEqual(r3.state, StateType.StateLeader);
    assert.equal(r2.vote, NONE, '2 denied its vote');
    // 2, whose log has the entry, can win (3 votes for it), and the entry survives.
    net.send(hup(2n));
    assert.equal(r2.state, StateType.StateLeader);
    assert.deepEqual(r3.raftLog.allEntries()[1]?.data, bytes('committed'));
    assert.equal(r3.raftLog.committed, 3);
    // Reference: section 5.4.1
  });

  it("a RequestVote carries the candidate's last log index and term, and goes to every other server", () => {
    const cases: { ents: Entry[]; wterm: number }[] = [
      { ents: entriesAt(1, 1), wterm: 2 },
      { ents: entriesAt(1, 1, 2), wterm: 3 },
    ];
    for (const [j, tt] of cases.entries()) {
      const r = newTestRaft(1n, storageWithPeers(ids(3)));
      r.step(
        newMessage({
          type: MessageType.MsgApp,
          from: 2n,
          to: 1n,
          term: tt.wterm - 1,
          index: 0,
          logTerm: 0,
          entries: tt.ents,
        }),
      );
      readMessages(r);

      for (let i = 1; i < 2 * r.electionTimeout; i++) r.tick();

      const msgs = sortMessages(readMessages(r));
      const last = tt.ents[tt.ents.length - 1] as Entry;
      assert.deepEqual(
        msgs.map((m) => [m.type, m.to, m.term, m.index, m.logTerm]),
        [
          [MessageType.MsgVote, 2n, tt.wterm, last.index, last.term],
          [MessageType.MsgVote, 3n, tt.wterm, last.index, last.term],
        ],
        `#${j}`,
      );
    }
    // Reference: section 5.4.1
  });

  it('a voter denies its vote to a candidate whose log is less up-to-date than its own', () => {
    const cases: { ents: Entry[]; logTerm: number; index: number; reject: boolean }[] = [
      // Same last term: the longer log is more up-to-date.
      { ents: entriesAt(1, 1), logTerm: 1, index: 1, reject: false },
      { ents: entriesAt(1, 1), logTerm: 1, index: 2, reject: false },
      { ents: entriesAt(1, 1, 1), logTerm: 1, index: 1, reject: true },
      // The candidate's last term is later.
      { ents: entriesAt(1, 1), logTerm: 2, index: 1, reject: false },
      { ents: entriesAt(1, 1), logTerm: 2, index: 2, reject: false },
      { ents: entriesAt(1, 1, 1), logTerm: 2, index: 1, reject: false },
      // The voter's last term is later.
      { ents: entriesAt(1, 2), logTerm: 1, index: 1, reject: true },
      { ents: entriesAt(1, 2), logTerm: 1, index: 2, reject: true },
      { ents: entriesAt(1, 2, 2), logTerm: 1, index: 1, reject: true },
      { ents: entriesAt(1, 1, 1), logTerm: 1, index: 1, reject: true },
    ];
    for (const [i, tt] of cases.entries()) {
      const s = storageWithPeers(ids(2));
      s.append(tt.ents);
      const r = newTestRaft(1n, s);

      r.step(
        newMessage({
          type: MessageType.MsgVote,
          from: 2n,
          to: 1n,
          term: 3,
          logTerm: tt.logTerm,
          index: tt.index,
        }),
      );

      const msgs = readMessages(r);
      assert.equal(msgs.length, 1, `#${i}`);
      assert.equal(msgs[0]?.type, MessageType.MsgVoteResp, `#${i}`);
      assert.equal(msgs[0]?.reject, tt.reject, `#${i}`);
      assert.equal(r.vote, tt.reject ? NONE : 2n, `#${i}`);
    }
    // Reference: section 5.4.1
  });

  it('a leader commits only entries of its current term by counting replicas; earlier ones commit with them', () => {
    const cases: { index: number; wcommit: number }[] = [
      // Entries of earlier terms are not committed by counting...
      { index: 1, wcommit: 0 },
      { index: 2, wcommit: 0 },
      // ...but once an entry of the current term is, everything before it is too.
      { index: 3, wcommit: 3 },
    ];
    for (const [i, tt] of cases.entries()) {
      const s = storageWithPeers(ids(2));
      s.append(entriesAt(1, 1, 2));
      const r = newTestRaft(1n, s);
      r.loadState({ term: 2, vote: NONE, commit: 0 });
      electLeader(r);
      assert.equal(r.term, 3);
      readMessages(r);
      r.step(proposal(1n));

      r.step(newMessage({ type: MessageType.MsgAppResp, from: 2n, to: 1n, term: r.term, index: tt.index }));

      assert.equal(r.raftLog.committed, tt.wcommit, `#${i}`);
      assert.equal(r.trk.progress.get(2n)?.state, ProgressState.Replicate, `#${i}`);
    }
    // Reference: section 5.4.2
  });
});

describe('Raft paper §5.5: follower and candidate crashes', () => {
  it('Raft RPCs are idempotent: a retransmitted AppendEntries or RequestVote changes nothing', () => {
    const s = storageWithPeers(ids(3));
    const r = newTestRaft(1n, s);
    const append = newMessage({
      type: MessageType.MsgApp,
      from: 2n,
      to: 1n,
      term: 1,
      index: 0,
      logTerm: 0,
      entries: [
        newEntry({ index: 1, term: 1, data: bytes('a') }),
        newEntry({ index: 2, term: 1, data: bytes('b') }),
      ],
      commit: 1,
    });
    r.step(structuredClone(append));
    const first = readMessages(r);
    const log = r.raftLog.allEntries();
    persistUnstable(r, s);

    r.step(structuredClone(append));
    // Accepted again (the answer may name only the committed prefix: anything up to it is settled).
    assert.deepEqual(
      readMessages(r).map((m) => [m.type, m.reject]),
      first.map((m) => [m.type, m.reject]),
    );
    assert.deepEqual(r.raftLog.allEntries(), log, 'the same log');
    assert.deepEqual(r.raftLog.unstableEntries(), [], 'nothing to write again');
    assert.equal(r.raftLog.committed, 1);

    // A duplicated older append (a prefix of what the follower has) does not truncate the log.
    r.step(
      newMessage({
        ...structuredClone(append),
        entries: [newEntry({ index: 1, term: 1, data: bytes('a') })],
      }),
    );
    assert.deepEqual(r.raftLog.allEntries(), log);
    readMessages(r);

    const vote = newMessage({ type: MessageType.MsgVote, from: 3n, to: 1n, term: 2, index: 2, logTerm: 1 });
    r.step(structuredClone(vote));
    const granted = readMessages(r);
    r.step(structuredClone(vote));
    assert.deepEqual(readMessages(r), granted);
    assert.equal(granted[0]?.reject, false);
    assert.equal(r.vote, 3n);
    // Reference: section 5.5
  });
});

describe('Raft paper §7: log compaction', () => {
  function snapshotMessage(index: number, term: number): Message {
    return newMessage({
      type: MessageType.MsgSnap,
      from: 2n,
      to: 1n,
      term: 3,
      snapshot: {
        data: bytes(`state@${index}`),
        metadata: { index, term, confState: { ...emptyConfState(), voters: ids(3) } },
      },
    });
  }

  function follower(terms: number[], commit: number): Raft {
    const s = storageWithPeers(ids(3));
    s.append(entriesAt(1, ...terms));
    const r = newTestRaft(1n, s);
    r.loadState({ term: 2, vote: NONE, commit });
    return r;
  }

  it('a snapshot with information the follower lacks replaces its entire log', () => {
    // The follower's entries conflict with the snapshot's last entry (or end before it).
    for (const terms of [[1, 1, 2, 2], [1, 1, 1, 1, 1, 2, 2, 2], [1]]) {
      const r = follower(terms, 1);
      r.step(snapshotMessage(6, 3));

      assert.equal(r.raftLog.committed, 6, `${terms.join(',')}`);
      assert.equal(r.raftLog.firstIndex(), 7);
      assert.equal(r.raftLog.lastIndex(), 6);
      assert.equal(r.raftLog.lastTerm(), 3);
      assert.equal(r.raftLog.hasPendingSnapshot(), true);
      assert.deepEqual(r.raftLog.unstableEntries(), []);
      assert.deepEqual(
        readMessages(r).map((m) => [m.type, m.to, m.index, m.reject]),
        [[MessageType.MsgAppResp, 2n, 6, false]],
      );
    }
    // Reference: section 7
  });

  it('a snapshot describing a prefix of the follower’s log keeps the entries after it', () => {
    const r = follower([1, 1, 3, 3, 3, 3, 3, 3], 2);
    const before = r.raftLog.allEntries();
    r.step(snapshotMessage(6, 3));

    // The entries covered by the snapshot are committed; the ones following it are retained.
    assert.equal(r.raftLog.committed, 6);
    assert.equal(r.raftLog.hasPendingSnapshot(), false);
    assert.deepEqual(r.raftLog.allEntries(), before);
    assert.deepEqual(
      readMessages(r).map((m) => [m.type, m.index, m.reject]),
      [[MessageType.MsgAppResp, 6, false]],
    );
    // Reference: section 7
  });

  it('a snapshot no newer than what the follower has committed is ignored', () => {
    const r = follower([1, 1, 3, 3, 3, 3], 5);
    const before = r.raftLog.allEntries();
    r.step(snapshotMessage(4, 3));

    assert.equal(r.raftLog.committed, 5);
    assert.equal(r.raftLog.hasPendingSnapshot(), false);
    assert.deepEqual(r.raftLog.allEntries(), before);
    // The answer tells the leader how far the follower is.
    assert.deepEqual(
      readMessages(r).map((m) => [m.type, m.index, m.reject]),
      [[MessageType.MsgAppResp, 5, false]],
    );
    // Reference: section 7
  });
});

describe('Raft paper §8: client interaction', () => {
  it('a new leader commits a blank no-op entry at the start of its term', () => {
    const s = storageWithPeers(ids(3));
    s.append(entriesAt(1, 1, 1));
    const r = newTestRaft(1n, s);
    r.loadState({ term: 1, vote: NONE, commit: 0 });
    electLeader(r);
    assert.deepEqual(r.raftLog.unstableEntries(), [newEntry({ index: 3, term: 2 })]);
    r.bcastAppend();
    for (const m of readMessages(r)) r.step(acceptAndReply(m));
    // Committing the no-op commits the previous term's entries with it (§5.4.2).
    assert.equal(r.raftLog.committed, 3);
    // Reference: section 8
  });

  it('a leader answers a read only after a heartbeat round with a majority shows it was not deposed', () => {
    const rs = ids(3).map((id) => newTestRaft(id, storageWithPeers(ids(3))));
    const [r1] = rs as [Raft];
    const net = new Network(rs);
    net.send(hup(1n));
    const read = (ctx: string): Message =>
      newMessage({
        type: MessageType.MsgReadIndex,
        from: 1n,
        to: 1n,
        entries: [newEntry({ data: bytes(ctx) })],
      });

    // Cut off from both followers, the leader cannot know it still leads: no answer.
    net.isolate(2n);
    net.isolate(3n);
    net.send(read('a'));
    assert.equal(r1.readStates.length, 0);
    // With one follower back, the heartbeat round reaches a majority and the read is answered at the
    // commit index.
    net.recover();
    net.isolate(3n);
    net.send(read('b'));
    assert.deepEqual(
      r1.readStates.map((rs) => [rs.index, new TextDecoder().decode(rs.requestCtx)]),
      [
        [1, 'a'],
        [1, 'b'],
      ],
    );
    // Reference: section 8
  });
});

describe('Raft paper figure 3: the guarantees hold at all times', () => {
  // figure3.ts: five members under loss, duplication, reordering, timeouts, crash-restarts and log
  // compaction, checked after every step; then the network heals and they must converge.
  const configs: [string, number, TestRaftOptions][] = [
    ['five members as in the paper (no pre-vote, no check-quorum, no limits)', 5, {}],
    [
      'five members with pre-vote, check-quorum and tight flow-control limits',
      5,
      {
        checkQuorum: true,
        preVote: true,
        maxInflightMsgs: 2,
        maxSizePerMsgBytes: 60,
        maxCommittedSizePerReadyBytes: 30,
        maxUncommittedEntriesBytes: 100,
      },
    ],
    [
      'four members (an even group) with check-quorum and short election timeouts',
      4,
      { checkQuorum: true, electionTicks: 3 },
    ],
  ];
  for (const [name, size, raft] of configs) {
    it(`Election Safety, Leader Completeness, State Machine Safety, Log Matching: ${name}`, () => {
      const total = { leaders: 0, committed: 0, snapshotsInstalled: 0 };
      for (let seed = 1; seed <= 25; seed++) {
        const stats = runFigure3({ seed, steps: 500, size, raft });
        total.leaders += stats.leaders;
        total.committed += stats.committed;
        total.snapshotsInstalled += stats.snapshotsInstalled;
      }
      // The runs must have exercised something: elections, commits, snapshots.
      assert.ok(total.leaders >= 40, `only ${total.leaders} leaders elected`);
      assert.ok(total.committed >= 500, `only ${total.committed} entries committed`);
      assert.ok(total.snapshotsInstalled >= 3, `only ${total.snapshotsInstalled} snapshots installed`);
      // Reference: section 5, figure 3
    });
  }
});
