import { InvariantViolation } from './violation.js';

/**
 * Election Safety (Raft thesis §3.6.3, Figure 3.2): at most one leader can be elected in a given term.
 * Every (term, leader) ever observed is kept: from a member's own Ready/status when it is leader, and from
 * the messages only a leader sends (MsgApp, MsgHeartbeat, MsgSnap, MsgTimeoutNow).
 */
export class ElectionSafety {
  /** term → the one leader seen in it. */
  private readonly leaders = new Map<number, bigint>();

  /** Distinct (term, leader) pairs seen: the number of elections won. */
  get elections(): number {
    return this.leaders.size;
  }

  observe(term: number, leader: bigint, how: string): void {
    const prev = this.leaders.get(term);
    if (prev === undefined) {
      this.leaders.set(term, leader);
      return;
    }
    if (prev !== leader) {
      throw new InvariantViolation(
        'election-safety',
        `two leaders in term ${term}: ${prev} and ${leader} (the latter seen via ${how})`,
      );
    }
  }
}
