import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JointConfig } from '../../../server/src/raft/quorum/joint.js';
import { MajorityConfig } from '../../../server/src/raft/quorum/majority.js';
import { VoteResult } from '../../../server/src/raft/quorum/quorum.js';
import { Inflights } from '../../../server/src/raft/tracker/inflights.js';
import { Progress } from '../../../server/src/raft/tracker/progress.js';
import { ProgressState } from '../../../server/src/raft/tracker/state.js';
import { ProgressTracker, TrackerConfig } from '../../../server/src/raft/tracker/tracker.js';
import { AssertionError } from '../../../server/src/util/assert.js';

describe('Inflights', () => {
  it('fills up by count and frees everything at or below an index', () => {
    const in10 = new Inflights(10, 0);
    for (let i = 0; i < 5; i++) in10.add(i, 100);
    assert.equal(in10.length, 5);
    assert.equal(in10.totalBytes, 500);
    assert.equal(in10.full(), false);
    for (let i = 5; i < 10; i++) in10.add(i, 100);
    assert.equal(in10.length, 10);
    assert.equal(in10.full(), true);
    assert.throws(() => in10.add(10, 1), AssertionError);

    in10.freeLE(4);
    assert.equal(in10.length, 5);
    assert.equal(in10.totalBytes, 500);
    assert.equal(in10.full(), false);
    // Freeing below the window's start is a no-op; freeing in the middle frees a prefix.
    in10.freeLE(2);
    assert.equal(in10.length, 5);
    in10.freeLE(7);
    assert.equal(in10.length, 2);
    in10.freeLE(9);
    assert.equal(in10.length, 0);
    assert.equal(in10.totalBytes, 0);
  });

  it('wraps around its ring buffer', () => {
    const ins = new Inflights(10, 0);
    for (let i = 0; i < 10; i++) ins.add(i, 1);
    ins.freeLE(5); // six freed: the start moves to slot 6
    for (let i = 10; i < 16; i++) ins.add(i, 1); // these wrap into slots 0..5
    assert.equal(ins.length, 10);
    assert.equal(ins.full(), true);
    ins.freeLE(12);
    assert.equal(ins.length, 3);
    assert.equal(ins.totalBytes, 3);
    // Two more full laps keep the order straight.
    let next = 16;
    for (let lap = 0; lap < 20; lap++) {
      while (!ins.full()) ins.add(next++, 1);
      ins.freeLE(next - 4);
      assert.equal(ins.length, 3);
    }
    ins.freeLE(next);
    assert.equal(ins.length, 0);
  });

  it('fills up by bytes (a single oversized append fills it alone)', () => {
    const ins = new Inflights(10, 1000);
    ins.add(1, 400);
    ins.add(2, 500);
    assert.equal(ins.full(), false);
    ins.add(3, 100);
    assert.equal(ins.totalBytes, 1000);
    assert.equal(ins.full(), true);
    ins.freeLE(1);
    assert.equal(ins.totalBytes, 600);
    assert.equal(ins.full(), false);
    ins.freeLE(3);
    ins.add(4, 5000);
    assert.equal(ins.length, 1);
    assert.equal(ins.full(), true);
    ins.freeLE(4);
    assert.equal(ins.full(), false);
  });

  it('reset empties the window; clone is independent', () => {
    const ins = new Inflights(3, 10);
    ins.add(1, 4);
    ins.add(2, 6);
    const copy = ins.clone();
    ins.reset();
    assert.equal(ins.length, 0);
    assert.equal(ins.totalBytes, 0);
    assert.equal(ins.full(), false);
    assert.equal(copy.length, 2);
    assert.equal(copy.totalBytes, 10);
    assert.equal(copy.full(), true);
    // After a reset, indexes start over (the leader resends from match+1).
    ins.add(1, 1);
    assert.equal(ins.length, 1);
  });

  it('refuses indexes that do not increase and a non-positive size', () => {
    const ins = new Inflights(4, 0);
    ins.add(5, 1);
    assert.throws(() => ins.add(5, 1), AssertionError);
    assert.throws(() => ins.add(4, 1), AssertionError);
    assert.throws(() => new Inflights(0, 0), AssertionError);
  });
});

function progress(fields: Partial<Pick<Progress, 'match' | 'next' | 'state' | 'pendingSnapshot'>>): Progress {
  const p = new Progress(fields.next ?? 1, new Inflights(256, 0), false);
  p.match = fields.match ?? 0;
  p.state = fields.state ?? ProgressState.Probe;
  p.pendingSnapshot = fields.pendingSnapshot ?? 0;
  return p;
}

