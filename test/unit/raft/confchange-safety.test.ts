import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Changer, ConfChangeError, type ChangeResult } from '../../../server/src/raft/confchange/changer.js';
import { restore } from '../../../server/src/raft/confchange/restore.js';
import { JointConfig } from '../../../server/src/raft/quorum/joint.js';
import { MajorityConfig } from '../../../server/src/raft/quorum/majority.js';
import { VoteResult } from '../../../server/src/raft/quorum/quorum.js';
import { Prng } from '../../../server/src/raft/rng.js';
import { ProgressTracker, type TrackerConfig } from '../../../server/src/raft/tracker/tracker.js';
import { ConfChangeType, type ConfChangeSingle } from '../../../server/src/raftpb/types.js';

/*
 * Safety of membership changes (Raft thesis §4.1, §4.3): whatever sequence of accepted changes, no two
 * majorities can coexist — every quorum of a config intersects every quorum of the config that
 * follows it, so two leaders (or two different commits) cannot be decided by disjoint sets of nodes.
 *
 * A quorum of a joint config is a set holding a majority of BOTH halves; learners are never in it.
 * Node ids come from 1..MAX_ID so that the union of any two configs' voters has at most 7 nodes and
 * all of its 2^7 subsets can be enumerated.
 */

const MAX_ID = 7;
const ALL_IDS = Array.from({ length: MAX_ID }, (_, i) => BigInt(i + 1));

interface Voters {
  incoming: ReadonlySet<bigint>;
  outgoing: ReadonlySet<bigint>;
}

function votersOf(cfg: TrackerConfig): Voters {
  return { incoming: new Set(cfg.voters.incoming.voters), outgoing: new Set(cfg.voters.outgoing.voters) };
}

function isMajority(half: ReadonlySet<bigint>, set: ReadonlySet<bigint>): boolean {
  if (half.size === 0) return true; // an empty half imposes nothing (non-joint config)
  let n = 0;
  for (const id of half) if (set.has(id)) n++;
  return 2 * n > half.size;
}

/** Whether `set` is a quorum of the config by definition (majority of each non-empty half). */
function isQuorum(v: Voters, set: ReadonlySet<bigint>): boolean {
  return isMajority(v.incoming, set) && isMajority(v.outgoing, set);
}

function subsetsOf(ids: readonly bigint[]): Set<bigint>[] {
  assert.ok(ids.length <= MAX_ID, `too many ids to enumerate: ${ids.length}`);
  const out: Set<bigint>[] = [];
  for (let mask = 0; mask < 1 << ids.length; mask++) {
    out.push(new Set(ids.filter((_, i) => (mask & (1 << i)) !== 0)));
  }
  return out;
}

/**
 * Two disjoint quorums, one of `before` and one of `after`, or undefined when every quorum of one
 * intersects every quorum of the other. Quorums are closed upwards, so it suffices to check whether
 * the complement (within the union of voters) of a quorum of `before` is a quorum of `after`.
 */
function disjointQuorums(before: Voters, after: Voters): [bigint[], bigint[]] | undefined {
  const union = [...new Set([...before.incoming, ...before.outgoing, ...after.incoming, ...after.outgoing])];
  for (const q1 of subsetsOf(union)) {
    if (!isQuorum(before, q1)) continue;
    const rest = new Set(union.filter((id) => !q1.has(id)));
    if (isQuorum(after, rest)) return [[...q1], [...rest]];
  }
  return undefined;
}

/**
 * Cross-checks the definition above against the production quorum code (JointConfig.voteResult):
 * the nodes of `set` grant, every other member (learners included) rejects; and learners granting
 * changes nothing.
 */
function checkVoteResultAgrees(cfg: TrackerConfig): void {
  const v = votersOf(cfg);
  const voters = [...new Set([...v.incoming, ...v.outgoing])];
  for (const set of subsetsOf(voters)) {
    const votes = new Map<bigint, boolean>();
    for (const id of ALL_IDS) votes.set(id, set.has(id));
    const won = cfg.voters.voteResult(votes) === VoteResult.VoteWon;
    assert.equal(won, isQuorum(v, set), `${cfg.toString()} with grants from ${[...set].join(',')}`);
    // Learners (current or staged) granting too: same result.
    for (const id of cfg.learners) votes.set(id, true);
    assert.equal(cfg.voters.voteResult(votes) === VoteResult.VoteWon, won, 'a learner changed a vote result');
    assert.ok(!isQuorum(v, new Set(cfg.learners)) || v.incoming.size === 0, 'learners alone form a quorum');
  }
}

