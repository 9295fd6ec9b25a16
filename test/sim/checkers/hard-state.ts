import { NONE, type HardState } from '../../../server/src/raftpb/types.js';
import { InvariantViolation } from './violation.js';

/**
 * What a member persists as its HardState only ever moves forward (Raft thesis §3.3, Figure 3.1: currentTerm
 * increases monotonically; votedFor is a promise for the whole term; commitIndex never decreases). Checked
 * on every durable HardState against the previous durable one of the same member.
 */
export function checkHardStateStep(prev: HardState, next: HardState, source: string): void {
  if (next.term < prev.term) {
    throw new InvariantViolation('hard-state', `${source}: term went back from ${prev.term} to ${next.term}`);
  }
  if (next.term === prev.term && prev.vote !== NONE && next.vote !== prev.vote) {
    throw new InvariantViolation(
      'hard-state',
      `${source}: voted for ${prev.vote} in term ${prev.term}, then for ${next.vote} in the same term`,
    );
  }
  if (next.commit < prev.commit) {
    throw new InvariantViolation(
      'hard-state',
      `${source}: commit went back from ${prev.commit} to ${next.commit}`,
    );
  }
}
