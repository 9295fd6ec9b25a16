import { InvariantViolation } from './violation.js';

/**
 * Applied state identical across members: after applying index i, every member's state machine has the
 * same content (hash of the ordered applied proposal ids). Recorded by the first member to reach i,
 * compared for every other member, including members restored from a snapshot taken at i. Together with
 * CommittedLog this makes the applied sequences prefix-equal.
 */
export class AppliedState {
  private readonly hashAt = new Map<number, { hash: number; source: string }>();

  observe(index: number, hash: number, source: string): void {
    const prev = this.hashAt.get(index);
    if (prev === undefined) {
      this.hashAt.set(index, { hash, source });
      return;
    }
    if (prev.hash !== hash) {
      throw new InvariantViolation(
        'applied-state-diverged',
        `state after index ${index} is ${hex(prev.hash)} on ${prev.source} but ${hex(hash)} on ${source}`,
      );
    }
  }

  hashAtIndex(index: number): number | undefined {
    return this.hashAt.get(index)?.hash;
  }
}

function hex(h: number): string {
  return h.toString(16).padStart(8, '0');
}
