import type { ConfChangeV2, ConfState, Entry, HardState, Message, Snapshot } from '../raftpb/types.js';
import {
  entersJoint,
  EntryType,
  isEmptyHardState,
  isEmptySnapshot,
  leavesJoint,
  MessageType,
  newEntry,
  newMessage,
  NONE,
} from '../raftpb/types.js';
import { assert } from '../util/assert.js';
import { type RaftConfig, type ValidatedConfig, validateConfig } from './config.js';
import { Changer } from './confchange/changer.js';
import { restore as restoreConfig } from './confchange/restore.js';
import { isRaftError, RaftError } from './errors.js';
import { RaftLog } from './log.js';
import { discardLogger, type Logger } from './logger.js';
import { compareIds } from './quorum/majority.js';
import { VoteResult } from './quorum/quorum.js';
import { bytesEqual, hex, payloadSize, voteRespMsgType } from './raft-util.js';
import { ReadOnly, requestContext } from './read-only.js';
import { type ReadState, type SoftState, StateType } from './ready.js';
import type { Rng } from './rng.js';
import { stepCandidate } from './step-candidate.js';
import { stepFollower } from './step-follower.js';
import { stepLeader } from './step-leader.js';
import { Inflights } from './tracker/inflights.js';
import { Progress } from './tracker/progress.js';
import { ProgressState } from './tracker/state.js';
import { ProgressTracker, type TrackerConfig } from './tracker/tracker.js';

/** Why an election is started: each kind sends a different vote message. */
type CampaignType = 'pre-election' | 'election' | 'transfer';

/** Marks the vote requests of a leader transfer so they may disrupt a live leader's lease (thesis §3.10). */
const CAMPAIGN_TRANSFER = new TextEncoder().encode('CampaignTransfer');

type StepFn = (r: Raft, m: Message) => void;

/**
 * The Raft protocol for one member: a deterministic state machine with no I/O (the design of
 * etcd-io/raft). Inputs arrive through step() and tick(); outputs accumulate in `msgs`, `readStates`
 * and the log's unstable tail and are handed to the application by RawNode's Ready.
 *
 * Role-dependent behaviour lives in the step functions stepLeader / stepCandidate / stepFollower;
 * step() first applies the term rules every role shares (Raft §5.1).
 */
export class Raft {
  readonly id: bigint;
  term = 0;
  vote: bigint = NONE;
  readStates: ReadState[] = [];
  readonly raftLog: RaftLog;
  readonly trk: ProgressTracker;
  /**
   * The members' ids in ascending order, for broadcasts (deterministic order, no sort per proposal).
   * Invariant: equals trk.ids(); the key set only changes in switchToConfig (reset keeps the keys).
   */
  private memberIds: bigint[] = [];
  state = StateType.StateFollower;
  /** Whether this node is a learner in the active config; learners never campaign or vote-count. */
  isLearner = false;
  /** Messages to send, handed out in the next Ready. */
  msgs: Message[] = [];
  lead: bigint = NONE;
  /** The member a leadership transfer is going to, or NONE. */
  leadTransferee: bigint = NONE;
  /**
   * The index of the last conf change proposed by this leader (or the last index at election, in
   * case an unapplied one is in the log). A new conf change is refused while applied < this, so at most
   * one change is ever in flight (thesis §4.1).
   */
  pendingConfIndex = 0;
  /** Payload bytes of the leader's uncommitted tail (bounded by maxUncommittedEntriesBytes). */
  uncommittedSize = 0;
  readOnly = new ReadOnly();
  /**
   * Ticks since the last election timeout reset. Leader/candidate: since it became one. Follower:
   * since it last heard from a valid leader.
   */
  electionElapsed = 0;
  /** Leader only: ticks since the last heartbeat broadcast. */
  heartbeatElapsed = 0;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  /** Drawn from [electionTimeout, 2*electionTimeout) on every reset (thesis §3.4). */
  randomizedElectionTimeout = 0;
  readonly disableProposalForwarding: boolean;
  private readonly maxMsgSize: number;
  private readonly maxUncommittedSize: number;
  private readonly rng: Rng;
  readonly logger: Logger;
  private tickFn: () => void = () => this.tickElection();
  private stepFn: StepFn = stepFollower;
  /** ReadIndex requests received before this leader committed an entry of its term (thesis §6.4). */
  private pendingReadIndexMessages: Message[] = [];

