import { InvariantViolation } from './violation.js';

/**
 * State Machine Safety / Leader Completeness (Raft thesis §3.6.3): once an entry is committed at an
 * index, no member ever commits or applies a different entry there. The first report of a committed
 * index (a member's persisted commit index covering it, or a member applying it) fixes the entry; every
 * later report must match.
 */
export class CommittedLog {
  /**
   * index → the committed entry, and `committedBy`: the reporter's current term at the first report,
   * an upper bound of the term whose leader committed it (whoever learns a commit index has a term at
   * least that leader's). An entry of an old term may be committed by a later leader.
   */
  private readonly byIndex = new Map<
    number,
    { term: number; digest: string; source: string; committedBy: number }
  >();
  /** The highest index known committed. */
  highest = 0;

  get size(): number {
    return this.byIndex.size;
  }

  observe(index: number, term: number, digest: string, source: string, reporterTerm: number): void {
    const prev = this.byIndex.get(index);
    if (prev === undefined) {
      this.byIndex.set(index, { term, digest, source, committedBy: reporterTerm });
      if (index > this.highest) this.highest = index;
      return;
    }
    if (prev.term !== term || prev.digest !== digest) {
      throw new InvariantViolation(
        'committed-entry-changed',
        `index ${index} was committed as ${prev.term}/${prev.digest} (${prev.source}) ` +
          `but ${source} has ${term}/${digest}`,
      );
    }
  }

  /** A snapshot says the entry committed at `index` has `term` (its payload is not in the snapshot). */
  observeTerm(index: number, term: number, source: string): void {
    const prev = this.byIndex.get(index);
    if (prev !== undefined && prev.term !== term) {
      throw new InvariantViolation(
        'committed-entry-changed',
        `index ${index} was committed in term ${prev.term} (${prev.source}) but ${source} has term ${term}`,
      );
    }
  }

  termAt(index: number): number | undefined {
    return this.byIndex.get(index)?.term;
  }

  /** An upper bound of the term in which the entry at `index` was committed (undefined: not known). */
  committedByTerm(index: number): number | undefined {
    return this.byIndex.get(index)?.committedBy;
  }
}
