import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JointConfig } from '../../../server/src/raft/quorum/joint.js';
import { MajorityConfig } from '../../../server/src/raft/quorum/majority.js';
import { type AckedIndexer, INDEX_INFINITY, VoteResult } from '../../../server/src/raft/quorum/quorum.js';
import { Prng } from '../../../server/src/raft/rng.js';

const { VoteWon, VoteLost, VotePending } = VoteResult;

const ids = (n: number): bigint[] => Array.from({ length: n }, (_, i) => BigInt(i + 1));

/** Acked indexes for voters 1..n in order; undefined = this voter never acknowledged anything. */
function ackedOf(indexes: (number | undefined)[]): AckedIndexer {
  const m = new Map<bigint, number>();
  indexes.forEach((idx, i) => {
    if (idx !== undefined) m.set(BigInt(i + 1), idx);
  });
  return (id) => m.get(id);
}

/** Votes of voters 1..n in order: 'y' granted, 'n' rejected, '_' not (yet) voted. */
function votesOf(s: string): Map<bigint, boolean> {
  const m = new Map<bigint, boolean>();
  [...s].forEach((c, i) => {
    if (c === 'y') m.set(BigInt(i + 1), true);
    else if (c === 'n') m.set(BigInt(i + 1), false);
    else assert.equal(c, '_');
  });
  return m;
}

describe('MajorityConfig.committedIndex', () => {
  const cases: { acked: (number | undefined)[]; voters: number; want: number }[] = [
    // No voters: never the limiting half of a joint config.
    { voters: 0, acked: [], want: INDEX_INFINITY },
    { voters: 1, acked: [5], want: 5 },
    { voters: 1, acked: [undefined], want: 0 },
    { voters: 2, acked: [5, 3], want: 3 },
    { voters: 2, acked: [5, undefined], want: 0 },
    { voters: 3, acked: [5, 3, 1], want: 3 },
    { voters: 3, acked: [1, 5, 3], want: 3 },
    { voters: 3, acked: [5, 5, undefined], want: 5 },
    { voters: 3, acked: [5, undefined, undefined], want: 0 },
    { voters: 3, acked: [2, 2, 2], want: 2 },
    { voters: 3, acked: [0, 0, 7], want: 0 },
    // Four voters need three acknowledgements: a 2-2 tie commits the lower index.
    { voters: 4, acked: [4, 3, 2, 1], want: 2 },
    { voters: 4, acked: [9, 9, 1, 1], want: 1 },
    { voters: 4, acked: [9, 9, 9, undefined], want: 9 },
    { voters: 4, acked: [9, 9, undefined, undefined], want: 0 },
    { voters: 5, acked: [5, 4, 3, 2, 1], want: 3 },
    { voters: 5, acked: [9, 9, 9, 0, 0], want: 9 },
    { voters: 5, acked: [9, 9, undefined, undefined, undefined], want: 0 },
    { voters: 5, acked: [7, 8, 9, 10, 11], want: 9 },
  ];
  for (const c of cases) {
    it(`${c.voters} voters acked [${c.acked.map((a) => a ?? '_').join(' ')}] -> ${c.want}`, () => {
      assert.equal(new MajorityConfig(ids(c.voters)).committedIndex(ackedOf(c.acked)), c.want);
    });
  }

  it('ignores acknowledgements of non-voters', () => {
    const acked: AckedIndexer = (id) => (id === 9n ? 100 : id === 1n ? 4 : undefined);
    assert.equal(new MajorityConfig([1n, 2n, 3n]).committedIndex(acked), 0);
    assert.equal(new MajorityConfig([1n]).committedIndex(acked), 4);
  });
});

