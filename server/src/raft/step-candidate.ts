import type { Message } from '../raftpb/types.js';
import { MessageType, NONE } from '../raftpb/types.js';
import { RaftError } from './errors.js';
import { hex } from './raft-util.js';
import type { Raft } from './raft.js';
import { StateType, stateName } from './ready.js';
import { VoteResult } from './quorum/quorum.js';

/**
 * Candidates and pre-candidates: count (pre-)votes, and yield to a leader of the same term (Raft §5.2).
 */
export function stepCandidate(r: Raft, m: Message): void {
  // A pre-candidate only counts pre-vote answers, a candidate only vote answers.
  const myVoteRespType =
    r.state === StateType.StatePreCandidate ? MessageType.MsgPreVoteResp : MessageType.MsgVoteResp;
  switch (m.type) {
    case MessageType.MsgProp:
      r.logger.info(`${hex(r.id)} no leader at term ${r.term}; dropping proposal`);
      throw new RaftError('ErrProposalDropped', 'no leader');
    case MessageType.MsgApp:
      r.becomeFollower(m.term, m.from);
      r.handleAppendEntries(m);
      return;
    case MessageType.MsgHeartbeat:
      r.becomeFollower(m.term, m.from);
      r.handleHeartbeat(m);
      return;
    case MessageType.MsgSnap:
      r.becomeFollower(m.term, m.from);
      r.handleSnapshot(m);
      return;
    case myVoteRespType: {
      const result = r.poll(m.from, m.type, !m.reject);
      if (result === VoteResult.VoteWon) {
        if (r.state === StateType.StatePreCandidate) {
          r.campaign('election');
        } else {
          r.becomeLeader();
          r.bcastAppend();
        }
      } else if (result === VoteResult.VoteLost) {
        // A pre-vote answer carries the future term; stay in ours.
        r.becomeFollower(r.term, NONE);
      }
      return;
    }
    case MessageType.MsgTimeoutNow:
      r.logger.info(
        `${hex(r.id)} [term ${r.term} state ${stateName(r.state)}] ignored MsgTimeoutNow from ${hex(m.from)}`,
      );
      return;
    default:
      return;
  }
}
