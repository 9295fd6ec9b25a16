import { decodeConfChange, decodeConfChangeV2 } from '../raftpb/codec.js';
import type { ConfChangeV2, Entry } from '../raftpb/types.js';
import { confChangeToV2, EntryType, MessageType } from '../raftpb/types.js';

/** The conf change an entry carries, as a v2 change, or undefined for a normal entry. */
export function confChangeOf(e: Entry): ConfChangeV2 | undefined {
  switch (e.type) {
    case EntryType.EntryNormal:
      return undefined;
    case EntryType.EntryConfChange:
      return confChangeToV2(decodeConfChange(e.data));
    case EntryType.EntryConfChangeV2:
      return decodeConfChangeV2(e.data);
  }
}

export function voteRespMsgType(t: MessageType): MessageType {
  switch (t) {
    case MessageType.MsgVote:
      return MessageType.MsgVoteResp;
    case MessageType.MsgPreVote:
      return MessageType.MsgPreVoteResp;
    default:
      throw new Error(`not a vote message: ${MessageType[t]}`);
  }
}

export function payloadSize(ents: Entry[]): number {
  let s = 0;
  for (const e of ents) s += e.data.length;
  return s;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function hex(id: bigint): string {
  return id.toString(16);
}
