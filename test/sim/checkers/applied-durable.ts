import type { Entry } from '../../../server/src/raftpb/types.js';
import { entryDigest } from '../describe.js';
import { InvariantViolation } from './violation.js';

/** What the checker reads of a member's durable log (SimDisk implements it). */
export interface DurableLog {
  entryAt(i: number): Entry | undefined;
}

/**
 * A member only applies entries it has durably stored (ready.ts: committedEntries were persisted by an
 * earlier Ready or are in this one's entries, which are persisted first). Applying an entry that is not on
 * its own disk would let a crash forget an entry the state machine already acted on.
 */
export function checkAppliedDurable(disk: DurableLog, e: Entry, source: string): void {
  const d = disk.entryAt(e.index);
  if (d === undefined) {
    throw new InvariantViolation(
      'applied-not-durable',
      `${source} applies ${e.term}/${e.index}, not on its disk`,
    );
  }
  if (d.term !== e.term || entryDigest(d) !== entryDigest(e)) {
    throw new InvariantViolation(
      'applied-not-durable',
      `${source} applies ${e.term}/${e.index} but its disk has ${d.term}/${d.index} there`,
    );
  }
}