  constructor(config: RaftConfig) {
    const c: ValidatedConfig = validateConfig(config);
    this.id = c.id;
    this.logger = c.logger ?? discardLogger;
    this.raftLog = new RaftLog(c.storage, c.maxCommittedSizePerReadyBytes, this.logger);
    const { hardState, confState } = c.storage.initialState();
    this.maxMsgSize = c.maxSizePerMsgBytes;
    this.maxUncommittedSize = c.maxUncommittedEntriesBytes;
    this.trk = new ProgressTracker(c.maxInflightMsgs, c.maxInflightBytes);
    this.electionTimeout = c.electionTicks;
    this.heartbeatTimeout = c.heartbeatTicks;
    this.checkQuorum = c.checkQuorum;
    this.preVote = c.preVote;
    this.disableProposalForwarding = c.disableProposalForwarding;
    this.rng = c.rng;

    const restored = restoreConfig(this.trk, this.raftLog.lastIndex(), confState);
    const cs = this.switchToConfig(restored.config, restored.progress);
    assertConfStatesEquivalent(confState, cs);

    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (c.applied > this.raftLog.committed) {
      // Only committed entries are ever applied, so an applied index above the saved commit index
      // means the commit index was not synced (a Ready that only moves it has mustSync false) while
      // the state machine was. The entries must still be in the log.
      this.raftLog.commitTo(c.applied);
    }
    if (c.applied > 0) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, NONE);

