import type { Backend } from '../../backend/backend.js';
import type { Member } from './member.js';

/**
 * Membership lives in the backend (etcd 3.5+: the `members` and `members_removed` buckets), written in
 * the same commit as the consistent index of the conf change that made it. A snapshot from the leader
 * therefore carries the membership with the data, and a restart reads it back from the database.
 *
 *   members          key: member id (hex)  value: JSON {id (hex), name, peerURLs, clientURLs, isLearner}
 *   members_removed  key: member id (hex)  value: "removed"
 */
interface StoredMember {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

/** A member as JSON bytes: the backend record, and the context of the conf change that adds it. */
export function encodeMember(m: Member, extra: Record<string, unknown> = {}): Buffer {
  const v: StoredMember = {
    id: m.id.toString(16),
    name: m.name,
    peerURLs: m.peerURLs,
    clientURLs: m.clientURLs,
    isLearner: m.isLearner,
  };
  return Buffer.from(JSON.stringify({ ...v, ...extra }));
}

/** Throws on bytes that are not a member record. */
export function decodeMember(bytes: Uint8Array): Member {
  let s: StoredMember;
  try {
    s = JSON.parse(Buffer.from(bytes).toString()) as StoredMember;
    if (typeof s.id !== 'string' || !Array.isArray(s.peerURLs)) throw new Error('missing fields');
  } catch (err) {
    throw new Error(`membership: corrupt member record: ${(err as Error).message}`);
  }
  if (!/^[0-9a-f]{1,16}$/.test(s.id))
    throw new Error(`membership: corrupt member record: bad id ${JSON.stringify(s.id)}`);
  return {
    id: BigInt('0x' + s.id),
    name: typeof s.name === 'string' ? s.name : '',
    peerURLs: s.peerURLs.map(String),
    clientURLs: Array.isArray(s.clientURLs) ? s.clientURLs.map(String) : [],
    isLearner: s.isLearner === true,
  };
}

export function saveMember(backend: Backend, m: Member): void {
  backend.put('members', idKey(m.id), encodeMember(m));
}

export function saveRemoved(backend: Backend, id: bigint): void {
  backend.delete('members', idKey(id));
  backend.put('members_removed', idKey(id), Buffer.from('removed'));
}

/** Reads the membership back; throws when a record does not parse (a corrupt database). */
export function loadMembership(backend: Backend): { members: Member[]; removed: bigint[] } {
  const members: Member[] = [];
  for (const [, v] of backend.rangeCommitted('members', undefined, undefined)) members.push(decodeMember(v));
  const removed: bigint[] = [];
  for (const [k] of backend.rangeCommitted('members_removed', undefined, undefined)) {
    removed.push(BigInt('0x' + k.toString()));
  }
  return { members, removed };
}

function idKey(id: bigint): Buffer {
  return Buffer.from(id.toString(16));
}
