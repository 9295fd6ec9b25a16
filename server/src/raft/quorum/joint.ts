import { MajorityConfig } from './majority.js';
import { type AckedIndexer, VoteResult } from './quorum.js';

/**
 * A joint configuration (Raft thesis §4.3): decisions need a majority of the incoming AND of the
 * outgoing voters. Outside a joint config the outgoing half is empty and imposes nothing.
 */
export class JointConfig {
  constructor(
    readonly incoming: MajorityConfig = new MajorityConfig(),
    readonly outgoing: MajorityConfig = new MajorityConfig(),
  ) {}

  get isJoint(): boolean {
    return this.outgoing.size > 0;
  }

  /** Every voter of either half. */
  ids(): Set<bigint> {
    const all = new Set(this.incoming.voters);
    for (const id of this.outgoing.voters) all.add(id);
    return all;
  }

  toString(): string {
    return this.isJoint
      ? `${this.incoming.toString()}&&${this.outgoing.toString()}`
      : this.incoming.toString();
  }

  committedIndex(acked: AckedIndexer): number {
    return Math.min(this.incoming.committedIndex(acked), this.outgoing.committedIndex(acked));
  }

  voteResult(votes: ReadonlyMap<bigint, boolean>): VoteResult {
    const r1 = this.incoming.voteResult(votes);
    const r2 = this.outgoing.voteResult(votes);
    if (r1 === r2) return r1;
    if (r1 === VoteResult.VoteLost || r2 === VoteResult.VoteLost) return VoteResult.VoteLost;
    return VoteResult.VotePending;
  }
}
