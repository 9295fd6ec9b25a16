import { ConfChangeType, type ConfChangeSingle } from '../../raftpb/types.js';
import { assert } from '../../util/assert.js';
import { Inflights } from '../tracker/inflights.js';
import { Progress } from '../tracker/progress.js';
import type { TrackerConfig } from '../tracker/tracker.js';
import { ConfChangeError } from './errors.js';
import { checkInvariants } from './invariants.js';

export { ConfChangeError } from './errors.js';

/** A new configuration and the progress map that goes with it, to be swapped into the tracker whole. */
export interface ChangeResult {
  config: TrackerConfig;
  progress: Map<bigint, Progress>;
}

/** What the changer reads from the progress tracker (a ProgressTracker fits). */
export interface ChangerTracker {
  readonly config: TrackerConfig;
  readonly progress: ReadonlyMap<bigint, Progress>;
  readonly inflightMsgsMax: number;
  readonly inflightBytesMax: number;
}

/**
 * Computes configuration changes (Raft thesis §4.3, joint consensus; etcd-io/raft confchange) without
 * touching the tracker it was given: every method validates the request, works on a copy and returns
 * the new config and progress map, or throws ConfChangeError and leaves everything as it was. The
 * caller swaps the result in when the change entry is applied.
 *
 * By convention every voter change is made to the incoming half; the outgoing half is either empty or,
 * while joint, the frozen voters of C_old.
 */
export class Changer {
  constructor(
    private readonly tracker: ChangerTracker,
    /** The leader's last log index; new followers are probed from there (next = max(lastIndex, 1)). */
    private readonly lastIndex: number,
  ) {
    assert(Number.isSafeInteger(lastIndex) && lastIndex >= 0, `bad last index ${lastIndex}`);
  }

  /**
   * Enters a joint config C_old,new: the outgoing half becomes a copy of the current voters, then the
   * changes are applied to the incoming half. From then on every decision needs a majority of both,
   * so no majority of C_old alone and of C_new alone can decide differently (§4.3).
   */
  enterJoint(autoLeave: boolean, changes: readonly ConfChangeSingle[]): ChangeResult {
    const draft = this.checkAndCopy();
    const voters = draft.config.voters;
    if (voters.isJoint) throw new ConfChangeError('config is already joint');
    // An empty config may be filled for bootstrap, but a joint config with an empty outgoing half is
    // not joint at all.
    if (voters.incoming.size === 0) throw new ConfChangeError("can't make a zero-voter config joint");
    for (const id of voters.incoming.voters) voters.outgoing.voters.add(id);
    draft.apply(changes);
    draft.config.autoLeave = autoLeave;
    return draft.finish();
  }

  /**
   * Leaves the joint config: C_new alone decides. Staged learners (voters of C_old that were demoted)
   * become learners now, and nodes that were only in C_old lose their progress.
   */
  leaveJoint(): ChangeResult {
    const draft = this.checkAndCopy();
    const cfg = draft.config;
    if (!cfg.voters.isJoint) throw new ConfChangeError("can't leave a non-joint config");
    for (const id of cfg.learnersNext) {
      cfg.learners.add(id);
      draft.writable(id).isLearner = true;
    }
    cfg.learnersNext.clear();
    for (const id of cfg.voters.outgoing.voters) {
      if (!cfg.voters.incoming.voters.has(id) && !cfg.learners.has(id)) draft.progress.delete(id);
    }
    cfg.voters.outgoing.voters.clear();
    cfg.autoLeave = false;
    return draft.finish();
  }

  /**
   * Applies changes that, taken together, add or remove at most one voter. Any two majorities of
   * configs differing by one voter overlap (§4.1), so no joint phase is needed. Learner changes are
   * free: learners are never part of a quorum.
   */
  simple(changes: readonly ConfChangeSingle[]): ChangeResult {
    const draft = this.checkAndCopy();
    if (draft.config.voters.isJoint) {
      throw new ConfChangeError("can't apply simple config change in joint config");
    }
    draft.apply(changes);
    if (
      symmetricDifference(this.tracker.config.voters.incoming.voters, draft.config.voters.incoming.voters) > 1
    ) {
      throw new ConfChangeError('more than one voter changed without entering joint config');
    }
    return draft.finish();
  }

  private checkAndCopy(): Draft {
    checkInvariants(this.tracker.config, this.tracker.progress);
    return new Draft(this.tracker, this.lastIndex);
  }
}

/**
 * A copy of the config and progress map being changed. Progress entries are shared with the input
 * until one is modified (copy on write), so the input tracker is never mutated.
 */
