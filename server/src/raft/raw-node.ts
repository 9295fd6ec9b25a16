import { encodeConfChange, encodeConfChangeV2 } from '../raftpb/codec.js';
import type { ConfChange, ConfChangeV2, ConfState, Entry, HardState, Message } from '../raftpb/types.js';
import {
  confChangeToV2,
  EntryType,
  hardStateEqual,
  isEmptyHardState,
  MessageType,
  newEntry,
  newMessage,
} from '../raftpb/types.js';
import { assert } from '../util/assert.js';
import type { RaftConfig } from './config.js';
import { RaftError } from './errors.js';
import { Raft } from './raft.js';
import type { Ready, SoftState } from './ready.js';
import { getStatus, type Status } from './status.js';

/**
 * The application's handle on one Raft member: a synchronous, single-threaded API (etcd-io/raft's
 * RawNode), the natural fit for Node.js.
 *
 * The loop the application runs:
 *   1. feed inputs: tick() at a fixed interval, step() for every message received, propose()...
 *   2. if hasReady(): rd = ready(); persist rd.snapshot, rd.entries, rd.hardState (fsync if
 *      rd.mustSync); send rd.messages; apply rd.committedEntries in order (applyConfChange() for
 *      conf-change entries); serve rd.readStates once applied; then advance().
 * Between ready() and advance() inputs may still be fed, but ready() is not called again.
 */
export class RawNode {
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  /** The Ready handed out and not yet acknowledged. */
  private outstanding: Ready | undefined;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /** Advances the logical clock by one tick (heartbeat interval). */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (as a follower or candidate), e.g. to bootstrap a test cluster. */
  campaign(): void {
    this.raft.step(newMessage({ type: MessageType.MsgHup }));
  }

  /**
   * Proposes data to be appended to the log. Throws RaftError ErrProposalDropped when it cannot be
   * accepted now (no leader, forwarding disabled, a leader transfer in progress, too many uncommitted
   * bytes): the caller may retry. Acceptance is not commitment: watch the committed entries.
   */
  propose(data: Uint8Array): void {
    this.raft.step(
      newMessage({ type: MessageType.MsgProp, from: this.raft.id, entries: [newEntry({ data })] }),
    );
  }

  /**
   * Proposes a configuration change. A v1 ConfChange is proposed as such; a ConfChangeV2 as v2. Only
   * one change is in flight at a time: the leader turns a second one into a no-op entry until the
   * first is applied.
   */
  proposeConfChange(cc: ConfChange | ConfChangeV2): void {
    const entry = isV2(cc)
      ? newEntry({ type: EntryType.EntryConfChangeV2, data: encodeConfChangeV2(cc) })
      : newEntry({ type: EntryType.EntryConfChange, data: encodeConfChange(cc) });
    this.raft.step(newMessage({ type: MessageType.MsgProp, entries: [entry] }));
  }

  /**
   * Applies a committed conf change to the active configuration; call it when the conf-change entry
   * is applied. Returns the new ConfState to store with snapshots.
   */
  applyConfChange(cc: ConfChange | ConfChangeV2): ConfState {
    return this.raft.applyConfChange(isV2(cc) ? cc : confChangeToV2(cc));
  }

  /**
   * Steps a message received from a peer. Local message types are refused (they must not come from
   * the network), as are responses from members not in the configuration.
   */
  step(m: Message): void {
    if (isLocalMessage(m.type)) throw new RaftError('ErrStepLocalMsg');
    if (isResponseMessage(m.type) && !this.raft.trk.progress.has(m.from)) {
      throw new RaftError('ErrStepPeerNotFound');
    }
    this.raft.step(m);
  }

  /**
   * Requests a linearizable read point. The answer arrives as a ReadState with the same requestCtx
   * (which should be unique); it may never arrive (lost leadership), so callers time out.
   */
  readIndex(requestCtx: Uint8Array): void {
    this.raft.step(newMessage({ type: MessageType.MsgReadIndex, entries: [newEntry({ data: requestCtx })] }));
  }

  /** Asks the leader to hand leadership to `to` (MsgTimeoutNow once `to` is caught up). */
  transferLeader(to: bigint): void {
    this.raft.step(newMessage({ type: MessageType.MsgTransferLeader, from: to }));
  }

