import type { ConfState } from '../../server/src/raftpb/types.js';
import { assert } from '../../server/src/util/assert.js';

/**
 * The simulated state machine: the ordered list of proposal ids applied so far (each id once) and a
 * rolling hash of that list. Two members that applied the same committed prefix have equal hashes; a
 * snapshot carries the whole list so that a member restored from it continues the same sequence.
 *
 * Invariant: hash === rollingHash(ids); `appliedIndex` is the last raft index folded in.
 */
export class AppState {
  appliedIndex = 0;
  ids: string[] = [];
  private readonly seen = new Set<string>();
  hash = HASH_START;
  /** The configuration as of `appliedIndex` (what a snapshot taken now must record). */
  confState: ConfState;

  constructor(confState: ConfState) {
    this.confState = confState;
  }

  /** Applies one committed proposal id; false when the id was already applied (a duplicate). */
  applyProposal(index: number, id: string): boolean {
    this.advanceTo(index);
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    this.ids.push(id);
    this.hash = foldId(this.hash, id);
    return true;
  }

  /** Moves the applied index over an entry that does not change the list (empty, conf change). */
  advanceTo(index: number): void {
    assert(index === this.appliedIndex + 1, `apply out of order: applied=${this.appliedIndex} next=${index}`);
    this.appliedIndex = index;
  }

  has(id: string): boolean {
    return this.seen.has(id);
  }

  encode(): Uint8Array {
    return encoder.encode(JSON.stringify({ index: this.appliedIndex, hash: this.hash, ids: this.ids }));
  }

  static decode(data: Uint8Array, confState: ConfState): AppState {
    const s = new AppState(confState);
    if (data.length === 0) return s;
    const parsed = JSON.parse(decoder.decode(data)) as { index: number; hash: number; ids: string[] };
    for (const id of parsed.ids) {
      s.seen.add(id);
      s.hash = foldId(s.hash, id);
    }
    s.ids = parsed.ids;
    s.appliedIndex = parsed.index;
    // Pair assertion: the hash written with the snapshot equals the hash recomputed after reading it.
    assert(s.hash === parsed.hash, `snapshot data corrupt: hash ${parsed.hash} != ${s.hash}`);
    return s;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const HASH_START = 0x811c9dc5;

export function foldId(hash: number, id: string): number {
  let h = hash;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= 0x2c;
  return Math.imul(h, 0x01000193) >>> 0;
}