describe('Progress', () => {
  it('becomeProbe: from Replicate to match+1; after a snapshot to max(match+1, pendingSnapshot+1)', () => {
    const cases = [
      { p: progress({ state: ProgressState.Replicate, match: 1, next: 5 }), next: 2 },
      { p: progress({ state: ProgressState.Snapshot, match: 1, next: 5, pendingSnapshot: 10 }), next: 11 },
      // The snapshot failed (pendingSnapshot reset to 0): back to match+1.
      { p: progress({ state: ProgressState.Snapshot, match: 1, next: 5, pendingSnapshot: 0 }), next: 2 },
      // The follower got further than the snapshot in the meantime.
      { p: progress({ state: ProgressState.Snapshot, match: 20, next: 21, pendingSnapshot: 10 }), next: 21 },
    ];
    for (const c of cases) {
      c.p.becomeProbe();
      assert.equal(c.p.state, ProgressState.Probe);
      assert.equal(c.p.next, c.next);
      assert.equal(c.p.pendingSnapshot, 0);
      assert.equal(c.p.probeSent, false);
    }
  });

  it('becomeReplicate restarts at match+1 with an empty window; becomeSnapshot records the index', () => {
    const p = progress({ match: 1, next: 5 });
    p.becomeReplicate();
    assert.equal(p.state, ProgressState.Replicate);
    assert.equal(p.next, 2);
    p.sentEntries(4, 10);
    assert.equal(p.inflights.length, 1);
    p.becomeSnapshot(10);
    assert.equal(p.state, ProgressState.Snapshot);
    assert.equal(p.match, 1);
    assert.equal(p.pendingSnapshot, 10);
    assert.equal(p.inflights.length, 0);
  });

  it('maybeUpdate never decreases match or next', () => {
    const cases = [
      { n: 2, match: 3, next: 5, ok: false },
      { n: 3, match: 3, next: 5, ok: false },
      { n: 4, match: 4, next: 5, ok: true },
      { n: 5, match: 5, next: 6, ok: true },
    ];
    for (const c of cases) {
      const p = progress({ match: 3, next: 5 });
      p.probeSent = true;
      assert.equal(p.maybeUpdate(c.n), c.ok, `update ${c.n}`);
      assert.equal(p.match, c.match);
      assert.equal(p.next, c.next);
      // A fresh acknowledgement unpauses a probe.
      assert.equal(p.probeSent, !c.ok);
    }
  });

  it('maybeDecrTo: stale rejections change nothing, fresh ones lower next', () => {
    const R = ProgressState.Replicate;
    const P = ProgressState.Probe;
    const cases = [
      // Replicate: a rejection at or below match answers an old append.
      { state: R, match: 5, next: 10, rejected: 5, hint: 5, ok: false, want: 10 },
      { state: R, match: 5, next: 10, rejected: 4, hint: 4, ok: false, want: 10 },
      // Fresh: back to match+1 (the hint is not used in Replicate).
      { state: R, match: 5, next: 10, rejected: 9, hint: 9, ok: true, want: 6 },
      { state: R, match: 5, next: 10, rejected: 7, hint: 2, ok: true, want: 6 },
      // Probe: only a rejection of the latest probe (next-1) counts.
      { state: P, match: 0, next: 10, rejected: 5, hint: 5, ok: false, want: 10 },
      { state: P, match: 0, next: 10, rejected: 10, hint: 9, ok: false, want: 10 },
      { state: P, match: 0, next: 10, rejected: 9, hint: 9, ok: true, want: 9 },
      { state: P, match: 0, next: 2, rejected: 1, hint: 1, ok: true, want: 1 },
      { state: P, match: 0, next: 1, rejected: 0, hint: 0, ok: true, want: 1 },
      // The follower's hint lets the probe skip back further than one index.
      { state: P, match: 0, next: 10, rejected: 9, hint: 2, ok: true, want: 3 },
      { state: P, match: 0, next: 10, rejected: 9, hint: 0, ok: true, want: 1 },
      // ... but never below match+1.
      { state: P, match: 4, next: 10, rejected: 9, hint: 1, ok: true, want: 5 },
    ];
    for (const c of cases) {
      const p = progress({ state: c.state, match: c.match, next: c.next });
      p.probeSent = true;
      assert.equal(p.maybeDecrTo(c.rejected, c.hint), c.ok, JSON.stringify(c));
      assert.equal(p.next, c.want, JSON.stringify(c));
      assert.equal(p.match, c.match);
      if (c.state === P) assert.equal(p.probeSent, !c.ok, 'a fresh rejection unpauses the probe');
    }
  });

  it('isPaused per state', () => {
    const probe = progress({ state: ProgressState.Probe });
    assert.equal(probe.isPaused(), false);
    probe.probeSent = true;
    assert.equal(probe.isPaused(), true);

    const replicate = new Progress(1, new Inflights(2, 0), false);
    replicate.becomeReplicate();
    assert.equal(replicate.isPaused(), false);
    replicate.sentEntries(1, 1);
    assert.equal(replicate.isPaused(), false);
    replicate.sentEntries(2, 1);
    assert.equal(replicate.isPaused(), true, 'full window');
    replicate.maybeUpdate(1);
    replicate.inflights.freeLE(1);
    assert.equal(replicate.isPaused(), false);

    const snap = progress({ state: ProgressState.Snapshot, pendingSnapshot: 5 });
    assert.equal(snap.isPaused(), true);
    snap.probeSent = false;
    assert.equal(snap.isPaused(), true);
  });

  it('sentEntries: Replicate advances next optimistically, Probe pauses until answered', () => {
    const rep = progress({ match: 3, next: 4 });
    rep.becomeReplicate();
    rep.sentEntries(6, 30);
    assert.equal(rep.next, 7);
    assert.equal(rep.inflights.length, 1);
    assert.equal(rep.inflights.totalBytes, 30);
    rep.sentEntries(9, 20);
    assert.equal(rep.next, 10);
    assert.equal(rep.inflights.length, 2);
    // An empty append (it only carries the commit index) takes no window slot and moves nothing.
    rep.sentEntries(9, 0);
    rep.sentEntries(9, 0);
    assert.equal(rep.next, 10);
    assert.equal(rep.inflights.length, 2);
    assert.equal(rep.isPaused(), false);

    const probe = progress({ match: 3, next: 4 });
    probe.sentEntries(6, 30);
    assert.equal(probe.next, 4, 'a probe does not move next');
    assert.equal(probe.probeSent, true);
    assert.equal(probe.isPaused(), true);
    assert.equal(probe.inflights.length, 0);
    probe.maybeUpdate(6);
    assert.equal(probe.isPaused(), false);
    assert.equal(probe.next, 7);
  });

  it('clone is a deep, independent copy; toString reads like etcd', () => {
    const p = new Progress(2, new Inflights(1, 0), true);
    p.match = 1;
    p.becomeSnapshot(123);
    const c = p.clone();
    assert.equal(c.toString(), 'StateSnapshot match=1 next=2 learner paused pendingSnap=123 inactive');
    c.becomeProbe();
    c.recentActive = true;
    assert.equal(p.state, ProgressState.Snapshot);
    assert.equal(p.recentActive, false);
    const r = new Progress(2, new Inflights(1, 0), false);
    r.recentActive = true;
    r.becomeReplicate();
    r.sentEntries(5, 1);
    const rc = r.clone();
    r.inflights.freeLE(5);
    assert.equal(rc.inflights.length, 1);
    assert.equal(rc.toString(), 'StateReplicate match=0 next=6 paused inflight=1[full]');
  });
});