class Draft {
  readonly config: TrackerConfig;
  readonly progress: Map<bigint, Progress>;
  /** Entries of `progress` owned by this draft (cloned or created here), safe to modify. */
  private readonly owned = new Set<bigint>();

  constructor(
    private readonly tracker: ChangerTracker,
    private readonly lastIndex: number,
  ) {
    this.config = tracker.config.clone();
    this.progress = new Map(tracker.progress);
  }

  writable(id: bigint): Progress {
    const pr = this.progress.get(id);
    assert(pr !== undefined, `no progress for ${id}`);
    if (this.owned.has(id)) return pr;
    const copy = pr.clone();
    this.progress.set(id, copy);
    this.owned.add(id);
    return copy;
  }

  apply(changes: readonly ConfChangeSingle[]): void {
    for (const cc of changes) {
      // etcd zeroes the node id of a change it decided (above raft) not to apply; such changes are
      // carried through the log and ignored here.
      if (cc.nodeId === 0n) continue;
      switch (cc.type) {
        case ConfChangeType.ConfChangeAddNode:
          this.makeVoter(cc.nodeId);
          break;
        case ConfChangeType.ConfChangeAddLearnerNode:
          this.makeLearner(cc.nodeId);
          break;
        case ConfChangeType.ConfChangeRemoveNode:
          this.remove(cc.nodeId);
          break;
        case ConfChangeType.ConfChangeUpdateNode:
          // Membership is unchanged; the application uses it to pass member metadata through the log.
          // A member's progress is kept as it is; a non-member does not become one.
          break;
        default:
          throw new ConfChangeError(`unexpected conf type ${String(cc.type)}`);
      }
    }
    if (this.config.voters.incoming.size === 0) throw new ConfChangeError('removed all voters');
  }

  /** Adds `id` to the incoming voters, promoting it if it is a learner (or a staged learner). */
  private makeVoter(id: bigint): void {
    const pr = this.progress.get(id);
    if (pr === undefined) {
      this.initProgress(id, false);
      return;
    }
    if (pr.isLearner) this.writable(id).isLearner = false;
    this.config.learners.delete(id);
    this.config.learnersNext.delete(id);
    this.config.voters.incoming.voters.add(id);
  }

  /**
   * Makes `id` a learner, demoting it if it is an incoming voter. A voter of the outgoing half cannot
   * be a learner yet (it still votes for C_old until the joint config is left), so it is staged in
   * learnersNext and turned into a learner by leaveJoint, keeping its progress.
   */
  private makeLearner(id: bigint): void {
    const pr = this.progress.get(id);
    if (pr === undefined) {
      this.initProgress(id, true);
      return;
    }
    if (pr.isLearner) return;
    this.config.voters.incoming.voters.delete(id);
    this.config.learnersNext.delete(id);
    if (this.config.voters.outgoing.voters.has(id)) {
      this.config.learnersNext.add(id);
    } else {
      this.writable(id).isLearner = true;
      this.config.learners.add(id);
    }
  }

  /** Removes `id` from the incoming voters and the learners; an outgoing voter keeps its progress. */
  private remove(id: bigint): void {
    if (!this.progress.has(id)) return;
    this.config.voters.incoming.voters.delete(id);
    this.config.learners.delete(id);
    this.config.learnersNext.delete(id);
    if (!this.config.voters.outgoing.voters.has(id)) {
      this.progress.delete(id);
      this.owned.delete(id);
    }
  }

  private initProgress(id: bigint, isLearner: boolean): void {
    if (isLearner) this.config.learners.add(id);
    else this.config.voters.incoming.voters.add(id);
    // Probing from the last index: the follower most likely has no log and the first rejection brings
    // next down (or leads to a snapshot). Invariant: match (0) < next.
    const pr = new Progress(
      Math.max(this.lastIndex, 1),
      new Inflights(this.tracker.inflightMsgsMax, this.tracker.inflightBytesMax),
      isLearner,
    );
    // A new member counts as recently active: otherwise a leader with check-quorum could step down
    // before the member had a chance to answer (thesis §6.2).
    pr.recentActive = true;
    this.progress.set(id, pr);
    this.owned.add(id);
  }

  finish(): ChangeResult {
    checkInvariants(this.config, this.progress);
    return { config: this.config, progress: this.progress };
  }
}

/** |a \ b| + |b \ a|. */
function symmetricDifference(a: ReadonlySet<bigint>, b: ReadonlySet<bigint>): number {
  let n = 0;
  for (const id of a) if (!b.has(id)) n++;
  for (const id of b) if (!a.has(id)) n++;
  return n;
}
