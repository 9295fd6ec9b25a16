import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Changer, ConfChangeError, type ChangeResult } from '../../../server/src/raft/confchange/changer.js';
import { checkInvariants } from '../../../server/src/raft/confchange/invariants.js';
import { restore } from '../../../server/src/raft/confchange/restore.js';
import { compareIds } from '../../../server/src/raft/quorum/majority.js';
import { Inflights } from '../../../server/src/raft/tracker/inflights.js';
import { Progress } from '../../../server/src/raft/tracker/progress.js';
import { ProgressTracker, TrackerConfig } from '../../../server/src/raft/tracker/tracker.js';
import { ConfChangeType, type ConfChangeSingle, type ConfState } from '../../../server/src/raftpb/types.js';
import { AssertionError } from '../../../server/src/util/assert.js';

/*
 * A tiny command language in the style of etcd-io/raft's confchange/testdata: each block is
 *
 *   <command> [autoleave]        simple | enter-joint | leave-joint
 *   <changes>                    vN (AddNode) lN (AddLearnerNode) rN (RemoveNode) uN (UpdateNode)
 *   ----
 *   <expected output>            the config and every progress, or the error message
 *
 * Blocks are separated by a blank line. The last index starts at 0 and grows by one per command, so
 * `next` of a progress tells in which command it was created.
 */

function parseChanges(line: string): ConfChangeSingle[] {
  const types: Record<string, ConfChangeType> = {
    v: ConfChangeType.ConfChangeAddNode,
    l: ConfChangeType.ConfChangeAddLearnerNode,
    r: ConfChangeType.ConfChangeRemoveNode,
    u: ConfChangeType.ConfChangeUpdateNode,
  };
  return line
    .split(/\s+/)
    .filter((t) => t !== '')
    .map((tok) => {
      const type = types[tok[0] ?? ''];
      assert.ok(type !== undefined && /^\d+$/.test(tok.slice(1)), `bad token ${tok}`);
      return { type, nodeId: BigInt(tok.slice(1)) };
    });
}

function describeState(r: ChangeResult): string {
  const lines = [r.config.toString()];
  for (const id of [...r.progress.keys()].sort(compareIds)) {
    lines.push(`${id}: ${String(r.progress.get(id))}`);
  }
  return lines.join('\n');
}

function runScript(script: string): void {
  const tracker = new ProgressTracker(10, 0);
  let lastIndex = 0;
  const blocks = script
    .trim()
    .split(/\n\s*\n/)
    .map((b) => b.trim())
    .filter((b) => !b.split('\n').every((l) => l.startsWith('#')));
  assert.ok(blocks.length > 0);
  for (const block of blocks) {
    const lines = block.split('\n').filter((l) => !l.startsWith('#'));
    const sep = lines.indexOf('----');
    assert.ok(sep >= 1, `block without ---- or command:\n${block}`);
    const [cmd = '', ...args] = (lines[0] ?? '').trim().split(/\s+/);
    const changes = parseChanges(lines.slice(1, sep).join(' '));
    const expected = lines.slice(sep + 1).join('\n');
    const changer = new Changer(tracker, lastIndex);
    lastIndex++;
    let got: string;
    try {
      let r: ChangeResult;
      if (cmd === 'simple') r = changer.simple(changes);
      else if (cmd === 'enter-joint') r = changer.enterJoint(args.includes('autoleave'), changes);
      else if (cmd === 'leave-joint') {
        assert.equal(changes.length, 0, 'leave-joint takes no changes');
        r = changer.leaveJoint();
      } else throw new Error(`unknown command ${cmd}`);
      tracker.config = r.config;
      tracker.progress = r.progress;
      got = describeState(r);
    } catch (err) {
      if (!(err instanceof ConfChangeError)) throw err;
      got = err.message;
    }
    assert.equal(got, expected, `after:\n${block}`);
  }
}