/** A tracker with the given voters (incoming, outgoing) and learners, every progress at match 0. */
function trackerOf(incoming: bigint[], outgoing: bigint[], learners: bigint[]): ProgressTracker {
  const t = new ProgressTracker(8, 0);
  t.config = new TrackerConfig(
    new JointConfig(new MajorityConfig(incoming), new MajorityConfig(outgoing)),
    new Set(learners),
  );
  for (const id of new Set([...incoming, ...outgoing]))
    t.progress.set(id, new Progress(1, new Inflights(8, 0), false));
  for (const id of learners) t.progress.set(id, new Progress(1, new Inflights(8, 0), true));
  return t;
}

function setMatch(t: ProgressTracker, matches: Record<number, number>): void {
  for (const [id, m] of Object.entries(matches)) {
    const pr = t.progress.get(BigInt(id));
    assert.ok(pr !== undefined);
    pr.maybeUpdate(m);
  }
}

describe('ProgressTracker', () => {
  it('committed counts voters only; learners far ahead do not help', () => {
    const t = trackerOf([1n, 2n, 3n], [], [4n, 5n]);
    setMatch(t, { 1: 5, 2: 3, 3: 1, 4: 100, 5: 100 });
    assert.equal(t.committed(), 3);
    setMatch(t, { 3: 2 });
    assert.equal(t.committed(), 3);
    // Learners alone cannot commit anything.
    const lagging = trackerOf([1n, 2n, 3n], [], [4n, 5n]);
    setMatch(lagging, { 1: 9, 4: 9, 5: 9 });
    assert.equal(lagging.committed(), 0);
  });

  it('committed in a joint config needs both halves', () => {
    const t = trackerOf([1n, 2n, 3n], [3n, 4n, 5n], []);
    setMatch(t, { 1: 9, 2: 9, 3: 4, 4: 4, 5: 1 });
    assert.equal(t.committed(), 4);
    setMatch(t, { 4: 9 });
    assert.equal(t.committed(), 4, '(3 4 5) acked 4, 9, 1');
    setMatch(t, { 5: 9 });
    assert.equal(t.committed(), 9);
  });

  it('quorumActive ignores learners', () => {
    const t = trackerOf([1n, 2n, 3n], [], [4n, 5n]);
    const active = (ids: bigint[]): void => {
      for (const [id, pr] of t.progress) pr.recentActive = ids.includes(id);
    };
    active([1n, 4n, 5n]);
    assert.equal(t.quorumActive(), false);
    active([1n, 2n]);
    assert.equal(t.quorumActive(), true);
    active([1n, 2n, 3n, 4n, 5n]);
    assert.equal(t.quorumActive(), true);
    active([4n, 5n]);
    assert.equal(t.quorumActive(), false);
  });

  it('quorumActive in a joint config needs both halves', () => {
    const t = trackerOf([1n, 2n, 3n], [4n, 5n, 6n], []);
    for (const [id, pr] of t.progress) pr.recentActive = id <= 3n;
    assert.equal(t.quorumActive(), false);
    for (const [id, pr] of t.progress) pr.recentActive = id !== 3n && id !== 6n;
    assert.equal(t.quorumActive(), true);
  });

  it('tallyVotes ignores learners and non-members; the first vote of a node counts', () => {
    const t = trackerOf([1n, 2n, 3n], [], [4n, 5n]);
    t.recordVote(1n, true);
    t.recordVote(4n, true);
    t.recordVote(5n, true);
    t.recordVote(9n, true); // not a member at all
    assert.deepEqual(t.tallyVotes(), { granted: 1, rejected: 0, result: VoteResult.VotePending });
    t.recordVote(2n, false);
    t.recordVote(2n, true); // too late: 2 already voted
    assert.deepEqual(t.tallyVotes(), { granted: 1, rejected: 1, result: VoteResult.VotePending });
    t.recordVote(3n, false);
    assert.deepEqual(t.tallyVotes(), { granted: 1, rejected: 2, result: VoteResult.VoteLost });
    t.resetVotes();
    t.recordVote(2n, true);
    t.recordVote(3n, true);
    assert.deepEqual(t.tallyVotes(), { granted: 2, rejected: 0, result: VoteResult.VoteWon });
  });

  it('answers membership questions', () => {
    const t = trackerOf([3n, 1n], [1n, 2n], [5n]);
    t.config.learnersNext.add(2n);
    assert.equal(t.isVoter(2n), true);
    assert.equal(t.isVoter(5n), false);
    assert.deepEqual(t.ids(), [1n, 2n, 3n, 5n]);
    assert.deepEqual(t.voterIds(), [1n, 2n, 3n]);
    assert.deepEqual(t.learnerIds(), [2n, 5n]);
    assert.equal(t.isSingleton(), false);
    assert.equal(trackerOf([7n], [], [8n]).isSingleton(), true);
    assert.equal(trackerOf([7n], [7n], []).isSingleton(), false);
  });

  it('TrackerConfig: clone is deep; toConfState and toString list ids sorted', () => {
    const cfg = new TrackerConfig(
      new JointConfig(new MajorityConfig([3n, 1n]), new MajorityConfig([2n, 1n])),
      new Set([9n, 5n]),
      new Set([2n]),
      true,
    );
    const c = cfg.clone();
    c.voters.incoming.voters.add(4n);
    c.voters.outgoing.voters.clear();
    c.learners.clear();
    c.learnersNext.clear();
    c.autoLeave = false;
    assert.equal(cfg.toString(), 'voters=(1 3)&&(1 2) learners=(5 9) learners_next=(2) autoleave');
    assert.deepEqual(cfg.toConfState(), {
      voters: [1n, 3n],
      votersOutgoing: [1n, 2n],
      learners: [5n, 9n],
      learnersNext: [2n],
      autoLeave: true,
    });
    assert.equal(c.toString(), 'voters=(1 3 4)');
  });
});
