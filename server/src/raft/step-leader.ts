import type { Entry, Message } from '../raftpb/types.js';
import { EntryType, leavesJoint, newEntry, NONE, MessageType } from '../raftpb/types.js';
import { assert } from '../util/assert.js';
import { RaftError } from './errors.js';
import { confChangeOf, hex } from './raft-util.js';
import type { Raft } from './raft.js';
import { VoteResult } from './quorum/quorum.js';
import type { Progress } from './tracker/progress.js';
import { ProgressState } from './tracker/state.js';

/**
 * The leader's handling of messages (Raft §5.3 replication, thesis §6.2 check-quorum, §6.4 ReadIndex,
 * §3.10 leadership transfer, §4.1 one conf change at a time). Term rules were applied by Raft.step.
 */
export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.MsgBeat:
      r.bcastHeartbeat();
      return;
    case MessageType.MsgCheckQuorum:
      if (!r.trk.quorumActive()) {
        r.logger.warn(`${hex(r.id)} stepped down to follower since quorum is not active`);
        r.becomeFollower(r.term, NONE);
      }
      // Everyone but us must prove again within the next election timeout that they are alive.
      for (const [id, pr] of r.trk.progress) {
        if (id !== r.id) pr.recentActive = false;
      }
      return;
    case MessageType.MsgProp:
      stepLeaderProposal(r, m);
      return;
    case MessageType.MsgReadIndex:
      if (r.trk.isSingleton()) {
        // A single voter needs no heartbeat round to know it is the leader.
        const resp = r.responseToReadIndexReq(m, r.raftLog.committed);
        if (resp !== undefined) r.send(resp);
        return;
      }
      // Until an entry of this term is committed, the commit index may be behind what an earlier
      // leader committed (thesis §6.4): hold the request.
      if (!r.committedEntryInCurrentTerm()) {
        r.postponeReadIndex(m);
        return;
      }
      r.sendMsgReadIndexResponse(m);
      return;
    default:
      break;
  }

  // Every other message is a response from a member and needs its progress.
  const pr = r.trk.progress.get(m.from);
  if (pr === undefined) {
    r.logger.info(`${hex(r.id)} no progress available for ${hex(m.from)}`);
    return;
  }
  switch (m.type) {
    case MessageType.MsgAppResp:
      handleAppendResponse(r, m, pr);
      return;
    case MessageType.MsgHeartbeatResp:
      handleHeartbeatResponse(r, m, pr);
      return;
    case MessageType.MsgSnapStatus:
      if (pr.state !== ProgressState.Snapshot) return;
      if (!m.reject) {
        pr.becomeProbe();
        r.logger.info(
          `${hex(r.id)} snapshot succeeded, resumed sending replication messages to ${hex(m.from)} [${pr.toString()}]`,
        );
      } else {
        // Forget the snapshot first, or probing would start after a snapshot that never arrived.
        pr.pendingSnapshot = 0;
        pr.becomeProbe();
        r.logger.info(
          `${hex(r.id)} snapshot failed, resumed sending replication messages to ${hex(m.from)} [${pr.toString()}]`,
        );
      }
      // After a success wait for the follower's append response; after a failure wait a heartbeat
      // interval before trying again.
      pr.probeSent = true;
      return;
    case MessageType.MsgUnreachable:
      // An optimistic pipeline to an unreachable member has very likely lost messages: probe again.
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      r.logger.info(
        `${hex(r.id)} failed to send message to ${hex(m.from)} because it is unreachable [${pr.toString()}]`,
      );
      return;
    case MessageType.MsgTransferLeader:
      handleTransferLeader(r, m, pr);
      return;
    default:
      return;
  }
}

function stepLeaderProposal(r: Raft, m: Message): void {
  assert(m.entries.length > 0, `${hex(r.id)} stepped empty MsgProp`);
  if (!r.trk.progress.has(r.id)) {
    // This leader was removed from the configuration; it will step down, so take nothing new.
    throw new RaftError('ErrProposalDropped', 'leader is not a member');
  }
  if (r.leadTransferee !== NONE) {
    r.logger.info(
      `${hex(r.id)} [term ${r.term}] transfer leadership to ${hex(r.leadTransferee)} is in progress; dropping proposal`,
    );
    throw new RaftError('ErrProposalDropped', 'leadership transfer in progress');
  }
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i] as Entry;
    const cc = confChangeOf(e);
    if (cc === undefined) continue;
    const alreadyPending = r.pendingConfIndex > r.raftLog.applied;
    const alreadyJoint = r.trk.config.voters.isJoint;
    const wantsLeaveJoint = leavesJoint(cc);
    let refused = '';
    if (alreadyPending) {
      refused = `possible unapplied conf change at index ${r.pendingConfIndex} (applied to ${r.raftLog.applied})`;
    } else if (alreadyJoint && !wantsLeaveJoint) {
      refused = 'must transition out of joint config first';
    } else if (!alreadyJoint && wantsLeaveJoint) {
      refused = 'not in joint state; refusing empty conf change';
    }
    if (refused !== '') {
      // The entry stays (so the proposer's entry count is unchanged) but becomes a no-op.
      r.logger.info(`${hex(r.id)} ignoring conf change at config ${r.trk.config.toString()}: ${refused}`);
      m.entries[i] = newEntry({ type: EntryType.EntryNormal });
    } else {
      r.pendingConfIndex = r.raftLog.lastIndex() + i + 1;
    }
  }
  if (!r.appendEntry(m.entries)) throw new RaftError('ErrProposalDropped', 'too many uncommitted bytes');
  r.bcastAppend();
}

function handleAppendResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  if (m.reject) {
    r.logger.info(
      `${hex(r.id)} received MsgAppResp(rejected, hint: (index ${m.rejectHint}, term ${m.logTerm})) from ${hex(m.from)} for index ${m.index}`,
    );
    // The follower told us the last index where its log can match ours (skipping its terms that are
    // not in our log); skip our terms that cannot match its hint term as well.
    let nextProbeIndex = m.rejectHint;
    if (m.logTerm > 0) nextProbeIndex = r.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
    if (pr.maybeDecrTo(m.index, nextProbeIndex)) {
      r.logger.info(`${hex(r.id)} decreased progress of ${hex(m.from)} to [${pr.toString()}]`);
      if (pr.state === ProgressState.Replicate) pr.becomeProbe();
      r.sendAppend(m.from);
    }
    return;
  }
  const oldPaused = pr.isPaused();
  // An answer that moves match, or one that confirms a probe at the current match (the follower is
  // up to date, see the heartbeat response below), lets replication go on.
  const updated = pr.maybeUpdate(m.index);
  if (!updated && !(pr.match === m.index && pr.state === ProgressState.Probe)) return;
  if (pr.state === ProgressState.Probe) {
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= r.raftLog.firstIndex()) {
    // The follower can be caught up from the log now (by the snapshot, whichever index it was taken
    // at, or by appends): replicate normally, even if the snapshot's status was never reported.
    r.logger.info(
      `${hex(r.id)} recovered from needing snapshot, resumed sending replication messages to ${hex(m.from)} [${pr.toString()}]`,
    );
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === ProgressState.Replicate) {
    pr.inflights.freeLE(m.index);
  }
  if (r.maybeCommit()) {
    // The commit index moved in this term: held ReadIndex requests can be answered now.
    r.releasePendingReadIndexMessages();
    r.bcastAppend();
  } else if (oldPaused) {
    // A paused follower may have missed the latest commit index.
    r.sendAppend(m.from);
  }
  // The window may have room for several messages now; send them (each is size-limited).
  for (let sent = 0; sent < r.trk.inflightMsgsMax && r.maybeSendAppend(m.from, false); sent++) {
    // Bounded by the in-flight window.
  }
  if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) {
    r.logger.info(`${hex(r.id)} sent MsgTimeoutNow to ${hex(m.from)} after received MsgAppResp`);
    r.sendTimeoutNow(m.from);
  }
}

function handleHeartbeatResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  pr.probeSent = false;
  // A full window after lost appends would stall replication forever: the heartbeat answer proves the
  // follower is alive, so free one slot to let an append through.
  if (pr.state === ProgressState.Replicate && pr.inflights.full()) pr.inflights.freeFirstOne();
  // A probing follower that is already up to date gets an empty append: its answer moves it to
  // Replicate, instead of it staying in Probe until the next proposal.
  if (pr.match < r.raftLog.lastIndex() || pr.state === ProgressState.Probe) r.sendAppend(m.from);
  if (m.context.length === 0) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (acks === undefined || r.trk.config.voters.voteResult(acks) !== VoteResult.VoteWon) return;
  for (const rs of r.readOnly.advance(m.context)) {
    const resp = r.responseToReadIndexReq(rs.req, rs.index);
    if (resp !== undefined) r.send(resp);
  }
}

function handleTransferLeader(r: Raft, m: Message, pr: Progress): void {
  if (pr.isLearner) {
    r.logger.info(`${hex(r.id)} is learner. Ignored transferring leadership`);
    return;
  }
  const transferee = m.from;
  const last = r.leadTransferee;
  if (last !== NONE) {
    if (last === transferee) {
      r.logger.info(
        `${hex(r.id)} [term ${r.term}] transfer leadership to ${hex(transferee)} is in progress, ignores request to same node ${hex(transferee)}`,
      );
      return;
    }
    r.abortLeaderTransfer();
    r.logger.info(`${hex(r.id)} [term ${r.term}] abort previous transferring leadership to ${hex(last)}`);
  }
  if (transferee === r.id) {
    r.logger.info(`${hex(r.id)} is already leader. Ignored transferring leadership to self`);
    return;
  }
  r.logger.info(`${hex(r.id)} [term ${r.term}] starts to transfer leadership to ${hex(transferee)}`);
  // The transfer must finish within an election timeout (thesis §3.10).
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  if (pr.match === r.raftLog.lastIndex()) {
    r.sendTimeoutNow(transferee);
    r.logger.info(
      `${hex(r.id)} sends MsgTimeoutNow to ${hex(transferee)} immediately as ${hex(transferee)} already has up-to-date log`,
    );
  } else {
    r.sendAppend(transferee);
  }
}