const v = (id: number): ConfChangeSingle => ({ type: ConfChangeType.ConfChangeAddNode, nodeId: BigInt(id) });
const l = (id: number): ConfChangeSingle => ({
  type: ConfChangeType.ConfChangeAddLearnerNode,
  nodeId: BigInt(id),
});
const r = (id: number): ConfChangeSingle => ({
  type: ConfChangeType.ConfChangeRemoveNode,
  nodeId: BigInt(id),
});

/** A tracker holding the config reached by the given simple steps from the empty config. */
function trackerWith(...steps: ConfChangeSingle[][]): ProgressTracker {
  const t = new ProgressTracker(4, 1000);
  for (const step of steps) {
    const res = new Changer(t, 5).simple(step);
    t.config = res.config;
    t.progress = res.progress;
  }
  return t;
}

function snapshotOf(t: ProgressTracker): string {
  return describeState({ config: t.config, progress: t.progress });
}

describe('confchange: simple changes', () => {
  it('adding voters one at a time; idempotent adds and removes', () => {
    runScript(`
simple
v1
----
voters=(1)
1: StateProbe match=0 next=1

simple
v1
----
voters=(1)
1: StateProbe match=0 next=1

simple
v2
----
voters=(1 2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=2

simple
l1
----
voters=(2) learners=(1)
1: StateProbe match=0 next=1 learner
2: StateProbe match=0 next=2

simple
l1
----
voters=(2) learners=(1)
1: StateProbe match=0 next=1 learner
2: StateProbe match=0 next=2

simple
r1
----
voters=(2)
2: StateProbe match=0 next=2

simple
r1
----
voters=(2)
2: StateProbe match=0 next=2

simple
v3
----
voters=(2 3)
2: StateProbe match=0 next=2
3: StateProbe match=0 next=7

# Removing an unknown node is a no-op.
simple
r4
----
voters=(2 3)
2: StateProbe match=0 next=2
3: StateProbe match=0 next=7
`);
  });

  it('promoting and demoting keeps the progress', () => {
    runScript(`
simple
v1
----
voters=(1)
1: StateProbe match=0 next=1

simple
v2
----
voters=(1 2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1

simple
v3
----
voters=(1 2 3)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
3: StateProbe match=0 next=2

# Demote and promote again in one change: pointless but valid.
simple
l1 v1
----
voters=(1 2 3)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
3: StateProbe match=0 next=2

simple
l2
----
voters=(1 3) learners=(2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1 learner
3: StateProbe match=0 next=2

simple
v2 l2
----
voters=(1 3) learners=(2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1 learner
3: StateProbe match=0 next=2

# Promotion of a learner: same progress (next=1), no longer a learner.
simple
v2
----
voters=(1 2 3)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
3: StateProbe match=0 next=2
`);
  });

  it('refuses to change more than one voter or to remove every voter', () => {
    runScript(`
simple
l1
----
removed all voters

simple
v1
----
voters=(1)
1: StateProbe match=0 next=1

simple
v2 l3
----
voters=(1 2) learners=(3)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=2
3: StateProbe match=0 next=2 learner

simple
r1 v5
----
more than one voter changed without entering joint config

simple
r1 r2
----
removed all voters

simple
v3 v4
----
more than one voter changed without entering joint config

simple
l1 v5
----
more than one voter changed without entering joint config

simple
l1 l2
----
removed all voters

# Any number of learner changes is fine: learners never count in a quorum.
simple
l2 l3 l4 l5
----
voters=(1) learners=(2 3 4 5)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=2 learner
3: StateProbe match=0 next=2 learner
4: StateProbe match=0 next=8 learner
5: StateProbe match=0 next=8 learner

simple
r1
----
removed all voters

simple
r2 r3 r4 r5
----
voters=(1)
1: StateProbe match=0 next=1
`);
  });

  it('UpdateNode changes no membership and node id 0 is ignored', () => {
    runScript(`
simple
v1 r0 v0 l0
----
voters=(1)
1: StateProbe match=0 next=1

simple
v2 u1
----
voters=(1 2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1

simple
u1 u2 u3 u1 u2 u3
----
voters=(1 2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
`);
  });

  it('a simple change in a joint config is refused', () => {
    runScript(`
simple
v1
----
voters=(1)
1: StateProbe match=0 next=1

enter-joint
v2
----
voters=(1 2)&&(1)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1

simple
l15
----
can't apply simple config change in joint config

simple
----
can't apply simple config change in joint config
`);
  });

  it('an unknown change type is an operating error', () => {
    const t = trackerWith([v(1)]);
    const bad = { type: 9 as ConfChangeType, nodeId: 2n };
    assert.throws(() => new Changer(t, 1).simple([bad]), {
      name: 'ConfChangeError',
      message: 'unexpected conf type 9',
    });
  });
});

