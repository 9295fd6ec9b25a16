// Unit tests of the simulator's checkers on hand-made histories: each property is shown both holding
// (no throw) and broken (the checker throws an InvariantViolation naming it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AckedWrites } from './checkers/acked-writes.js';
import { checkAppliedDurable } from './checkers/applied-durable.js';
import { checkAppliedIndex } from './checkers/applied-index.js';
import { AppliedState } from './checkers/applied-state.js';
import { CommittedLog } from './checkers/committed-log.js';
import { ElectionSafety } from './checkers/election-safety.js';
import { checkHardStateStep } from './checkers/hard-state.js';
import { checkLeaderCompleteness } from './checkers/leader-completeness.js';
import { LogMatching, type LogView } from './checkers/log-matching.js';
import { ReadLinearizability } from './checkers/read-linearizability.js';
import { InvariantViolation } from './checkers/violation.js';
import { newEntry } from '../../server/src/raftpb/types.js';

function violates(invariant: string, fn: () => void): void {
  assert.throws(fn, (e: unknown) => e instanceof InvariantViolation && e.invariant === invariant);
}

/** A log given as its terms from `first` on, with digests `t<term>i<index>` unless overridden. */
function log(first: number, terms: number[], digests: Record<number, string> = {}): LogView {
  return {
    firstIndex: first,
    lastIndex: () => first + terms.length - 1,
    term: (i) => terms[i - first],
    entryDigestAt: (i) =>
      terms[i - first] === undefined ? undefined : (digests[i] ?? `t${terms[i - first]}i${i}`),
  };
}

