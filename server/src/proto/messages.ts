// Request messages with proto3 defaults, for clients of our own (cairnctl, tests, benchmarks). The
// generated codecs (ts-proto) have no create/fromPartial, so every field is spelled out here once.
import {
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  type CompactionRequest,
  type Compare,
  type DeleteRangeRequest,
  type MemberAddRequest,
  type MemberListRequest,
  type MemberPromoteRequest,
  type MemberRemoveRequest,
  type MemberUpdateRequest,
  type MoveLeaderRequest,
  type PutRequest,
  type RangeRequest,
  type RequestOp,
  type StatusRequest,
  type TxnRequest,
} from './gen/etcdserverpb/rpc.js';

const empty = (): Buffer => Buffer.alloc(0);

export function rangeRequest(fields: Partial<RangeRequest> = {}): RangeRequest {
  return {
    key: empty(),
    rangeEnd: empty(),
    limit: 0n,
    revision: 0n,
    sortOrder: RangeRequest_SortOrder.NONE,
    sortTarget: RangeRequest_SortTarget.KEY,
    serializable: false,
    keysOnly: false,
    countOnly: false,
    minModRevision: 0n,
    maxModRevision: 0n,
    minCreateRevision: 0n,
    maxCreateRevision: 0n,
    ...fields,
  };
}

export function putRequest(fields: Partial<PutRequest> = {}): PutRequest {
  return {
    key: empty(),
    value: empty(),
    lease: 0n,
    prevKv: false,
    ignoreValue: false,
    ignoreLease: false,
    ...fields,
  };
}

export function deleteRangeRequest(fields: Partial<DeleteRangeRequest> = {}): DeleteRangeRequest {
  return { key: empty(), rangeEnd: empty(), prevKv: false, ...fields };
}

export function txnRequest(fields: Partial<TxnRequest> = {}): TxnRequest {
  return { compare: [], success: [], failure: [], ...fields };
}

export function compareOf(fields: Omit<Compare, 'rangeEnd'> & Partial<Pick<Compare, 'rangeEnd'>>): Compare {
  return { rangeEnd: empty(), ...fields };
}

export function compactionRequest(revision: bigint, physical: boolean): CompactionRequest {
  return { revision, physical };
}

export function memberListRequest(): MemberListRequest {
  return { linearizable: false };
}

export function statusRequest(): StatusRequest {
  return {};
}

export function requestOpRange(r: RangeRequest): RequestOp {
  return { request: { $case: 'requestRange', value: r } };
}

export function requestOpPut(r: PutRequest): RequestOp {
  return { request: { $case: 'requestPut', value: r } };
}

export function requestOpDeleteRange(r: DeleteRangeRequest): RequestOp {
  return { request: { $case: 'requestDeleteRange', value: r } };
}

export function memberAddRequest(peerURLs: string[], isLearner: boolean): MemberAddRequest {
  return { peerURLs, isLearner };
}

export function memberRemoveRequest(ID: bigint): MemberRemoveRequest {
  return { ID };
}

export function memberUpdateRequest(ID: bigint, peerURLs: string[]): MemberUpdateRequest {
  return { ID, peerURLs };
}

export function memberPromoteRequest(ID: bigint): MemberPromoteRequest {
  return { ID };
}

export function moveLeaderRequest(targetID: bigint): MoveLeaderRequest {
  return { targetID };
}
