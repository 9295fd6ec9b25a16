import type { ConfState } from '../../raftpb/types.js';
import { JointConfig } from '../quorum/joint.js';
import { compareIds, MajorityConfig } from '../quorum/majority.js';
import { VoteResult } from '../quorum/quorum.js';
import type { Progress } from './progress.js';

/**
 * A cluster configuration: the voters (joint while a change is in flight) and the learners.
 *
 * Invariants (checked by confchange after every change):
 * - learners ∩ voters (either half) = ∅; a node is never a voter and a learner at once.
 * - learnersNext ⊆ outgoing voters: they become learners when the joint config is left.
 * - autoLeave only while joint.
 */
export class TrackerConfig {
  constructor(
    readonly voters: JointConfig = new JointConfig(),
    readonly learners: Set<bigint> = new Set(),
    readonly learnersNext: Set<bigint> = new Set(),
    public autoLeave = false,
  ) {}

  clone(): TrackerConfig {
    return new TrackerConfig(
      new JointConfig(
        new MajorityConfig(this.voters.incoming.voters),
        new MajorityConfig(this.voters.outgoing.voters),
      ),
      new Set(this.learners),
      new Set(this.learnersNext),
      this.autoLeave,
    );
  }

  toConfState(): ConfState {
    return {
      voters: this.voters.incoming.slice(),
      votersOutgoing: this.voters.outgoing.slice(),
      learners: [...this.learners].sort(compareIds),
      learnersNext: [...this.learnersNext].sort(compareIds),
      autoLeave: this.autoLeave,
    };
  }

  toString(): string {
    let s = `voters=${this.voters.toString()}`;
    if (this.learners.size > 0) s += ` learners=(${[...this.learners].sort(compareIds).join(' ')})`;
    if (this.learnersNext.size > 0) {
      s += ` learners_next=(${[...this.learnersNext].sort(compareIds).join(' ')})`;
    }
    if (this.autoLeave) s += ' autoleave';
    return s;
  }
}

/** Every member's Progress plus the active config and the votes of the current election. */
export class ProgressTracker {
  config = new TrackerConfig();
  progress = new Map<bigint, Progress>();
  votes = new Map<bigint, boolean>();

  constructor(
    /** Appends in flight per follower, at most (etcd MaxInflightMsgs). */
    readonly inflightMsgsMax: number,
    /** Payload bytes in flight per follower, at most; 0 = unlimited (etcd MaxInflightBytes). */
    readonly inflightBytesMax: number,
  ) {}

  /** The largest index acknowledged by a quorum of voters. */
  committed(): number {
    return this.config.voters.committedIndex((id) => this.progress.get(id)?.match);
  }

  /** Whether `id` is the only voter (a single-member cluster commits on its own). */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && this.config.voters.outgoing.size === 0;
  }

  isVoter(id: bigint): boolean {
    return this.config.voters.incoming.voters.has(id) || this.config.voters.outgoing.voters.has(id);
  }

  /** Every member, voters and learners, in ascending id order. */
  ids(): bigint[] {
    return [...this.progress.keys()].sort(compareIds);
  }

  voterIds(): bigint[] {
    return [...this.config.voters.ids()].sort(compareIds);
  }

  learnerIds(): bigint[] {
    return [...this.config.learners, ...this.config.learnersNext].sort(compareIds);
  }

  /**
   * Whether a quorum of voters was recently active (check-quorum, thesis §6.2). Learners never count.
   */
  quorumActive(): boolean {
    const votes = new Map<bigint, boolean>();
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      votes.set(id, pr.recentActive);
    }
    return this.config.voters.voteResult(votes) === VoteResult.VoteWon;
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  /** Records a vote; a node's first vote in an election is the one that counts. */
  recordVote(id: bigint, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  /** Tallies the election: granted, rejected, and the result for the voter config. */
  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: this.config.voters.voteResult(this.votes) };
  }
}