describe('MajorityConfig.voteResult', () => {
  const cases: { voters: number; votes: string; want: VoteResult }[] = [
    // An empty config wins by convention (so an empty outgoing half imposes nothing).
    { voters: 0, votes: '', want: VoteWon },
    { voters: 1, votes: '_', want: VotePending },
    { voters: 1, votes: 'y', want: VoteWon },
    { voters: 1, votes: 'n', want: VoteLost },
    { voters: 2, votes: '__', want: VotePending },
    { voters: 2, votes: 'y_', want: VotePending },
    { voters: 2, votes: 'yy', want: VoteWon },
    { voters: 2, votes: 'yn', want: VoteLost },
    { voters: 2, votes: 'n_', want: VoteLost },
    { voters: 3, votes: '___', want: VotePending },
    { voters: 3, votes: 'yn_', want: VotePending },
    { voters: 3, votes: 'yy_', want: VoteWon },
    { voters: 3, votes: 'yyn', want: VoteWon },
    { voters: 3, votes: 'nn_', want: VoteLost },
    { voters: 3, votes: 'ynn', want: VoteLost },
    // Four voters: a 2-2 tie loses, 2 grants with 2 missing are pending.
    { voters: 4, votes: 'yynn', want: VoteLost },
    { voters: 4, votes: 'yy__', want: VotePending },
    { voters: 4, votes: 'yyn_', want: VotePending },
    { voters: 4, votes: 'yyy_', want: VoteWon },
    { voters: 4, votes: 'ynn_', want: VoteLost },
    { voters: 5, votes: 'yynn_', want: VotePending },
    { voters: 5, votes: 'yyy__', want: VoteWon },
    { voters: 5, votes: 'nnn__', want: VoteLost },
    { voters: 5, votes: 'yynnn', want: VoteLost },
    { voters: 5, votes: '_____', want: VotePending },
  ];
  for (const c of cases) {
    it(`${c.voters} voters votes '${c.votes}' -> ${VoteResult[c.want]}`, () => {
      assert.equal(new MajorityConfig(ids(c.voters)).voteResult(votesOf(c.votes)), c.want);
    });
  }

  it('ignores votes of non-voters', () => {
    const votes = new Map<bigint, boolean>([
      [1n, true],
      [7n, true],
      [8n, true],
    ]);
    assert.equal(new MajorityConfig([1n, 2n, 3n]).voteResult(votes), VotePending);
    votes.set(2n, false);
    votes.set(3n, false);
    assert.equal(new MajorityConfig([1n, 2n, 3n]).voteResult(votes), VoteLost);
  });

  it('prints its voters sorted', () => {
    assert.equal(new MajorityConfig([3n, 10n, 1n]).toString(), '(1 3 10)');
    assert.deepEqual(new MajorityConfig([3n, 10n, 1n]).slice(), [1n, 3n, 10n]);
  });
});

describe('JointConfig', () => {
  const joint = (incoming: number[], outgoing: number[]): JointConfig =>
    new JointConfig(new MajorityConfig(incoming.map(BigInt)), new MajorityConfig(outgoing.map(BigInt)));

  it('the committed index is the minimum of both halves', () => {
    const acked = ackedOf([9, 8, 7, 6, 5, 4]);
    // (1 2 3) commits 8, (4 5 6) commits 5.
    assert.equal(joint([1, 2, 3], [4, 5, 6]).committedIndex(acked), 5);
    assert.equal(joint([4, 5, 6], [1, 2, 3]).committedIndex(acked), 5);
    // Overlapping halves: (1 2 3) commits 8, (3 4 5) commits 6.
    assert.equal(joint([1, 2, 3], [3, 4, 5]).committedIndex(acked), 6);
    // An empty half imposes nothing.
    assert.equal(joint([1, 2, 3], []).committedIndex(acked), 8);
    assert.equal(joint([], [4, 5, 6]).committedIndex(acked), 5);
    assert.equal(joint([], []).committedIndex(acked), INDEX_INFINITY);
    assert.equal(joint([1, 2, 3], [4, 5]).committedIndex(ackedOf([9, 8, 7, 6, undefined])), 0);
  });

  it('is joint only with a non-empty outgoing half', () => {
    assert.equal(joint([1], []).isJoint, false);
    assert.equal(joint([1], [1]).isJoint, true);
    assert.equal(joint([1, 2], [2, 3]).toString(), '(1 2)&&(2 3)');
    assert.equal(joint([2, 1], []).toString(), '(1 2)');
    assert.deepEqual([...joint([1, 2], [2, 3]).ids()].sort(), [1n, 2n, 3n]);
  });

  // incoming (1 2 3), outgoing (3 4 5): votes for voters 1..5.
  const cases: { votes: string; want: VoteResult }[] = [
    { votes: 'yy_yy', want: VoteWon }, // both halves won
    { votes: 'yyyy_', want: VoteWon }, // 3 is counted in both halves
    { votes: 'yy___', want: VotePending }, // incoming won, outgoing pending
    { votes: 'yy_nn', want: VoteLost }, // incoming won, outgoing lost
    { votes: 'nn_yy', want: VoteLost }, // incoming lost, outgoing won
    { votes: 'y__nn', want: VoteLost }, // incoming pending, outgoing lost
    { votes: 'y_n_y', want: VotePending }, // both pending
    { votes: '_____', want: VotePending },
    { votes: 'nnnnn', want: VoteLost },
  ];
  for (const c of cases) {
    it(`(1 2 3)&&(3 4 5) votes '${c.votes}' -> ${VoteResult[c.want]}`, () => {
      assert.equal(joint([1, 2, 3], [3, 4, 5]).voteResult(votesOf(c.votes)), c.want);
    });
  }

  it('with an empty half, the result is the other half’s', () => {
    for (const votes of ['yy_', 'y__', 'nn_', 'yyy', '___']) {
      const v = votesOf(votes);
      const want = new MajorityConfig([1n, 2n, 3n]).voteResult(v);
      assert.equal(joint([1, 2, 3], []).voteResult(v), want);
      assert.equal(joint([], [1, 2, 3]).voteResult(v), want);
    }
    assert.equal(joint([], []).voteResult(new Map()), VoteWon);
  });
});