describe('confchange: joint consensus', () => {
  it('enter and leave, with the safety errors', () => {
    runScript(`
leave-joint
----
can't leave a non-joint config

enter-joint
----
can't make a zero-voter config joint

enter-joint
v1
----
can't make a zero-voter config joint

simple
v1
----
voters=(1)
1: StateProbe match=0 next=3

leave-joint
----
can't leave a non-joint config

# Entering with no changes is allowed: (1)&&(1).
enter-joint
----
voters=(1)&&(1)
1: StateProbe match=0 next=3

enter-joint
----
config is already joint

leave-joint
----
voters=(1)
1: StateProbe match=0 next=3

leave-joint
----
can't leave a non-joint config

enter-joint
r1 v2 v3 l4
----
voters=(2 3)&&(1) learners=(4)
1: StateProbe match=0 next=3
2: StateProbe match=0 next=9
3: StateProbe match=0 next=9
4: StateProbe match=0 next=9 learner

enter-joint
v12
----
config is already joint

# 1 was only in the outgoing half: its progress goes.
leave-joint
----
voters=(2 3) learners=(4)
2: StateProbe match=0 next=9
3: StateProbe match=0 next=9
4: StateProbe match=0 next=9 learner

simple
l9
----
voters=(2 3) learners=(4 9)
2: StateProbe match=0 next=9
3: StateProbe match=0 next=9
4: StateProbe match=0 next=9 learner
9: StateProbe match=0 next=12 learner
`);
  });

  it('autoLeave is carried by the joint config and cleared on leaving', () => {
    runScript(`
simple
v1
----
voters=(1)
1: StateProbe match=0 next=1

enter-joint autoleave
v2 v3
----
voters=(1 2 3)&&(1) autoleave
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
3: StateProbe match=0 next=1

enter-joint
----
config is already joint

leave-joint
----
voters=(1 2 3)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
3: StateProbe match=0 next=1
`);
  });

  it('a demoted outgoing voter waits in learnersNext and keeps its progress', () => {
    runScript(`
simple
v1
----
voters=(1)
1: StateProbe match=0 next=1

enter-joint
v2 l1
----
voters=(2)&&(1) learners_next=(1)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1

leave-joint
----
voters=(2) learners=(1)
1: StateProbe match=0 next=1 learner
2: StateProbe match=0 next=1
`);
  });

  it('changes while entering are idempotent (remove absent, add twice, demote twice)', () => {
    runScript(`
simple
v1
----
voters=(1)
1: StateProbe match=0 next=1

enter-joint
r1 r2 r9 v2 v3 v4 v2 v3 v4 l2 l2 r4 r4 l1 l1
----
voters=(3)&&(1) learners=(2) learners_next=(1)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1 learner
3: StateProbe match=0 next=1

leave-joint
----
voters=(3) learners=(1 2)
1: StateProbe match=0 next=1 learner
2: StateProbe match=0 next=1 learner
3: StateProbe match=0 next=1
`);
  });

  it('promoting a staged learner takes it out of learnersNext; removing it drops it there too', () => {
    runScript(`
simple
v1
----
voters=(1)
1: StateProbe match=0 next=1

simple
v2
----
voters=(1 2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1

enter-joint
l1 l2 v3
----
voters=(3)&&(1 2) learners_next=(1 2)
1: StateProbe match=0 next=1
2: StateProbe match=0 next=1
3: StateProbe match=0 next=2

leave-joint
----
voters=(3) learners=(1 2)
1: StateProbe match=0 next=1 learner
2: StateProbe match=0 next=1 learner
3: StateProbe match=0 next=2
`);
    // Within one enterJoint: demote then promote (back to voter), demote then remove.
    const t = trackerWith([v(1)], [v(2)]);
    const res = new Changer(t, 9).enterJoint(false, [l(1), v(1), l(2), r(2), v(3)]);
    assert.equal(res.config.toString(), 'voters=(1 3)&&(1 2)');
    assert.equal(res.progress.get(1n)?.isLearner, false);
    // 2 is removed from the incoming half but still an outgoing voter: its progress stays.
    assert.ok(res.progress.has(2n));
    t.config = res.config;
    t.progress = res.progress;
    const left = new Changer(t, 10).leaveJoint();
    assert.equal(
      describeState(left),
      'voters=(1 3)\n1: StateProbe match=0 next=5\n3: StateProbe match=0 next=9',
    );
  });

  it('a learner of the outgoing config that is removed while joint is gone at once', () => {
    const t = trackerWith([v(1)], [l(2)]);
    const res = new Changer(t, 9).enterJoint(true, [r(2), v(3)]);
    assert.equal(res.config.toString(), 'voters=(1 3)&&(1) autoleave');
    assert.ok(!res.progress.has(2n));
  });
});

