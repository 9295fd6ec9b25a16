import { InvariantViolation } from './violation.js';

/** What the checker reads of a member's state machine. */
export interface AppliedView {
  appliedIndex: number;
  has(id: string): boolean;
}

/**
 * Durability of acknowledged writes: a proposal acknowledged to its client (applied on the member the
 * client talks to) is in every later committed history, so every state machine that has applied past
 * its index contains it, whether it got there by applying entries or by installing a snapshot.
 */
export class AckedWrites {
  /** id → the index it was acknowledged at. Insertion order = acknowledgement order. */
  readonly acked = new Map<string, number>();

  get count(): number {
    return this.acked.size;
  }

  ack(id: string, index: number): void {
    if (!this.acked.has(id)) this.acked.set(id, index);
  }

  /** Checks one state machine against every acknowledged write at or below its applied index. */
  checkState(state: AppliedView, source: string): void {
    for (const [id, index] of this.acked) {
      if (index <= state.appliedIndex && !state.has(id)) {
        throw new InvariantViolation(
          'acknowledged-write-lost',
          `${source} applied through ${state.appliedIndex} without write ${id} acknowledged at index ${index}`,
        );
      }
    }
  }
}