const change = (type: ConfChangeType, id: bigint): ConfChangeSingle => ({ type, nodeId: id });
const addVoter = (id: bigint): ConfChangeSingle => change(ConfChangeType.ConfChangeAddNode, id);
const addLearner = (id: bigint): ConfChangeSingle => change(ConfChangeType.ConfChangeAddLearnerNode, id);
const removeNode = (id: bigint): ConfChangeSingle => change(ConfChangeType.ConfChangeRemoveNode, id);

function pick<T>(rng: Prng, items: readonly T[]): T {
  assert.ok(items.length > 0);
  return items[rng.intn(items.length)] as T;
}

function shuffled<T>(rng: Prng, items: readonly T[]): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.intn(i + 1);
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

type Step =
  | { kind: 'simple'; changes: ConfChangeSingle[] }
  | { kind: 'enter'; autoLeave: boolean; changes: ConfChangeSingle[] }
  | { kind: 'leave' };

/** A change that must be accepted in the tracker's current (non-joint) config. */
function validStep(rng: Prng, t: ProgressTracker): Step {
  const cfg = t.config;
  const voters = [...cfg.voters.incoming.voters];
  const learners = [...cfg.learners];
  const outsiders = ALL_IDS.filter((id) => !t.progress.has(id));
  const options: (() => Step | undefined)[] = [
    // One voter added (a new node, or a learner promoted).
    () => (outsiders.length > 0 ? simple([addVoter(pick(rng, outsiders))]) : undefined),
    () => (learners.length > 0 ? simple([addVoter(pick(rng, learners))]) : undefined),
    // One voter removed or demoted, never the last one.
    () => (voters.length > 1 ? simple([removeNode(pick(rng, voters))]) : undefined),
    () => (voters.length > 1 ? simple([addLearner(pick(rng, voters))]) : undefined),
    // Learners only, any number of them, plus at most one voter change.
    () => {
      const changes: ConfChangeSingle[] = [];
      for (const id of shuffled(rng, outsiders).slice(0, 1 + rng.intn(3))) changes.push(addLearner(id));
      for (const id of learners) if (rng.chance(0.3)) changes.push(removeNode(id));
      if (outsiders.length > changes.length && rng.chance(0.5)) {
        const extra = outsiders.find((id) => !changes.some((c) => c.nodeId === id));
        if (extra !== undefined) changes.push(addVoter(extra));
      }
      return simple(shuffled(rng, changes));
    },
    // Several changes at once through a joint config; keep one incoming voter at least.
    () => {
      const changes: ConfChangeSingle[] = [];
      const n = 1 + rng.intn(4);
      for (let i = 0; i < n; i++) {
        const id = pick(rng, ALL_IDS);
        const type = pick(rng, [
          ConfChangeType.ConfChangeAddNode,
          ConfChangeType.ConfChangeAddLearnerNode,
          ConfChangeType.ConfChangeRemoveNode,
          ConfChangeType.ConfChangeUpdateNode,
        ]);
        changes.push(change(type, id));
      }
      // The last word for one node: make it a voter, so the incoming half is never empty.
      changes.push(addVoter(pick(rng, ALL_IDS)));
      return { kind: 'enter', autoLeave: rng.chance(0.5), changes: shuffledTail(rng, changes) };
    },
  ];
  for (let attempt = 0; attempt < 100; attempt++) {
    const step = pick(rng, options)();
    if (step !== undefined) return step;
  }
  assert.fail('no valid step found');
}

/** Keeps the final AddNode last (it must win over earlier changes of the same node). */
function shuffledTail(rng: Prng, changes: ConfChangeSingle[]): ConfChangeSingle[] {
  const last = changes[changes.length - 1];
  assert.ok(last !== undefined);
  return [...shuffled(rng, changes.slice(0, -1)), last];
}

function simple(changes: ConfChangeSingle[]): Step {
  return { kind: 'simple', changes };
}