    this.logger.info(
      `newRaft ${hex(this.id)} [peers: [${this.trk.voterIds().map(hex).join(',')}], term: ${this.term}, commit: ${this.raftLog.committed}, applied: ${this.raftLog.applied}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}]`,
    );
  }

  softState(): SoftState {
    return { lead: this.lead, raftState: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  /**
   * Queues a message. It is sent only after the Ready carrying it has been persisted (ready.ts), so
   * a vote or an acknowledgement is never sent for state that could still be lost.
   */
  send(m: Message): void {
    if (m.from === NONE) m.from = this.id;
    if (
      m.type === MessageType.MsgVote ||
      m.type === MessageType.MsgVoteResp ||
      m.type === MessageType.MsgPreVote ||
      m.type === MessageType.MsgPreVoteResp
    ) {
      // Vote messages carry the term they are about, which for pre-votes is not our own.
      assert(m.term !== 0, `term should be set when sending ${MessageType[m.type]}`);
    } else {
      assert(m.term === 0, `term should not be set when sending ${MessageType[m.type]} (was ${m.term})`);
      // Proposals and read requests forwarded to the leader are handled as local messages there,
      // so they carry no term.
      if (m.type !== MessageType.MsgProp && m.type !== MessageType.MsgReadIndex) m.term = this.term;
    }
    this.msgs.push(m);
  }

  sendAppend(to: bigint): void {
    this.maybeSendAppend(to, true);
  }

  /**
   * Sends an append (or a snapshot when the needed entries are compacted) to `to`, unless its
   * progress is paused or there is nothing to send and `sendIfEmpty` is false. Returns whether a
   * message was sent.
   */
  maybeSendAppend(to: bigint, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to);
    if (pr === undefined || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.raftLog.term(prevIndex);
    let ents: Entry[] | undefined;
    try {
      ents = this.raftLog.entries(pr.next, this.maxMsgSize);
    } catch (e) {
      if (!isRaftError(e, 'ErrCompacted')) throw e;
      ents = undefined;
    }
    if (ents !== undefined && ents.length === 0 && !sendIfEmpty) return false;
    if (prevTerm === undefined || ents === undefined) return this.maybeSendSnapshot(to, pr);

    const m = newMessage({
      type: MessageType.MsgApp,
      to,
      index: prevIndex,
      logTerm: prevTerm,
      entries: ents,
      commit: this.raftLog.committed,
    });
    const last = ents[ents.length - 1];
    if (last !== undefined) {
      assert(
        pr.state !== ProgressState.Snapshot,
        `${hex(this.id)} is sending append in unhandled state ${pr.state}`,
      );
      pr.sentEntries(last.index, payloadSize(ents));
    }
    this.send(m);
    return true;
  }

  /** The follower needs entries we compacted: send the snapshot instead (thesis §5.1, Raft §7). */
  private maybeSendSnapshot(to: bigint, pr: Progress): boolean {
    if (!pr.recentActive) {
      this.logger.info(`ignore sending snapshot to ${hex(to)} since it is not recently active`);
      return false;
    }
    let snapshot: Snapshot;
    try {
      snapshot = this.raftLog.snapshot();
    } catch (e) {
      if (isRaftError(e, 'ErrSnapshotTemporarilyUnavailable')) {
        this.logger.info(
          `${hex(this.id)} failed to send snapshot to ${hex(to)} because snapshot is temporarily unavailable`,
        );
        return false;
      }
      throw e;
    }
    assert(!isEmptySnapshot(snapshot), 'need non-empty snapshot');
    const { index, term } = snapshot.metadata;
    this.logger.info(
      `${hex(this.id)} [firstindex: ${this.raftLog.firstIndex()}, commit: ${this.raftLog.committed}] sent snapshot[index: ${index}, term: ${term}] to ${hex(to)} [${pr.toString()}]`,
    );
    pr.becomeSnapshot(index);
    this.logger.info(`${hex(this.id)} paused sending replication messages to ${hex(to)} [${pr.toString()}]`);
    this.send(newMessage({ type: MessageType.MsgSnap, to, snapshot }));
    return true;
  }

  /** A heartbeat carries the commit index only up to what the follower is known to have. */
  private sendHeartbeat(to: bigint, context: Uint8Array | undefined): void {
    const pr = this.trk.progress.get(to);
    const commit = Math.min(pr?.match ?? 0, this.raftLog.committed);
    const m = newMessage({ type: MessageType.MsgHeartbeat, to, commit });
    if (context !== undefined) m.context = context;
    this.send(m);
  }

  bcastAppend(): void {
    for (const id of this.memberIds) {
      if (id !== this.id) this.sendAppend(id);
    }
  }

  bcastHeartbeat(): void {
    this.bcastHeartbeatWithContext(this.readOnly.lastPendingRequestContext());
  }

  private bcastHeartbeatWithContext(context: Uint8Array | undefined): void {
    for (const id of this.memberIds) {
      if (id !== this.id) this.sendHeartbeat(id, context);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Committing and appending

  /** Advances the commit index to what a quorum has acknowledged, if it is of the current term. */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.trk.committed(), this.term);
  }

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const lastIndex = this.raftLog.lastIndex();
    const fresh = new Map<bigint, Progress>();
    for (const [id, old] of this.trk.progress) {
      const pr = new Progress(
        lastIndex + 1,
        new Inflights(this.trk.inflightMsgsMax, this.trk.inflightBytesMax),
        old.isLearner,
      );
      if (id === this.id) pr.match = lastIndex;
      fresh.set(id, pr);
    }
    this.trk.progress = fresh;
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly();
    // Reads held by a leader are dropped with its leadership; their callers time out and retry.
    this.pendingReadIndexMessages = [];
  }

  /**
   * Appends entries proposed to this leader, stamped with its term. Returns false (and appends
   * nothing) when they would exceed the uncommitted-bytes limit.
   */
  appendEntry(es: Entry[]): boolean {
    let li = this.raftLog.lastIndex();
    for (const e of es) {
      li++;
      e.term = this.term;
      e.index = li;
    }
    if (!this.increaseUncommittedSize(es)) {
      this.logger.warn(
        `${hex(this.id)} appending new entries to log would exceed uncommitted entry size limit; dropping proposal`,
      );
      return false;
    }
    li = this.raftLog.append(es);
    // The leader's own log counts towards the quorum as soon as the entries are in its log: they are
    // persisted before any message that could make them committed elsewhere is sent (ready.ts).
    this.trk.progress.get(this.id)?.maybeUpdate(li);
    this.maybeCommit();
    return true;
  }

  private increaseUncommittedSize(ents: Entry[]): boolean {
    const s = payloadSize(ents);
    // An empty tail always accepts one proposal, however large, so that progress is possible.
    if (this.uncommittedSize > 0 && s > 0 && this.uncommittedSize + s > this.maxUncommittedSize) return false;
    this.uncommittedSize += s;
    return true;
  }

  reduceUncommittedSize(ents: Entry[]): void {
    if (this.uncommittedSize === 0) return;
    const s = payloadSize(ents);
    // The tail may have been reset by an election since the entries were proposed.
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s;
  }

  // ---------------------------------------------------------------------------------------------
  // Ticks

  tick(): void {
    this.tickFn();
  }

  /** Followers and candidates: campaign when no leader was heard from for a randomized timeout. */
  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.stepLocal(newMessage({ type: MessageType.MsgHup, from: this.id }));
    }
  }

  /** Leaders: heartbeats every heartbeatTimeout; check-quorum and transfer timeout every election timeout. */
  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.stepLocal(newMessage({ type: MessageType.MsgCheckQuorum, from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
      if (this.state === StateType.StateLeader && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.state !== StateType.StateLeader) return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.stepLocal(newMessage({ type: MessageType.MsgBeat, from: this.id }));
    }
  }

  /** Steps a message generated by a tick; a dropped result there is not the caller's problem. */
  private stepLocal(m: Message): void {
    try {
      this.step(m);
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
      this.logger.info(`error occurred during ${MessageType[m.type]}: ${e.message}`);
    }
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.rng.intn(this.electionTimeout);
  }

  // ---------------------------------------------------------------------------------------------
  // Role transitions

  becomeFollower(term: number, lead: bigint): void {
    this.stepFn = stepFollower;
    this.reset(term);
    this.tickFn = () => this.tickElection();
    this.lead = lead;
    this.state = StateType.StateFollower;
    this.logger.info(`${hex(this.id)} became follower at term ${this.term}`);
  }

  becomeCandidate(): void {
    assert(this.state !== StateType.StateLeader, 'invalid transition [leader -> candidate]');
    this.stepFn = stepCandidate;
    this.reset(this.term + 1);
    this.tickFn = () => this.tickElection();
    this.vote = this.id;
    this.state = StateType.StateCandidate;
    this.logger.info(`${hex(this.id)} became candidate at term ${this.term}`);
  }

  /**
   * A pre-candidate asks for votes for term+1 without incrementing its own term, so a member that was
   * partitioned away cannot force the cluster into a new term on its return (thesis §9.6).
   */
  becomePreCandidate(): void {
    assert(this.state !== StateType.StateLeader, 'invalid transition [leader -> pre-candidate]');
    this.stepFn = stepCandidate;
    this.trk.resetVotes();
    this.tickFn = () => this.tickElection();
    this.lead = NONE;
    this.state = StateType.StatePreCandidate;
    this.logger.info(`${hex(this.id)} became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    assert(this.state !== StateType.StateFollower, 'invalid transition [follower -> leader]');
    this.stepFn = stepLeader;
    this.reset(this.term);
    this.tickFn = () => this.tickHeartbeat();
    this.lead = this.id;
    this.state = StateType.StateLeader;
    // The leader's own progress is trivially in Replicate state and active.
    const self = this.trk.progress.get(this.id);
    if (self !== undefined) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // There may be an unapplied conf change in the log; refuse new ones until everything up to here
    // is applied.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // An empty entry of the new term: committing it commits every earlier entry (Raft §5.4.2, thesis
    // §6.4 — also what lets ReadIndex start serving). Its payload is empty, so the limit cannot refuse it.
    const appended = this.appendEntry([newEntry({})]);
    assert(appended, 'empty entry was dropped');
    this.logger.info(`${hex(this.id)} became leader at term ${this.term}`);
  }

  /** Starts an election if this node may (it is a voter and has no unapplied conf change). */
  hup(t: CampaignType): void {
    if (this.state === StateType.StateLeader) {
      this.logger.info(`${hex(this.id)} ignoring MsgHup because already leader`);
      return;
    }
    if (!this.promotable()) {
      this.logger.warn(`${hex(this.id)} is unpromotable and can not campaign`);
      return;
    }
    if (this.hasUnappliedConfChanges()) {
      this.logger.warn(
        `${hex(this.id)} cannot campaign at term ${this.term} since there are still pending configuration changes to apply`,
      );
      return;
    }
    this.logger.info(`${hex(this.id)} is starting a new election at term ${this.term}`);
    this.campaign(t);
  }

  /**
   * A node whose committed-but-unapplied log holds a conf change must not campaign: as leader it
   * would act on a configuration it has not applied yet.
   */
  private hasUnappliedConfChanges(): boolean {
    if (this.raftLog.applied >= this.raftLog.committed) return false;
    let lo = this.raftLog.applied + 1;
    const hi = this.raftLog.committed + 1;
    // Scan in bounded pages so a long unapplied tail does not load all at once.
    while (lo < hi) {
      let page: Entry[];
      try {
        page = this.raftLog.slice(lo, hi, this.maxMsgSize);
      } catch (e) {
        if (isRaftError(e, 'ErrCompacted')) return false;
        throw e;
      }
      for (const e of page) {
        if (e.type !== EntryType.EntryNormal) return true;
      }
      const last = page[page.length - 1];
      assert(last !== undefined, 'slice returned no entries for a non-empty range');
      lo = last.index + 1;
    }
    return false;
  }

  campaign(t: CampaignType): void {
    let voteMsg: MessageType;
    let term: number;
    if (t === 'pre-election') {
      this.becomePreCandidate();
      voteMsg = MessageType.MsgPreVote;
      // Pre-votes are for the term we would have, without bumping ours.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteMsg = MessageType.MsgVote;
      term = this.term;
    }
    const respType = voteRespMsgType(voteMsg);
    if (this.poll(this.id, respType, true) === VoteResult.VoteWon) {
      // Our own vote was enough: a single-voter cluster.
      if (t === 'pre-election') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of this.trk.voterIds()) {
      if (id === this.id) continue;
      this.logger.info(
        `${hex(this.id)} [logterm: ${lastTerm}, index: ${lastIndex}] sent ${MessageType[voteMsg]} request to ${hex(id)} at term ${this.term}`,
      );
      const m = newMessage({ type: voteMsg, to: id, term, index: lastIndex, logTerm: lastTerm });
      if (t === 'transfer') m.context = CAMPAIGN_TRANSFER;
      this.send(m);
    }
  }

  poll(id: bigint, t: MessageType, granted: boolean): VoteResult {
    if (granted) {
      this.logger.info(`${hex(this.id)} received ${MessageType[t]} from ${hex(id)} at term ${this.term}`);
    } else {
      this.logger.info(
        `${hex(this.id)} received ${MessageType[t]} rejection from ${hex(id)} at term ${this.term}`,
      );
    }
    this.trk.recordVote(id, granted);
    const tally = this.trk.tallyVotes();
    this.logger.info(
      `${hex(this.id)} has received ${tally.granted} ${MessageType[t]} votes and ${tally.rejected} vote rejections`,
    );
    return tally.result;
  }

  // ---------------------------------------------------------------------------------------------
  // Step: the rules every role shares

  step(m: Message): void {
    if (m.term === 0) {
      // A local message (or a forwarded proposal / read request).
    } else if (m.term > this.term) {
      if (m.type === MessageType.MsgVote || m.type === MessageType.MsgPreVote) {
        const force = bytesEqual(m.context, CAMPAIGN_TRANSFER);
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        if (!force && inLease) {
          // With check-quorum, a member that heard from a leader within the minimum election timeout
          // ignores vote requests: the leader is very likely alive, and this keeps a removed or
          // partitioned member from disrupting it (thesis §4.2.3).
          this.logger.info(
            `${hex(this.id)} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${hex(this.vote)}] ignored ${MessageType[m.type]} from ${hex(m.from)} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}: lease is not expired (remaining ticks: ${this.electionTimeout - this.electionElapsed})`,
          );
          return;
        }
      }
      if (m.type === MessageType.MsgPreVote) {
        // Never change our term in response to a pre-vote.
      } else if (m.type === MessageType.MsgPreVoteResp && !m.reject) {
        // A granted pre-vote carries the term we asked about; the term changes only when we win.
      } else {
        this.logger.info(
          `${hex(this.id)} [term: ${this.term}] received a ${MessageType[m.type]} message with higher term from ${hex(m.from)} [term: ${m.term}]`,
        );
        const fromLeader =
          m.type === MessageType.MsgApp ||
          m.type === MessageType.MsgHeartbeat ||
          m.type === MessageType.MsgSnap;
        this.becomeFollower(m.term, fromLeader ? m.from : NONE);
      }
    } else if (m.term < this.term) {
      if (
        (this.checkQuorum || this.preVote) &&
        (m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgApp)
      ) {
        // A leader of an older term, cut off and now back: without an answer it would never learn of
        // the newer term, because with check-quorum/pre-vote nobody campaigns against it. The response
        // carries our term and makes it step down.
        this.send(newMessage({ type: MessageType.MsgAppResp, to: m.from }));
      } else if (m.type === MessageType.MsgPreVote) {
        // Reject a stale pre-vote explicitly, or the pre-candidate would wait out its timeout.
        this.logger.info(
          `${hex(this.id)} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${hex(this.vote)}] rejected ${MessageType[m.type]} from ${hex(m.from)} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
        );
        this.send(
          newMessage({ type: MessageType.MsgPreVoteResp, to: m.from, term: this.term, reject: true }),
        );
      } else {
        this.logger.info(
          `${hex(this.id)} [term: ${this.term}] ignored a ${MessageType[m.type]} message with lower term from ${hex(m.from)} [term: ${m.term}]`,
        );
      }
      return;
    }

    switch (m.type) {
      case MessageType.MsgHup:
        this.hup(this.preVote ? 'pre-election' : 'election');
        return;
      case MessageType.MsgVote:
      case MessageType.MsgPreVote:
        this.handleVoteRequest(m);
        return;
      default:
        this.stepFn(this, m);
    }
  }

  /** Grants a (pre-)vote to an up-to-date candidate we have not voted against this term (Raft §5.2, §5.4.1). */
  private handleVoteRequest(m: Message): void {
    const canVote =
      // A repeated request from the one we voted for.
      this.vote === m.from ||
      // We have not voted and know no leader this term.
      (this.vote === NONE && this.lead === NONE) ||
      // A pre-vote for a future term.
      (m.type === MessageType.MsgPreVote && m.term > this.term);
    const respType = voteRespMsgType(m.type);
    const describe = `${hex(this.id)} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${hex(this.vote)}]`;
    if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
      this.logger.info(
        `${describe} cast ${MessageType[m.type]} for ${hex(m.from)} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
      );
      // The response carries the term of the request, not ours: for a pre-vote ours is older, and the
      // pre-candidate would ignore an answer of a lower term.
      this.send(newMessage({ type: respType, to: m.from, term: m.term }));
      if (m.type === MessageType.MsgVote) {
        // Only a real vote is remembered; granting it resets the election timer.
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.logger.info(
        `${describe} rejected ${MessageType[m.type]} from ${hex(m.from)} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
      );
      this.send(newMessage({ type: respType, to: m.from, term: this.term, reject: true }));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Follower handlers

  handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      // Everything up to our commit index is already settled: tell the leader where we are.
      this.send(newMessage({ type: MessageType.MsgAppResp, to: m.from, index: this.raftLog.committed }));
      return;
    }
    const lastNewIndex = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNewIndex !== undefined) {
      this.send(newMessage({ type: MessageType.MsgAppResp, to: m.from, index: lastNewIndex }));
      return;
    }
    this.logger.info(
      `${hex(this.id)} [logterm: ${this.raftLog.term(m.index) ?? 0}, index: ${m.index}] rejected MsgApp [logterm: ${m.logTerm}, index: ${m.index}] from ${hex(m.from)}`,
    );
    // Hint the leader at the last index that can still match, skipping whole terms of our log that
    // cannot (fast backtracking).
    const hint = this.raftLog.findConflictByTerm(Math.min(m.index, this.raftLog.lastIndex()), m.logTerm);
    this.send(
      newMessage({
        type: MessageType.MsgAppResp,
        to: m.from,
        index: m.index,
        reject: true,
        rejectHint: hint.index,
        logTerm: hint.term,
      }),
    );
  }

  handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit);
    this.send(newMessage({ type: MessageType.MsgHeartbeatResp, to: m.from, context: m.context }));
  }

  handleSnapshot(m: Message): void {
    const s = m.snapshot;
    if (s === undefined || isEmptySnapshot(s)) {
      this.logger.warn(`${hex(this.id)} ignored MsgSnap from ${hex(m.from)} without a snapshot`);
      return;
    }
    const { index, term } = s.metadata;
    if (this.restore(s)) {
      this.logger.info(
        `${hex(this.id)} [commit: ${this.raftLog.committed}] restored snapshot [index: ${index}, term: ${term}]`,
      );
      this.send(newMessage({ type: MessageType.MsgAppResp, to: m.from, index: this.raftLog.lastIndex() }));
    } else {
      this.logger.info(
        `${hex(this.id)} [commit: ${this.raftLog.committed}] ignored snapshot [index: ${index}, term: ${term}]`,
      );
      this.send(newMessage({ type: MessageType.MsgAppResp, to: m.from, index: this.raftLog.committed }));
    }
  }

  /** Installs a snapshot from the leader; returns false when it is not needed or not for us. */
  restore(s: Snapshot): boolean {
    const { index, term, confState } = s.metadata;
    if (index <= this.raftLog.committed) return false;
    if (this.state !== StateType.StateFollower) {
      // Defense in depth: only a follower installs snapshots. Step down into the next term to make
      // sure this cannot happen again with the same leader.
      this.logger.warn(`${hex(this.id)} attempted to restore snapshot as leader; should never happen`);
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    // Defense in depth: a snapshot whose configuration does not include us is not for us.
    const members = [...confState.voters, ...confState.learners, ...confState.votersOutgoing];
    if (!members.includes(this.id)) {
      this.logger.warn(
        `${hex(this.id)} attempted to restore snapshot but it is not in the ConfState; should never happen`,
      );
      return false;
    }
    if (this.raftLog.applying > this.raftLog.applied) {
      // Committed entries are being applied right now (a Ready is outstanding). Replacing the log and
      // the configuration under them would make the application apply a conf change to a config that
      // already contains it. The leader sends the snapshot again after the next probe.
      this.logger.info(
        `${hex(this.id)} refused snapshot [index: ${index}, term: ${term}] while entries up to ${this.raftLog.applying} are being applied`,
      );
      return false;
    }
    if (this.raftLog.matchTerm(index, term)) {
      // We already have the snapshot's last entry: our log is at least as long, just commit.
      this.logger.info(
        `${hex(this.id)} [commit: ${this.raftLog.committed}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}] fast-forwarded commit to snapshot [index: ${index}, term: ${term}]`,
      );
      this.raftLog.commitTo(index);
      return false;
    }
    this.raftLog.restore(s);
    const restored = restoreConfig(this.trk, this.raftLog.lastIndex(), confState);
    assertConfStatesEquivalent(confState, this.switchToConfig(restored.config, restored.progress));
    const self = this.trk.progress.get(this.id);
    self?.maybeUpdate(self.next - 1);
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Configuration

  /** Whether this node may become leader: it is a voter and is not installing a snapshot. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasPendingSnapshot();
  }

  applyConfChange(cc: ConfChangeV2): ConfState {
    const changer = new Changer(this.trk, this.raftLog.lastIndex());
    let result;
    if (leavesJoint(cc)) {
      result = changer.leaveJoint();
    } else {
      const { joint, autoLeave } = entersJoint(cc);
      result = joint ? changer.enterJoint(autoLeave, cc.changes) : changer.simple(cc.changes);
    }
    return this.switchToConfig(result.config, result.progress);
  }

  /**
   * Makes a configuration active. A leader that is no longer a voter steps down (it would otherwise
   * lead a group it is not part of); a leader that stays probes new members and re-evaluates the
   * commit index, which may move under the new quorum.
   */
  switchToConfig(config: TrackerConfig, progress: Map<bigint, Progress>): ConfState {
    this.trk.config = config;
    this.trk.progress = progress;
    this.memberIds = this.trk.ids();
    this.logger.info(`${hex(this.id)} switched to configuration ${config.toString()}`);
    const cs = config.toConfState();
    const pr = progress.get(this.id);
    this.isLearner = pr?.isLearner === true;
    if ((pr === undefined || this.isLearner) && this.state === StateType.StateLeader) {
      this.becomeFollower(this.term, NONE);
      return cs;
    }
    if (this.state !== StateType.StateLeader || cs.voters.length === 0) return cs;
    if (this.maybeCommit()) {
      this.bcastAppend();
    } else {
      for (const id of this.memberIds) {
        if (id !== this.id) this.maybeSendAppend(id, false);
      }
    }
    if (this.leadTransferee !== NONE && !config.voters.ids().has(this.leadTransferee))
      this.abortLeaderTransfer();
    return cs;
  }

  loadState(hs: HardState): void {
    assert(
      hs.commit >= this.raftLog.committed && hs.commit <= this.raftLog.lastIndex(),
      `${hex(this.id)} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`,
    );
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /**
   * Called by RawNode when the application acknowledges a Ready: moves the applied index and, as a
   * leader whose joint config is to be left automatically, proposes leaving it once it is applied.
   */
  advanceApplied(newApplied: number, committedEntries: Entry[]): void {
    this.reduceUncommittedSize(committedEntries);
    if (newApplied === 0) return;
    const oldApplied = this.raftLog.applied;
    this.raftLog.appliedTo(newApplied);
    if (
      this.trk.config.autoLeave &&
      oldApplied <= this.pendingConfIndex &&
      newApplied >= this.pendingConfIndex &&
      this.state === StateType.StateLeader
    ) {
      // Empty data decodes to an empty ConfChangeV2 = leave the joint config. Its payload is empty, so
      // the uncommitted-size limit cannot refuse it.
      const appended = this.appendEntry([newEntry({ type: EntryType.EntryConfChangeV2 })]);
      assert(appended, 'refused un-refusable auto-leaving ConfChangeV2');
      this.pendingConfIndex = this.raftLog.lastIndex();
      this.logger.info(
        `initiating automatic transition out of joint configuration ${this.trk.config.toString()}`,
      );
      // Like any proposal, the entry goes out at once: nothing else would carry it to followers in
      // Replicate state until the next heartbeat answer or proposal.
      this.bcastAppend();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Leader helpers

  sendTimeoutNow(to: bigint): void {
    this.send(newMessage({ type: MessageType.MsgTimeoutNow, to }));
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  /** Whether the entry at the commit index is of this term: only then is the commit index current. */
  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.term(this.raftLog.committed) === this.term;
  }

  /** Answers a ReadIndex request: locally (readStates) or to the follower that forwarded it. */
  responseToReadIndexReq(req: Message, readIndex: number): Message | undefined {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index: readIndex, requestCtx: requestContext(req) });
      return undefined;
    }
    return newMessage({
      type: MessageType.MsgReadIndexResp,
      to: req.from,
      index: readIndex,
      entries: req.entries,
    });
  }

  /** Records the request at the current commit index and confirms leadership with a heartbeat round. */
  sendMsgReadIndexResponse(m: Message): void {
    const context = requestContext(m);
    if (!this.readOnly.addRequest(this.raftLog.committed, m)) {
      this.logger.warn(`${hex(this.id)} too many pending read index requests; dropping one`);
      return;
    }
    // The leader acknowledges its own heartbeat round.
    this.readOnly.recvAck(this.id, context);
    this.bcastHeartbeatWithContext(context);
  }

  postponeReadIndex(m: Message): void {
    if (this.pendingReadIndexMessages.length >= ReadOnly.pendingMax) {
      this.logger.warn(`${hex(this.id)} too many postponed read index requests; dropping one`);
      return;
    }
    this.pendingReadIndexMessages.push(m);
  }

  releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0) return;
    if (!this.committedEntryInCurrentTerm()) {
      this.logger.warn('pending MsgReadIndex should be released only after first commit in current term');
      return;
    }
    const msgs = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of msgs) this.sendMsgReadIndexResponse(m);
  }
}

function sortedIds(ids: bigint[]): string {
  return [...ids].sort(compareIds).join(',');
}

/** The configuration we switched to must be the one the ConfState describes. */
function assertConfStatesEquivalent(a: ConfState, b: ConfState): void {
  const same =
    sortedIds(a.voters) === sortedIds(b.voters) &&
    sortedIds(a.learners) === sortedIds(b.learners) &&
    sortedIds(a.votersOutgoing) === sortedIds(b.votersOutgoing) &&
    sortedIds(a.learnersNext) === sortedIds(b.learnersNext) &&
    a.autoLeave === b.autoLeave;
  assert(same, 'ConfStates not equivalent after restoring the configuration');
}
