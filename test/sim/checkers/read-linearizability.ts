import { InvariantViolation } from './violation.js';

/**
 * Linearizable ReadIndex reads (Raft thesis §6.4). A read issued at t0 must observe every write that was
 * acknowledged before t0 and everything an earlier completed read observed:
 * - its readState index i must be >= the largest index acknowledged to any client before t0 (a write
 *   acknowledged at index k, or a read that returned the state at applied index a);
 * - it may be served only once the serving member has applied >= i, and the value returned (the state at
 *   the member's applied index) must be the state every member had at that index.
 */
export class ReadLinearizability {
  /** The largest index any client has been told about (acknowledged write or returned read). */
  private ackedIndexMax = 0;
  /** ctx → the ackedIndexMax when the read was issued. */
  private readonly floorAtIssue = new Map<string, number>();
  checked = 0;

  issue(ctx: string): void {
    this.floorAtIssue.set(ctx, this.ackedIndexMax);
  }

  /** A write was acknowledged to its client: its entry is at `index`. */
  ackWrite(index: number): void {
    if (index > this.ackedIndexMax) this.ackedIndexMax = index;
  }

  /** The read's readState arrived. */
  readState(ctx: string, index: number): void {
    const floor = this.floorAtIssue.get(ctx);
    if (floor === undefined) return; // not one of ours (or already answered: a duplicate)
    if (index < floor) {
      throw new InvariantViolation(
        'read-linearizability',
        `read ${ctx} got read index ${index} but index ${floor} was acknowledged before it was issued`,
      );
    }
  }

  /**
   * The read is served from a state machine at `appliedIndex` whose hash is `hash`; `expectedHash` is the
   * hash all members had at that index (undefined when not recorded).
   */
  serve(
    ctx: string,
    readIndex: number,
    appliedIndex: number,
    hash: number,
    expectedHash: number | undefined,
  ): void {
    const floor = this.floorAtIssue.get(ctx);
    if (floor === undefined) return;
    this.floorAtIssue.delete(ctx);
    if (appliedIndex < readIndex) {
      throw new InvariantViolation(
        'read-linearizability',
        `read ${ctx} served at applied ${appliedIndex} before reaching its read index ${readIndex}`,
      );
    }
    if (appliedIndex < floor) {
      throw new InvariantViolation(
        'read-linearizability',
        `read ${ctx} returned the state at ${appliedIndex}, older than acknowledged index ${floor}`,
      );
    }
    if (expectedHash !== undefined && expectedHash !== hash) {
      throw new InvariantViolation(
        'read-linearizability',
        `read ${ctx} returned state ${hash} at ${appliedIndex}, but the state there is ${expectedHash}`,
      );
    }
    this.checked++;
    if (appliedIndex > this.ackedIndexMax) this.ackedIndexMax = appliedIndex;
  }

  /** The read will never be answered (its member crashed). */
  abandon(ctx: string): void {
    this.floorAtIssue.delete(ctx);
  }
}