function run(t: ProgressTracker, step: Step, lastIndex: number): ChangeResult {
  const c = new Changer(t, lastIndex);
  switch (step.kind) {
    case 'simple':
      return c.simple(step.changes);
    case 'enter':
      return c.enterJoint(step.autoLeave, step.changes);
    case 'leave':
      return c.leaveJoint();
  }
}

function expectRefused(t: ProgressTracker, f: () => ChangeResult, message: string): void {
  const before = t.config.toString();
  assert.throws(f, (err: unknown) => err instanceof ConfChangeError && err.message === message);
  assert.equal(t.config.toString(), before);
}

/** Two voters changed in one simple change (any of add+add, remove+remove, add+remove, ...). */
function twoVoterStep(rng: Prng, t: ProgressTracker): ConfChangeSingle[] | undefined {
  const voters = [...t.config.voters.incoming.voters];
  const nonVoters = ALL_IDS.filter((id) => !voters.includes(id)); // outsiders and learners
  const choices: ConfChangeSingle[][] = [];
  if (nonVoters.length >= 2) {
    const [a, b] = shuffled(rng, nonVoters);
    if (a !== undefined && b !== undefined) choices.push([addVoter(a), addVoter(b)]);
  }
  if (voters.length >= 3) {
    const [a, b] = shuffled(rng, voters);
    if (a !== undefined && b !== undefined) choices.push([removeNode(a), addLearner(b)]);
  }
  if (voters.length >= 2 && nonVoters.length >= 1) {
    choices.push([removeNode(pick(rng, voters)), addVoter(pick(rng, nonVoters))]);
  }
  return choices.length > 0 ? pick(rng, choices) : undefined;
}