describe('confchange: new progress and non-mutation', () => {
  it('a new member starts at max(lastIndex, 1), recently active, with the tracker inflight limits', () => {
    const t = new ProgressTracker(7, 300);
    const res0 = new Changer(t, 0).simple([v(1)]);
    assert.equal(res0.progress.get(1n)?.next, 1);
    t.config = res0.config;
    t.progress = res0.progress;
    const res = new Changer(t, 42).simple([v(2), l(3)]);
    for (const id of [2n, 3n]) {
      const pr = res.progress.get(id);
      assert.ok(pr !== undefined);
      assert.equal(pr.next, 42);
      assert.equal(pr.match, 0);
      assert.equal(pr.recentActive, true);
      assert.equal(pr.inflights.sizeMax, 7);
      assert.equal(pr.inflights.bytesMax, 300);
    }
    assert.equal(res.progress.get(3n)?.isLearner, true);
    // Check-quorum right after adding two members must not lose the quorum (thesis §6.2).
    t.config = res.config;
    t.progress = res.progress;
    const leader = t.progress.get(1n);
    assert.ok(leader !== undefined);
    leader.recentActive = true;
    assert.equal(t.quorumActive(), true);
  });

  it('never mutates the tracker it was given, also when the change is refused', () => {
    const t = trackerWith([v(1)], [v(2)], [v(3)], [l(4)]);
    const p1 = t.progress.get(1n);
    assert.ok(p1 !== undefined);
    p1.maybeUpdate(4);
    p1.becomeReplicate();
    p1.sentEntries(5, 10);
    const before = snapshotOf(t);
    const progressBefore = new Map(t.progress);
    const configBefore = t.config;

    const tries: (() => ChangeResult)[] = [
      () => new Changer(t, 7).enterJoint(true, [l(1), v(4), r(3), v(5)]),
      () => new Changer(t, 7).simple([l(1)]),
      () => new Changer(t, 7).simple([v(4)]),
      () => new Changer(t, 7).simple([r(2)]),
      () => new Changer(t, 7).simple([r(1), r(2)]), // refused: more than one voter
      () => new Changer(t, 7).simple([r(1), r(2), r(3)]), // refused: removed all voters
      () => new Changer(t, 7).leaveJoint(), // refused: not joint
    ];
    for (const attempt of tries) {
      try {
        const res = attempt();
        assert.notEqual(res.config, t.config);
        assert.notEqual(res.progress, t.progress);
      } catch (err) {
        assert.ok(err instanceof ConfChangeError);
      }
      assert.equal(snapshotOf(t), before);
      assert.equal(t.config, configBefore);
      assert.deepEqual([...t.progress], [...progressBefore]);
    }

    // Demotion while joint and leaving: the outgoing config's objects are untouched too.
    const joint = new Changer(t, 7).enterJoint(false, [l(1), v(5)]);
    t.config = joint.config;
    t.progress = joint.progress;
    const jointBefore = snapshotOf(t);
    const left = new Changer(t, 8).leaveJoint();
    assert.equal(snapshotOf(t), jointBefore);
    assert.equal(t.progress.get(1n)?.isLearner, false);
    assert.equal(left.progress.get(1n)?.isLearner, true);
    // The demoted learner kept its replication state (match, next, inflights).
    assert.equal(left.progress.get(1n)?.toString(), 'StateReplicate match=4 next=6 learner inflight=1');
  });

  it('a broken tracker or result is an assertion, not an operating error', () => {
    const t = trackerWith([v(1)], [v(2)]);
    t.progress.delete(2n); // a program bug: a voter without progress
    assert.throws(() => new Changer(t, 1).simple([v(3)]), AssertionError);

    const extra = trackerWith([v(1)]);
    extra.progress.set(9n, new Progress(1, new Inflights(4, 0), false));
    assert.throws(() => new Changer(extra, 1).simple([]), /progress for 9, which is not a member/);

    assert.throws(() => new Changer(trackerWith([v(1)]), -1), AssertionError);
  });
});

