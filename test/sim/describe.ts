import { stateName, type StateType } from '../../server/src/raft/ready.js';
import {
  EntryType,
  MessageType,
  type ConfChangeV2,
  type Entry,
  type Message,
} from '../../server/src/raftpb/types.js';

/** FNV-1a over bytes: the identity of an entry's payload in the checkers and the trace. */
export function fnv32(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** What the checkers compare entries by: type and payload (index and term are compared separately). */
export function entryDigest(e: Entry): string {
  return `${e.type}:${fnv32(e.data).toString(16)}`;
}

export function msgName(t: MessageType): string {
  return MessageType[t] ?? `Msg(${String(t)})`;
}

export function describeEntries(es: readonly Entry[]): string {
  if (es.length === 0) return '[]';
  const first = es[0]!;
  const last = es[es.length - 1]!;
  return es.length === 1
    ? `[${first.term}/${first.index}]`
    : `[${first.term}/${first.index}..${last.term}/${last.index}]`;
}

/** One line per message, like etcd-io/raft's DescribeMessage (abridged). */
export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${msgName(m.type)} term=${m.term}`;
  switch (m.type) {
    case MessageType.MsgApp:
      s += ` log=${m.logTerm}/${m.index} commit=${m.commit} ents=${describeEntries(m.entries)}`;
      break;
    case MessageType.MsgAppResp:
      s += ` index=${m.index}` + (m.reject ? ` reject hint=${m.rejectHint}` : '');
      break;
    case MessageType.MsgVote:
    case MessageType.MsgPreVote:
      s += ` last=${m.logTerm}/${m.index}`;
      break;
    case MessageType.MsgVoteResp:
    case MessageType.MsgPreVoteResp:
      s += m.reject ? ' rejected' : ' granted';
      break;
    case MessageType.MsgHeartbeat:
      s += ` commit=${m.commit}`;
      break;
    case MessageType.MsgSnap:
      s +=
        m.snapshot === undefined
          ? ' (none)'
          : ` snap=${m.snapshot.metadata.term}/${m.snapshot.metadata.index}`;
      break;
    case MessageType.MsgProp:
      s += ` ents=${m.entries.length}`;
      break;
    case MessageType.MsgReadIndex:
    case MessageType.MsgReadIndexResp:
      s += ` index=${m.index}`;
      break;
    default:
      break;
  }
  return s;
}

export function describeState(s: StateType): string {
  return stateName(s).replace('State', '');
}

export function describeConfChange(cc: ConfChangeV2): string {
  if (cc.changes.length === 0) return 'leave-joint';
  const kinds = ['add', 'remove', 'update', 'learner'];
  return `${cc.transition}:` + cc.changes.map((c) => `${kinds[c.type] ?? '?'}(${c.nodeId})`).join(',');
}

export function isConfChangeEntry(e: Entry): boolean {
  return e.type === EntryType.EntryConfChangeV2 || e.type === EntryType.EntryConfChange;
}