describe('sim checkers', () => {
  it('election safety: one leader per term', () => {
    const c = new ElectionSafety();
    c.observe(1, 1n, 'ready');
    c.observe(1, 1n, 'MsgApp');
    c.observe(2, 2n, 'ready');
    assert.equal(c.elections, 2);
    violates('election-safety', () => c.observe(2, 3n, 'MsgHeartbeat'));
  });

  it('log matching: same (index, term) must carry the same entry and follow the same term', () => {
    const c = new LogMatching();
    c.observeEntry(5, 2, 1, 'a', 'n1');
    c.observeEntry(5, 2, 1, 'a', 'n2');
    c.observeEntry(5, 3, 2, 'b', 'n3'); // another term at the same index is fine (uncommitted suffix)
    violates('log-matching', () => c.observeEntry(5, 2, 1, 'x', 'n4'));
    violates('log-matching', () => c.observeEntry(5, 3, 1, 'b', 'n4'));
  });

  it('log matching: pairwise comparison over the range both logs hold', () => {
    // Diverging suffixes in different terms: fine.
    LogMatching.comparePair(log(1, [1, 1, 2, 2]), log(1, [1, 1, 3]), ['a', 'b']);
    // Compacted prefix on one side: compared over the overlap only.
    LogMatching.comparePair(log(3, [2, 2]), log(1, [1, 1, 2, 2, 4]), ['a', 'b']);
    // Same (4, 2) at the end but a different entry at 2: broken.
    violates('log-matching', () =>
      LogMatching.comparePair(log(1, [1, 1, 2, 2]), log(1, [1, 1, 2, 2], { 2: 'other' }), ['a', 'b']),
    );
    violates('log-matching', () => LogMatching.comparePair(log(1, [1, 3, 3]), log(1, [1, 2, 3]), ['a', 'b']));
  });

  it('committed entries never change', () => {
    const c = new CommittedLog();
    c.observe(3, 1, 'a', 'n1 apply', 1);
    c.observe(3, 1, 'a', 'n2 persisted commit', 2);
    c.observeTerm(3, 1, 'n3 snapshot');
    assert.equal(c.highest, 3);
    violates('committed-entry-changed', () => c.observe(3, 2, 'b', 'n3 apply', 2));
    violates('committed-entry-changed', () => c.observe(3, 1, 'b', 'n3 apply', 2));
    violates('committed-entry-changed', () => c.observeTerm(3, 2, 'n3 snapshot'));
  });

  it('applied state identical at each index', () => {
    const c = new AppliedState();
    c.observe(7, 0xabc, 'n1');
    c.observe(7, 0xabc, 'n2 snapshot');
    assert.equal(c.hashAtIndex(7), 0xabc);
    violates('applied-state-diverged', () => c.observe(7, 0xabd, 'n3'));
  });

  it('reads: the read index covers everything acknowledged before the read was issued', () => {
    const c = new ReadLinearizability();
    c.ackWrite(10);
    c.issue('r1');
    violates('read-linearizability', () => c.readState('r1', 9));
    c.issue('r2');
    c.readState('r2', 10);
    c.serve('r2', 10, 12, 0xa, 0xa);
    assert.equal(c.checked, 1);
    // The served read returned the state at 12: a read issued afterwards must not go back.
    c.issue('r3');
    violates('read-linearizability', () => c.readState('r3', 11));
    // A read issued BEFORE the ack may return an older index (it is concurrent with the write).
    const d = new ReadLinearizability();
    d.issue('early');
    d.ackWrite(10);
    d.readState('early', 5);
    d.serve('early', 5, 5, 1, 1);
  });

  it('reads: served only after applying the read index, with the state every member had there', () => {
    const c = new ReadLinearizability();
    c.issue('r1');
    violates('read-linearizability', () => c.serve('r1', 8, 7, 1, undefined));
    c.issue('r2');
    violates('read-linearizability', () => c.serve('r2', 8, 9, 1, 2));
    c.issue('r3');
    c.abandon('r3');
    c.serve('r3', 8, 1, 1, 2); // abandoned: no longer checked
    assert.equal(c.checked, 0);
  });

  it('acknowledged writes are in every state machine applied past them', () => {
    const c = new AckedWrites();
    c.ack('c1.1', 5);
    c.ack('c1.2', 9);
    const state = (
      appliedIndex: number,
      ids: string[],
    ): { appliedIndex: number; has(id: string): boolean } => ({
      appliedIndex,
      has: (id) => ids.includes(id),
    });
    c.checkState(state(8, ['c1.1']), 'n1'); // 9 not reached yet
    c.checkState(state(9, ['c1.1', 'c1.2']), 'n2');
    violates('acknowledged-write-lost', () => c.checkState(state(9, ['c1.2']), 'n3'));
  });

  it('hard state only moves forward: term, the vote within a term, commit', () => {
    checkHardStateStep({ term: 1, vote: 0n, commit: 0 }, { term: 1, vote: 2n, commit: 0 }, 'n1');
    checkHardStateStep({ term: 1, vote: 2n, commit: 3 }, { term: 2, vote: 3n, commit: 3 }, 'n1');
    violates('hard-state', () =>
      checkHardStateStep({ term: 2, vote: 0n, commit: 0 }, { term: 1, vote: 0n, commit: 0 }, 'n1'),
    );
    violates('hard-state', () =>
      checkHardStateStep({ term: 2, vote: 1n, commit: 0 }, { term: 2, vote: 3n, commit: 0 }, 'n1'),
    );
    violates('hard-state', () =>
      checkHardStateStep({ term: 2, vote: 1n, commit: 5 }, { term: 2, vote: 1n, commit: 4 }, 'n1'),
    );
  });

  it('a member applies only entries on its own disk', () => {
    const a = newEntry({ term: 2, index: 4, data: new Uint8Array([1]) });
    const disk = (e: ReturnType<typeof newEntry> | undefined): { entryAt(i: number): typeof e } => ({
      entryAt: (i) => (i === 4 ? e : undefined),
    });
    checkAppliedDurable(disk(a), a, 'n1');
    violates('applied-not-durable', () => checkAppliedDurable(disk(undefined), a, 'n1'));
    violates('applied-not-durable', () => checkAppliedDurable(disk({ ...a, term: 3 }), a, 'n1'));
    violates('applied-not-durable', () =>
      checkAppliedDurable(disk({ ...a, data: new Uint8Array([2]) }), a, 'n1'),
    );
  });

  it('leader completeness: a new leader holds every entry committed in earlier terms', () => {
    const committed = new CommittedLog();
    committed.observe(2, 1, 'a', 'n1', 1);
    committed.observe(3, 2, 'b', 'n1', 2);
    committed.observe(4, 5, 'c', 'n1', 5); // committed in a later term than the leader below: not required
    // An entry of term 1 committed by the leader of term 6: a leader of term 4 may lack it (it won its
    // election before that commit), a leader of term 7 may not.
    committed.observe(5, 1, 'd', 'n1', 6);
    const leaderLog = (
      first: number,
      terms: number[],
    ): { firstIndex(): number; lastIndex(): number; term(i: number): number } => ({
      firstIndex: () => first,
      lastIndex: () => first + terms.length - 1,
      term: (i) => terms[i - first]!,
    });
    checkLeaderCompleteness(4, leaderLog(2, [1, 2]), committed, 'n2');
    violates('leader-completeness', () =>
      checkLeaderCompleteness(7, leaderLog(2, [1, 2, 5, 6]), committed, 'n2'),
    );
    checkLeaderCompleteness(4, leaderLog(3, [2, 3]), committed, 'n2'); // index 2 is under its snapshot
    violates('leader-completeness', () => checkLeaderCompleteness(4, leaderLog(2, [1]), committed, 'n2'));
    violates('leader-completeness', () => checkLeaderCompleteness(4, leaderLog(2, [1, 3]), committed, 'n2'));
  });

  it("the core's applied index follows the state machine's", () => {
    checkAppliedIndex(7, 7, 'n1');
    violates('applied-index', () => checkAppliedIndex(6, 7, 'n1'));
  });
});