describe('confchange safety: no two majorities can coexist', () => {
  it('the checker finds disjoint majorities when joint consensus is bypassed: (1 2 3) -> (1 4 5)', () => {
    const before: Voters = { incoming: new Set([1n, 2n, 3n]), outgoing: new Set() };
    const after: Voters = { incoming: new Set([1n, 4n, 5n]), outgoing: new Set() };
    const found = disjointQuorums(before, after);
    assert.ok(found !== undefined, 'the unsafe transition must be detected');
    const [q1, q2] = found;
    assert.ok(isQuorum(before, new Set(q1)) && isQuorum(after, new Set(q2)));
    assert.ok(!q1.some((id) => q2.includes(id)));
    // For instance {2 3} elects a leader in C_old while {4 5} elects another in C_new.
    assert.ok(isQuorum(before, new Set([2n, 3n])) && isQuorum(after, new Set([4n, 5n])));
  });

  it('the changer refuses that transition as a simple change, and makes it safe through a joint config', () => {
    const t = new ProgressTracker(8, 0);
    for (const id of [1n, 2n, 3n]) {
      const r = new Changer(t, 1).simple([addVoter(id)]);
      t.config = r.config;
      t.progress = r.progress;
    }
    const bypass = [removeNode(2n), removeNode(3n), addVoter(4n), addVoter(5n)];
    expectRefused(
      t,
      () => new Changer(t, 2).simple(bypass),
      'more than one voter changed without entering joint config',
    );
    expectRefused(
      t,
      () => new Changer(t, 2).simple([addVoter(4n), addVoter(5n)]),
      'more than one voter changed without entering joint config',
    );

    const configs: Voters[] = [votersOf(t.config)];
    const joint = new Changer(t, 2).enterJoint(false, bypass);
    assert.equal(joint.config.toString(), 'voters=(1 4 5)&&(1 2 3)');
    t.config = joint.config;
    t.progress = joint.progress;
    configs.push(votersOf(t.config));
    const left = new Changer(t, 3).leaveJoint();
    assert.equal(left.config.toString(), 'voters=(1 4 5)');
    configs.push(votersOf(left.config));
    for (let i = 0; i + 1 < configs.length; i++) {
      const [a, b] = [configs[i], configs[i + 1]];
      assert.ok(a !== undefined && b !== undefined);
      assert.equal(disjointQuorums(a, b), undefined);
    }
    // Only the leap over the joint config is unsafe.
    const first = configs[0];
    const last = configs[2];
    assert.ok(first !== undefined && last !== undefined);
    assert.notEqual(disjointQuorums(first, last), undefined);
  });

  it('random sequences of accepted changes never allow two disjoint majorities', () => {
    const rng = new Prng(0xca1e);
    const sequences = 150;
    const stepsPerSequence = 40;
    const counts = { simple: 0, enter: 0, leave: 0, refused: 0, learnerSteps: 0, checkedPairs: 0 };
    for (let s = 0; s < sequences; s++) {
      const t = new ProgressTracker(4, 0);
      let lastIndex = 1;
      // Bootstrap: the empty config is not a real config (no quorum exists), so pairs start after it.
      const boot = new Changer(t, lastIndex).simple([addVoter(pick(rng, ALL_IDS))]);
      t.config = boot.config;
      t.progress = boot.progress;
      for (let i = 0; i < stepsPerSequence; i++) {
        lastIndex++;
        const before = t.config;
        if (before.voters.isJoint) {
          // While joint, only leaving is possible; a simple change or re-entering is refused.
          if (rng.chance(0.25)) {
            const cc = [addVoter(pick(rng, ALL_IDS))];
            expectRefused(
              t,
              () => new Changer(t, lastIndex).simple(cc),
              "can't apply simple config change in joint config",
            );
            expectRefused(
              t,
              () => new Changer(t, lastIndex).enterJoint(false, cc),
              'config is already joint',
            );
            counts.refused += 2;
            continue;
          }
          applyChecked(t, { kind: 'leave' }, lastIndex);
          counts.leave++;
          continue;
        }
        if (rng.chance(0.15)) {
          const bad = twoVoterStep(rng, t);
          if (bad !== undefined) {
            expectRefused(
              t,
              () => new Changer(t, lastIndex).simple(bad),
              'more than one voter changed without entering joint config',
            );
            counts.refused++;
          }
          expectRefused(t, () => new Changer(t, lastIndex).leaveJoint(), "can't leave a non-joint config");
          continue;
        }
        const step = validStep(rng, t);
        applyChecked(t, step, lastIndex);
        if (step.kind === 'simple') {
          counts.simple++;
          if (step.changes.some((c) => c.type === ConfChangeType.ConfChangeAddLearnerNode))
            counts.learnerSteps++;
        } else counts.enter++;
      }
    }

    function applyChecked(t: ProgressTracker, step: Step, lastIndex: number): void {
      const before = votersOf(t.config);
      const res = run(t, step, lastIndex);
      const after = votersOf(res.config);
      const found = disjointQuorums(before, after);
      assert.equal(
        found,
        undefined,
        `two disjoint majorities: ${t.config.toString()} -> ${res.config.toString()} (${JSON.stringify(step, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))})`,
      );
      counts.checkedPairs++;
      checkVoteResultAgrees(res.config);
      // Every reachable config survives a snapshot: restoring its ConfState gives it back.
      assert.equal(restore(t, lastIndex, res.config.toConfState()).config.toString(), res.config.toString());
      t.config = res.config;
      t.progress = res.progress;
    }

    // The generator really exercised every kind of change.
    assert.ok(counts.checkedPairs >= 3000, `only ${counts.checkedPairs} pairs`);
    assert.ok(counts.simple > 500 && counts.enter > 300 && counts.leave > 300, JSON.stringify(counts));
    assert.ok(counts.refused > 300 && counts.learnerSteps > 100, JSON.stringify(counts));
  });

  it('the quorum definition used here matches the production vote counting on fixed configs', () => {
    const cfgs = [
      new JointConfig(new MajorityConfig([1n, 2n, 3n])),
      new JointConfig(new MajorityConfig([1n, 2n, 3n, 4n])),
      new JointConfig(new MajorityConfig([1n, 4n, 5n]), new MajorityConfig([1n, 2n, 3n])),
      new JointConfig(new MajorityConfig([7n]), new MajorityConfig([1n, 2n, 3n, 4n, 5n, 6n])),
    ];
    for (const voters of cfgs) {
      const v: Voters = { incoming: voters.incoming.voters, outgoing: voters.outgoing.voters };
      for (const set of subsetsOf([...voters.ids()])) {
        const votes = new Map<bigint, boolean>([...voters.ids()].map((id) => [id, set.has(id)]));
        assert.equal(voters.voteResult(votes) === VoteResult.VoteWon, isQuorum(v, set));
      }
    }
  });
});
