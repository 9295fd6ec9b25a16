import type { PutRequest, RangeRequest, TxnRequest } from '../proto/gen/etcdserverpb/rpc.js';

// The request rules etcd applies before a request reaches Raft: size and quota cost, which reads are
// linearizable, what a learner may serve.

/**
 * etcd compares --max-request-bytes with the size of the marshalled InternalRaftRequest that wraps the
 * client's request: the request as field 3..7 (1-byte tag + length varint) plus a RequestHeader
 * (field 100: 2-byte tag, 1-byte length, 1-byte tag + up to 10-byte request id).
 */
export function internalRequestBytes(requestBytes: number): number {
  const REQUEST_HEADER_BYTES = 2 + 1 + 1 + 10;
  let lenBytes = 1;
  for (let n = requestBytes; n >= 0x80; n = Math.floor(n / 128)) lenBytes++;
  return REQUEST_HEADER_BYTES + 1 + lenBytes + requestBytes;
}

/** etcd's quota cost of a lease grant (storage/quota.go leaseOverhead). */
export const LEASE_OVERHEAD_BYTES = 64;

/** etcd's per-key overhead in the quota cost of a put (storage/quota.go kvOverhead). */
const KV_OVERHEAD_BYTES = 256;

/** etcd costPut: what a put is estimated to add to the backend. */
export function putCost(r: PutRequest): number {
  return KV_OVERHEAD_BYTES + r.key.length + r.value.length;
}

/** etcd costTxn: the larger of the branches' top-level puts (nested txns are not counted, as in etcd). */
export function txnCost(r: TxnRequest): number {
  const branch = (ops: TxnRequest['success']): number => {
    let n = 0;
    for (const op of ops) if (op.request?.$case === 'requestPut') n += putCost(op.request.value);
    return n;
  };
  return Math.max(branch(r.success), branch(r.failure));
}

/** etcd isTxnSerializable: every range of both branches (nested txns included) is serializable. */
export function isTxnSerializable(r: TxnRequest): boolean {
  for (const op of [...r.success, ...r.failure]) {
    const req = op.request;
    if (req?.$case === 'requestRange' && !req.value.serializable) return false;
    if (req?.$case === 'requestTxn' && !isTxnSerializable(req.value)) return false;
  }
  return true;
}

/** etcd isRPCSupportedForLearner: serializable Range and Status. */
export function learnerMayServe(method: string, request: unknown): boolean {
  if (method === 'Status') return true;
  if (method === 'Range') return (request as RangeRequest).serializable;
  return false;
}
