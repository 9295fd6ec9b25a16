/**
 * Quorum arithmetic, free of any Raft state: which index a configuration has committed given each
 * voter's acknowledged index, and whether an election is won, lost or still pending. `raft` imports
 * this; this imports nothing from `raft`.
 */

/** The highest index a voter is known to have durably appended, or undefined when unknown. */
export type AckedIndexer = (voter: bigint) => number | undefined;

export enum VoteResult {
  /** Neither enough grants nor enough rejections yet. */
  VotePending = 1,
  VoteLost = 2,
  VoteWon = 3,
}

/** The committed index of an empty configuration: it never limits a joint config's other half. */
export const INDEX_INFINITY = Number.MAX_SAFE_INTEGER;