  /** The transport failed to deliver to `id`: a pipelined follower goes back to probing. */
  reportUnreachable(id: bigint): void {
    this.raft.step(newMessage({ type: MessageType.MsgUnreachable, from: id }));
  }

  /** The outcome of sending a snapshot to `id`; either way the follower returns to probing. */
  reportSnapshot(id: bigint, ok: boolean): void {
    this.raft.step(newMessage({ type: MessageType.MsgSnapStatus, from: id, reject: !ok }));
  }

  hasReady(): boolean {
    if (this.outstanding !== undefined) return false;
    const r = this.raft;
    if (!softStateEqual(r.softState(), this.prevSoftState)) return true;
    const hs = r.hardState();
    if (!isEmptyHardState(hs) && !hardStateEqual(hs, this.prevHardState)) return true;
    if (r.raftLog.hasPendingSnapshot()) return true;
    if (r.msgs.length > 0 || r.readStates.length > 0) return true;
    if (r.raftLog.unstable.entries.length > 0) return true;
    return r.raftLog.hasNextCommittedEntries();
  }

  /** The work to do now. Must be acknowledged with advance() before ready() is called again. */
  ready(): Ready {
    assert(this.outstanding === undefined, 'ready() called again before advance()');
    const r = this.raft;
    const softState = r.softState();
    const hardState = r.hardState();
    const entries = r.raftLog.unstableEntries();
    const rd: Ready = {
      softState: softStateEqual(softState, this.prevSoftState) ? undefined : softState,
      snapshot: r.raftLog.unstable.snapshot,
      entries,
      hardState: hardStateEqual(hardState, this.prevHardState) ? undefined : hardState,
      mustSync: false,
      messages: r.msgs,
      committedEntries: r.raftLog.nextCommittedEntries(),
      readStates: r.readStates,
    };
    // A snapshot, entries, term and vote must survive a crash before any message relying on them
    // leaves; a commit index alone can be relearned from the leader.
    rd.mustSync =
      rd.snapshot !== undefined ||
      entries.length > 0 ||
      hardState.term !== this.prevHardState.term ||
      hardState.vote !== this.prevHardState.vote;
    if (rd.softState !== undefined) this.prevSoftState = rd.softState;
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1];
    if (lastCommitted !== undefined) r.raftLog.acceptApplying(lastCommitted.index);
    r.msgs = [];
    r.readStates = [];
    this.outstanding = rd;
    return rd;
  }

  /** Acknowledges the last Ready: its state is persisted, its messages sent, its entries applied. */
  advance(): void {
    const rd = this.outstanding;
    assert(rd !== undefined, 'advance() without an outstanding Ready');
    this.outstanding = undefined;
    if (rd.hardState !== undefined) this.prevHardState = rd.hardState;
    const r = this.raft;
    r.advanceApplied(
      appliedCursor(rd.committedEntries, rd.snapshot?.metadata.index ?? 0),
      rd.committedEntries,
    );
    const last = rd.entries[rd.entries.length - 1];
    if (last !== undefined) r.raftLog.stableTo(last.index, last.term);
    if (rd.snapshot !== undefined) r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
  }

  status(): Status {
    return getStatus(this.raft);
  }
}

function appliedCursor(committed: Entry[], snapshotIndex: number): number {
  const last = committed[committed.length - 1];
  if (last !== undefined) return last.index;
  return snapshotIndex;
}

function isV2(cc: ConfChange | ConfChangeV2): cc is ConfChangeV2 {
  return 'transition' in cc;
}

function softStateEqual(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.raftState === b.raftState;
}

/** Messages the core generates for itself; they never travel between members. */
export function isLocalMessage(t: MessageType): boolean {
  return (
    t === MessageType.MsgHup ||
    t === MessageType.MsgBeat ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgSnapStatus ||
    t === MessageType.MsgCheckQuorum
  );
}

export function isResponseMessage(t: MessageType): boolean {
  return (
    t === MessageType.MsgAppResp ||
    t === MessageType.MsgVoteResp ||
    t === MessageType.MsgHeartbeatResp ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgPreVoteResp
  );
}
