import { InvariantViolation } from './violation.js';

/** What the checker reads of a member's durable log (SimDisk implements it). */
export interface LogView {
  firstIndex: number;
  lastIndex(): number;
  term(i: number): number | undefined;
  entryDigestAt(i: number): string | undefined;
}

/**
 * Log Matching (Raft thesis §3.5, Figure 3.2): if two logs contain an entry with the same index and term,
 * the logs are identical in all entries up through that index.
 *
 * Checked two ways on the PERSISTED logs:
 * - incrementally: every (index, term) that reaches any disk is recorded with its payload digest and the
 *   term of the entry before it; a later disk holding the same (index, term) must agree on both. By
 *   induction over the index this is the whole-prefix property, at O(1) per persisted entry;
 * - pairwise (`comparePair`), over the range both logs still hold, run periodically and at the end.
 */
export class LogMatching {
  private readonly seen = new Map<string, { digest: string; prevTerm: number | undefined; source: string }>();

  observeEntry(
    index: number,
    term: number,
    prevTerm: number | undefined,
    digest: string,
    source: string,
  ): void {
    const key = `${index}/${term}`;
    const prev = this.seen.get(key);
    if (prev === undefined) {
      this.seen.set(key, { digest, prevTerm, source });
      return;
    }
    if (prev.digest !== digest) {
      throw new InvariantViolation(
        'log-matching',
        `entry ${term}/${index} differs: ${prev.digest} on ${prev.source}, ${digest} on ${source}`,
      );
    }
    if (prev.prevTerm !== undefined && prevTerm !== undefined && prev.prevTerm !== prevTerm) {
      throw new InvariantViolation(
        'log-matching',
        `entry ${term}/${index} follows term ${prev.prevTerm} on ${prev.source} but term ${prevTerm} on ${source}`,
      );
    }
  }

  /**
   * Full comparison of two logs: find the highest index where both hold an entry of the same term; every
   * entry both hold at or below it must be identical.
   */
  static comparePair(a: LogView, b: LogView, names: [string, string]): void {
    const lo = Math.max(a.firstIndex, b.firstIndex);
    let hi = Math.min(a.lastIndex(), b.lastIndex());
    while (hi >= lo && a.term(hi) !== b.term(hi)) hi--;
    for (let i = lo; i <= hi; i++) {
      const ta = a.term(i);
      const tb = b.term(i);
      const da = a.entryDigestAt(i);
      const db = b.entryDigestAt(i);
      if (ta !== tb || da !== db) {
        throw new InvariantViolation(
          'log-matching',
          `${names[0]} and ${names[1]} agree at ${a.term(hi)}/${hi} but differ at ${i}: ` +
            `${ta}/${da} vs ${tb}/${db}`,
        );
      }
    }
  }
}
