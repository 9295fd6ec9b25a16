import type { Message } from '../raftpb/types.js';
import { MessageType, NONE } from '../raftpb/types.js';
import { RaftError } from './errors.js';
import { hex } from './raft-util.js';
import type { Raft } from './raft.js';

/**
 * Followers: accept the leader's appends, heartbeats and snapshots; forward proposals, transfer and read
 * requests to the leader (Raft §5.2, §5.3).
 */
export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case MessageType.MsgProp:
      if (r.lead === NONE) {
        r.logger.info(`${hex(r.id)} no leader at term ${r.term}; dropping proposal`);
        throw new RaftError('ErrProposalDropped', 'no leader');
      }
      if (r.disableProposalForwarding) {
        r.logger.info(
          `${hex(r.id)} not forwarding to leader ${hex(r.lead)} at term ${r.term}; dropping proposal`,
        );
        throw new RaftError('ErrProposalDropped', 'proposal forwarding is disabled');
      }
      m.to = r.lead;
      r.send(m);
      return;
    case MessageType.MsgApp:
      r.electionElapsed = 0;
      r.lead = m.from;
      r.handleAppendEntries(m);
      return;
    case MessageType.MsgHeartbeat:
      r.electionElapsed = 0;
      r.lead = m.from;
      r.handleHeartbeat(m);
      return;
    case MessageType.MsgSnap:
      r.electionElapsed = 0;
      r.lead = m.from;
      r.handleSnapshot(m);
      return;
    case MessageType.MsgTransferLeader:
      if (r.lead === NONE) {
        r.logger.info(`${hex(r.id)} no leader at term ${r.term}; dropping leader transfer msg`);
        return;
      }
      m.to = r.lead;
      r.send(m);
      return;
    case MessageType.MsgTimeoutNow:
      r.logger.info(
        `${hex(r.id)} [term ${r.term}] received MsgTimeoutNow from ${hex(m.from)} and starts an election to get leadership.`,
      );
      // A transfer never uses pre-vote: the old leader asked for it, so no partition is healing.
      r.hup('transfer');
      return;
    case MessageType.MsgReadIndex:
      if (r.lead === NONE) {
        r.logger.info(`${hex(r.id)} no leader at term ${r.term}; dropping index reading msg`);
        return;
      }
      m.to = r.lead;
      r.send(m);
      return;
    case MessageType.MsgReadIndexResp: {
      const e = m.entries[0];
      if (m.entries.length !== 1 || e === undefined) {
        r.logger.warn(
          `${hex(r.id)} invalid format of MsgReadIndexResp from ${hex(m.from)}, entries count: ${m.entries.length}`,
        );
        return;
      }
      r.readStates.push({ index: m.index, requestCtx: e.data });
      return;
    }
    default:
      return;
  }
}
