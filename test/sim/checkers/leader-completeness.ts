import { InvariantViolation } from './violation.js';

/** What the checker reads of the new leader's log (its Storage right after the Ready is written). */
export interface LeaderLog {
  firstIndex(): number;
  lastIndex(): number;
  term(i: number): number;
}

/** What the checker reads of the committed history. */
export interface CommittedTerms {
  highest: number;
  termAt(index: number): number | undefined;
  committedByTerm(index: number): number | undefined;
}

/**
 * Leader Completeness (Raft thesis §3.6.3, Figure 3.2): a leader of term T holds every entry committed in
 * an earlier term. Checked when a member is seen becoming leader, against every committed index its log
 * still holds (older ones are covered by its snapshot, which only ever contains committed entries).
 *
 * "Committed in an earlier term" is about the term of the leader that committed the entry, not the
 * entry's own term: an entry of term 1 may be committed by the leader of term 4, and a candidate that
 * won term 3 (say, paused while its votes queued up) rightly lacks it. CommittedLog keeps an upper bound
 * of that committing term; only leaders of a higher term are held to the entry.
 */
export function checkLeaderCompleteness(
  leaderTerm: number,
  log: LeaderLog,
  committed: CommittedTerms,
  source: string,
): void {
  for (let i = log.firstIndex(); i <= committed.highest; i++) {
    const t = committed.termAt(i);
    const committedBy = committed.committedByTerm(i);
    if (t === undefined || committedBy === undefined || committedBy >= leaderTerm) continue;
    if (i > log.lastIndex()) {
      throw new InvariantViolation(
        'leader-completeness',
        `${source} leads term ${leaderTerm} without committed entry ${t}/${i} (its log ends at ${log.lastIndex()})`,
      );
    }
    const mine = log.term(i);
    if (mine !== t) {
      throw new InvariantViolation(
        'leader-completeness',
        `${source} leads term ${leaderTerm} with ${mine}/${i} where ${t}/${i} was committed`,
      );
    }
  }
}