describe('confchange: checkInvariants', () => {
  const pr = (isLearner: boolean): Progress => new Progress(1, new Inflights(4, 0), isLearner);
  const cases: { name: string; build: () => [TrackerConfig, Map<bigint, Progress>]; error: RegExp }[] = [
    {
      name: 'voter without progress',
      build: () => [cfgOf([1, 2], [], [], [], false), progressOf({ 1: false })],
      error: /no progress for 2/,
    },
    {
      name: 'progress for a non-member',
      build: () => [cfgOf([1], [], [], [], false), progressOf({ 1: false, 2: false })],
      error: /progress for 2, which is not a member/,
    },
    {
      name: 'learner that is also an incoming voter',
      build: () => [cfgOf([1, 2], [], [2], [], false), progressOf({ 1: false, 2: true })],
      error: /2 is in learners and in the incoming voters/,
    },
    {
      name: 'learner that is also an outgoing voter',
      build: () => [cfgOf([1], [1, 2], [2], [], false), progressOf({ 1: false, 2: true })],
      error: /2 is in learners and in the outgoing voters/,
    },
    {
      name: 'learner not marked as learner',
      build: () => [cfgOf([1], [], [2], [], false), progressOf({ 1: false, 2: false })],
      error: /2 is in learners, but is not marked as learner/,
    },
    {
      name: 'voter marked as learner',
      build: () => [cfgOf([1, 2], [], [], [], false), progressOf({ 1: false, 2: true })],
      error: /2 is a voter, but is marked as learner/,
    },
    {
      name: 'learnersNext not in the outgoing voters',
      build: () => [cfgOf([1], [1], [], [3], false), progressOf({ 1: false, 3: false })],
      error: /3 is in learnersNext, but not in the outgoing voters/,
    },
    {
      name: 'learnersNext already a learner',
      build: () => [cfgOf([1], [1, 3], [], [3], false), progressOf({ 1: false, 3: true })],
      error: /3 is in learnersNext, but is already marked as learner/,
    },
    {
      name: 'autoLeave without a joint config',
      build: () => [cfgOf([1], [], [], [], true), progressOf({ 1: false })],
      error: /autoLeave must be false when not joint/,
    },
  ];
  for (const c of cases) {
    it(`asserts on ${c.name}`, () => {
      const [cfg, prs] = c.build();
      assert.throws(
        () => checkInvariants(cfg, prs),
        (err: unknown) => {
          assert.ok(err instanceof AssertionError);
          assert.match(err.message, c.error);
          return true;
        },
      );
    });
  }

  it('accepts the empty config and a valid joint config with staged learners', () => {
    checkInvariants(new TrackerConfig(), new Map());
    checkInvariants(
      cfgOf([2, 3], [1, 2], [4], [1], true),
      progressOf({ 1: false, 2: false, 3: false, 4: true }),
    );
  });

  function cfgOf(
    incoming: number[],
    outgoing: number[],
    learners: number[],
    learnersNext: number[],
    autoLeave: boolean,
  ): TrackerConfig {
    const cfg = new TrackerConfig();
    for (const id of incoming) cfg.voters.incoming.voters.add(BigInt(id));
    for (const id of outgoing) cfg.voters.outgoing.voters.add(BigInt(id));
    for (const id of learners) cfg.learners.add(BigInt(id));
    for (const id of learnersNext) cfg.learnersNext.add(BigInt(id));
    cfg.autoLeave = autoLeave;
    return cfg;
  }
  function progressOf(learnerFlags: Record<number, boolean>): Map<bigint, Progress> {
    return new Map(Object.entries(learnerFlags).map(([id, isLearner]) => [BigInt(id), pr(isLearner)]));
  }
});

