import type { Ready } from '../../server/src/raft/ready.js';
import type { Prng } from '../../server/src/raft/rng.js';
import { emptyConfState, isEmptySnapshot, type ConfState } from '../../server/src/raftpb/types.js';
import { assert } from '../../server/src/util/assert.js';
import { AppState } from './app-state.js';
import { newNode, newStorage, type MemoryStorage, type SimNode } from './core.js';
import type { SimDisk } from './disk.js';
import type { SimOptions } from './options.js';

/**
 * One simulated cluster member: the durable disk that survives crashes, and while it is up, the RawNode,
 * the in-memory Storage the core reads and the state machine.
 *
 * Lifecycle: start() → (crash() → start())* → remove(). A crash loses everything but `disk` (minus its
 * pending write); start() rebuilds the Storage from the disk and the state machine from the snapshot,
 * and the core hands out the committed entries after the snapshot again.
 */
export class Member {
  node: SimNode | undefined;
  storage: MemoryStorage = newStorage();
  app: AppState = new AppState(emptyConfState());
  /** Bumped by every crash, so events scheduled for an earlier life (ticks, fsyncs) are ignored. */
  incarnation = 0;
  /** The Ready being persisted (between ready() and its fsync + advance()). */
  inFlight: Ready | undefined;
  /** Out of the cluster for good (its removal was committed). */
  removed = false;
  /** The highest index whose committed entry this member's persisted commit index was checked for. */
  commitChecked = 0;
  /** Paused (GC pause, SIGSTOP) until this time: its events wait. Memory and disk are untouched. */
  pausedUntil = 0;
  /** The disk as it was when the member last started (the buggy-disk mutation rolls back to it). */
  private diskAtStart: SimDisk | undefined;

  constructor(
    readonly id: bigint,
    public disk: SimDisk,
    readonly rng: Prng,
    /** This member's clock: time between its ticks (skewed per member). */
    readonly tickIntervalTime: number,
  ) {}

  get up(): boolean {
    return this.node !== undefined;
  }

  get name(): string {
    return `n${this.id}`;
  }

  start(o: SimOptions): void {
    assert(this.node === undefined && !this.removed, `${this.name}: start while up or removed`);
    if (o.mutation === 'disk-forgets-on-restart' && this.diskAtStart !== undefined) {
      this.disk = this.diskAtStart;
    }
    if (o.mutation === 'disk-corrupts-entry') this.corruptLastCommitted();
    this.diskAtStart = this.disk.copy();
    const d = this.disk;
    this.storage = newStorage();
    if (!isEmptySnapshot(d.snapshot)) {
      this.storage.applySnapshot(d.snapshot);
      this.app = AppState.decode(d.snapshot.data, d.snapshot.metadata.confState);
      assert(
        this.app.appliedIndex === d.snapshot.metadata.index,
        `${this.name}: snapshot data index mismatch`,
      );
    } else {
      this.app = new AppState(emptyConfState());
    }
    this.storage.setHardState(d.hardState);
    this.storage.append(d.entries.filter((e) => e.index > d.snapshot.metadata.index));
    this.commitChecked = Math.max(this.commitChecked, d.snapshot.metadata.index);
    this.node = newNode({
      id: this.id,
      electionTicks: o.electionTicks,
      heartbeatTicks: o.heartbeatTicks,
      storage: this.storage,
      applied: this.app.appliedIndex,
      maxSizePerMsgBytes: o.maxSizePerMsgBytes,
      maxInflightMsgs: o.maxInflightMsgs,
      maxUncommittedEntriesBytes: o.maxUncommittedEntriesBytes,
      maxInflightBytes: o.maxInflightBytes,
      maxCommittedSizePerReadyBytes: o.maxCommittedSizePerReadyBytes,
      disableProposalForwarding: o.disableProposalForwarding,
      checkQuorum: o.checkQuorum,
      preVote: o.preVote,
      rng: this.rng,
    });
  }

  /** The `disk-corrupts-entry` mutation (options.ts). */
  private corruptLastCommitted(): void {
    const d = this.disk;
    const i = d.hardState.commit;
    const e = d.entryAt(i);
    if (e === undefined || i <= d.snapshot.metadata.index) return;
    const data = new Uint8Array(e.data.length + 1);
    data.set(e.data);
    data[e.data.length] = 0x21;
    d.entries[i - d.firstIndex] = { ...e, data };
  }

  crash(): void {
    this.node = undefined;
    this.inFlight = undefined;
    this.disk.crash();
    this.incarnation++;
  }

  remove(): void {
    if (this.up) this.crash();
    this.removed = true;
  }

  /**
   * Takes a snapshot of the state machine once enough entries were applied since the last one, or once
   * the configuration changed since it, and compacts the log, keeping `compactKeepEntries` behind for
   * slow followers. Returns the snapshot index or 0 when none was taken.
   *
   * Why after a conf change: a member added later starts empty and needs a snapshot once the leader's
   * log no longer starts at 1; a member refuses a snapshot whose ConfState does not contain it (etcd-io
   * raft's restore(), "should never happen"; etcd-io/etcd#13741), so the leader would resend the stale
   * one until the next periodic snapshot.
   */
  maybeSnapshot(o: SimOptions): number {
    const applied = this.app.appliedIndex;
    const since = applied - this.disk.snapshot.metadata.index;
    const confChanged = !sameConfState(this.app.confState, this.disk.snapshot.metadata.confState);
    if (since <= 0 || (since < o.snapshotEveryEntries && !confChanged)) return 0;
    if (applied <= this.storage.snapshot().metadata.index || applied > this.storage.lastIndex()) return 0;
    const snap = this.storage.createSnapshot(applied, this.app.confState, this.app.encode());
    this.disk.saveSnapshot(snap);
    const compactIndex = applied - o.compactKeepEntries;
    if (compactIndex >= this.storage.firstIndex()) {
      this.storage.compact(compactIndex);
      this.disk.compact(compactIndex);
    }
    return applied;
  }
}

function sameConfState(a: ConfState, b: ConfState): boolean {
  const eq = (x: bigint[], y: bigint[]): boolean => x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    eq(a.voters, b.voters) &&
    eq(a.learners, b.learners) &&
    eq(a.votersOutgoing, b.votersOutgoing) &&
    eq(a.learnersNext, b.learnersNext) &&
    a.autoLeave === b.autoLeave
  );
}
