import { InternalRaftRequest } from '../proto/gen/etcdserverpb/raft_internal.js';

/** What a proposal carries: exactly one of InternalRaftRequest's request fields (etcd's field numbers). */
export type RaftRequestBody = Partial<
  Pick<
    InternalRaftRequest,
    | 'put'
    | 'deleteRange'
    | 'txn'
    | 'compaction'
    | 'leaseGrant'
    | 'leaseRevoke'
    | 'alarm'
    | 'clusterMemberAttrSet'
  >
>;

/** Encodes a proposal with its request id in the header (etcd's processInternalRaftRequestOnce). */
export function encodeRaftRequest(id: bigint, body: RaftRequestBody): Uint8Array {
  return InternalRaftRequest.encode({
    header: { ID: id, username: '', authRevision: 0n },
    ID: 0n,
    range: undefined,
    put: undefined,
    deleteRange: undefined,
    txn: undefined,
    compaction: undefined,
    leaseGrant: undefined,
    leaseRevoke: undefined,
    alarm: undefined,
    clusterMemberAttrSet: undefined,
    ...body,
  }).finish();
}

/**
 * Decodes a committed entry's data. Throws on bytes that do not decode: committed entries were encoded
 * by a member, so that means a corrupt log, which the caller treats as fatal.
 */
export function decodeRaftRequest(data: Uint8Array): { id: bigint; request: InternalRaftRequest } {
  const request = InternalRaftRequest.decode(data);
  return { id: request.header?.ID ?? request.ID, request };
}