describe('confchange: restore', () => {
  const limits = { inflightMsgsMax: 16, inflightBytesMax: 0 };
  const cs = (fields: Partial<ConfState>): ConfState => ({
    voters: [],
    learners: [],
    votersOutgoing: [],
    learnersNext: [],
    autoLeave: false,
    ...fields,
  });
  const ids = (...n: number[]): bigint[] => n.map(BigInt);

  const valid: ConfState[] = [
    cs({}),
    cs({ voters: ids(1, 2, 3) }),
    cs({ voters: ids(1, 2, 3), learners: ids(4, 5) }),
    cs({ voters: ids(1, 2, 3), votersOutgoing: ids(1, 2, 4, 6), learners: ids(5), learnersNext: ids(4) }),
    cs({ voters: ids(8), votersOutgoing: ids(1, 2, 3), learnersNext: ids(1, 2, 3), autoLeave: true }),
    cs({ voters: ids(1, 2, 3), votersOutgoing: ids(1, 2, 3) }),
    cs({ voters: ids(1), votersOutgoing: ids(2), learners: ids(3, 4, 5), autoLeave: true }),
  ];
  for (const state of valid) {
    it(`round-trips ${JSON.stringify(state, (_k, val: unknown) => (typeof val === 'bigint' ? Number(val) : val))}`, () => {
      const res = restore(limits, 10, state);
      assert.deepEqual(res.config.toConfState(), state);
      for (const [id, pr] of res.progress) {
        assert.equal(pr.next, 10);
        assert.equal(pr.recentActive, true);
        assert.equal(pr.isLearner, res.config.learners.has(id));
      }
      assert.equal(
        res.progress.size,
        new Set([...state.voters, ...state.votersOutgoing, ...state.learners]).size,
      );
    });
  }

  it('next is max(lastIndex, 1) and the limits come from the tracker', () => {
    const res = restore({ inflightMsgsMax: 3, inflightBytesMax: 99 }, 0, cs({ voters: ids(1) }));
    const pr = res.progress.get(1n);
    assert.ok(pr !== undefined);
    assert.equal(pr.next, 1);
    assert.equal(pr.inflights.sizeMax, 3);
    assert.equal(pr.inflights.bytesMax, 99);
  });

  it('refuses a ConfState that is not a valid config', () => {
    assert.throws(() => restore(limits, 1, cs({ learners: ids(1) })), {
      name: 'ConfChangeError',
      message: 'removed all voters',
    });
    assert.throws(() => restore(limits, 1, cs({ votersOutgoing: ids(1, 2) })), {
      name: 'ConfChangeError',
      message: 'removed all voters',
    });
  });
});
