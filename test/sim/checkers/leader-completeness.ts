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
}

/**
 * Leader Completeness (Raft thesis §3.6.3, Figure 3.2): a leader of term T holds every entry committed in
 * an earlier term. Checked when a member is seen becoming leader, against every committed index its log
 * still holds (older ones are covered by its snapshot, which only ever contains committed entries).
 * Entries committed in T or later are skipped: a leader may be observed late, after later terms.
 */
export function checkLeaderCompleteness(
  leaderTerm: number,
  log: LeaderLog,
  committed: CommittedTerms,
  source: string,
): void {
  for (let i = log.firstIndex(); i <= committed.highest; i++) {
    const t = committed.termAt(i);
    if (t === undefined || t >= leaderTerm) continue;
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