describe('quorum properties (randomized, seeded)', () => {
  const rng = new Prng(20261121);

  function randomVoters(maxId: number, allowEmpty: boolean): bigint[] {
    const out: bigint[] = [];
    for (let id = 1; id <= maxId; id++) if (rng.chance(0.5)) out.push(BigInt(id));
    if (out.length === 0 && !allowEmpty) out.push(BigInt(1 + rng.intn(maxId)));
    return out;
  }

  /** The committed index by definition: the largest i acknowledged by a majority (brute force). */
  function committedByDefinition(voters: bigint[], acked: AckedIndexer): number {
    if (voters.length === 0) return INDEX_INFINITY;
    let best = 0;
    for (const candidate of voters.map((id) => acked(id) ?? 0)) {
      const n = voters.filter((id) => (acked(id) ?? 0) >= candidate).length;
      if (2 * n > voters.length && candidate > best) best = candidate;
    }
    return best;
  }

  it('majority committed index matches its definition; joint committed index is the min of the halves', () => {
    for (let round = 0; round < 2000; round++) {
      const incoming = randomVoters(9, true);
      const outgoing = randomVoters(9, true);
      const m = new Map<bigint, number>();
      for (let id = 1n; id <= 9n; id++) if (rng.chance(0.8)) m.set(id, rng.intn(20));
      const acked: AckedIndexer = (id) => m.get(id);
      const ci = new MajorityConfig(incoming).committedIndex(acked);
      const co = new MajorityConfig(outgoing).committedIndex(acked);
      assert.equal(ci, committedByDefinition(incoming, acked));
      assert.equal(co, committedByDefinition(outgoing, acked));
      const j = new JointConfig(new MajorityConfig(incoming), new MajorityConfig(outgoing));
      assert.equal(j.committedIndex(acked), Math.min(ci, co));
    }
  });

  it('a vote won with grants only stays won when more grants arrive; a lost vote stays lost with more rejections', () => {
    let wins = 0;
    let losses = 0;
    for (let round = 0; round < 2000; round++) {
      const j = new JointConfig(
        new MajorityConfig(randomVoters(7, false)),
        new MajorityConfig(randomVoters(7, true)),
      );
      const granted = new Map<bigint, boolean>();
      for (let id = 1n; id <= 7n; id++) if (rng.chance(0.5)) granted.set(id, true);
      const r = j.voteResult(granted);
      assert.notEqual(r, VoteLost, 'grants alone can never lose');
      if (r === VoteWon) {
        wins++;
        const more = new Map(granted);
        for (let id = 1n; id <= 7n; id++) {
          if (!rng.chance(0.5)) continue;
          more.set(id, true);
          assert.equal(j.voteResult(more), VoteWon);
        }
      }
      const rejected = new Map<bigint, boolean>();
      for (let id = 1n; id <= 7n; id++) if (rng.chance(0.5)) rejected.set(id, false);
      if (j.voteResult(rejected) === VoteLost) {
        losses++;
        for (let id = 1n; id <= 7n; id++) {
          rejected.set(id, false);
          assert.equal(j.voteResult(rejected), VoteLost);
        }
      }
      // Everyone granting always wins; everyone rejecting always loses.
      const all = (v: boolean): Map<bigint, boolean> => new Map([...j.ids()].map((id) => [id, v]));
      assert.equal(j.voteResult(all(true)), VoteWon);
      assert.equal(j.voteResult(all(false)), VoteLost);
    }
    assert.ok(wins > 100 && losses > 100, `wins=${wins} losses=${losses}`);
  });
});
