import { decodeConfChangeV2, encodeConfChangeV2 } from '../../server/src/raftpb/codec.js';
import type { ConfChangeV2 } from '../../server/src/raftpb/types.js';

/**
 * Proposal payloads: `p:<id>:` followed by filler bytes. The id is unique per client request; the state
 * machine applies an id at most once (clients retry, the network duplicates MsgProp, so an id may be
 * committed more than once, as in etcd where the apply layer dedups by request id).
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PREFIX = 0x70; // 'p'
const COLON = 0x3a;

export function encodeProposal(id: string, fillerBytes: number): Uint8Array {
  const head = encoder.encode(`p:${id}:`);
  const out = new Uint8Array(head.length + fillerBytes);
  out.set(head, 0);
  out.fill(0x2e, head.length);
  return out;
}

/** The proposal id in an entry's data, or undefined for anything else (the leader's empty entries). */
export function decodeProposal(data: Uint8Array): string | undefined {
  if (data.length < 3 || data[0] !== PREFIX || data[1] !== COLON) return undefined;
  const end = data.indexOf(COLON, 2);
  if (end < 0) return undefined;
  return decoder.decode(data.subarray(2, end));
}

/** Conf changes travel in entries in the raftpb wire encoding (the core encodes them on propose). */
export function decodeConfChange(data: Uint8Array): ConfChangeV2 {
  return decodeConfChangeV2(data);
}

export function encodeConfChange(cc: ConfChangeV2): Uint8Array {
  return encodeConfChangeV2(cc);
}
