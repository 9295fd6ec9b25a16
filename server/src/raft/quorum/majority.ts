import { type AckedIndexer, INDEX_INFINITY, VoteResult } from './quorum.js';

/** A set of voters where any strict majority decides (Raft thesis §3.4, §3.6). */
export class MajorityConfig {
  readonly voters: Set<bigint>;

  constructor(voters: Iterable<bigint> = []) {
    this.voters = new Set(voters);
  }

  get size(): number {
    return this.voters.size;
  }

  /** The voters in ascending order (for deterministic output). */
  slice(): bigint[] {
    return [...this.voters].sort(compareIds);
  }

  toString(): string {
    return `(${this.slice().join(' ')})`;
  }

  /**
   * The largest index acknowledged by a majority: sort the acknowledged indexes descending and take
   * the one at position ⌊n/2⌋. Voters with no acknowledgement count as 0. An empty config returns
   * INDEX_INFINITY so that it never holds back the other half of a joint config.
   */
  committedIndex(acked: AckedIndexer): number {
    const n = this.voters.size;
    if (n === 0) return INDEX_INFINITY;
    const indexes: number[] = [];
    for (const id of this.voters) indexes.push(acked(id) ?? 0);
    indexes.sort((a, b) => b - a);
    const quorumPosition = Math.floor(n / 2);
    return indexes[quorumPosition] ?? 0;
  }

  /**
   * The result of an election given the votes cast so far (true = granted). An empty config wins by
   * convention, which lets a joint config with an empty outgoing half behave like its incoming half.
   */
  voteResult(votes: ReadonlyMap<bigint, boolean>): VoteResult {
    if (this.voters.size === 0) return VoteResult.VoteWon;
    let granted = 0;
    let missing = 0;
    for (const id of this.voters) {
      const v = votes.get(id);
      if (v === undefined) missing++;
      else if (v) granted++;
    }
    const quorum = Math.floor(this.voters.size / 2) + 1;
    if (granted >= quorum) return VoteResult.VoteWon;
    if (granted + missing >= quorum) return VoteResult.VotePending;
    return VoteResult.VoteLost;
  }
}

export function compareIds(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
