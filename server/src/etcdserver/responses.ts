import type { OpOutcome, TxnOutcome } from '../apply/txn.js';
import type { RangeOutcome } from '../apply/range.js';
import type { KeyValue } from '../mvcc/kv.js';
import type { KeyValue as PbKeyValue } from '../proto/gen/mvccpb/kv.js';
import type {
  DeleteRangeResponse,
  PutResponse,
  RangeResponse,
  ResponseHeader,
  ResponseOp,
  TxnResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import { assertNever } from '../util/assert.js';

/** Builds wire responses from apply outcomes. Revisions become int64 (bigint) here, at the boundary. */
export function toPbKv(kv: KeyValue): PbKeyValue {
  return {
    key: kv.key,
    createRevision: BigInt(kv.createRevision),
    modRevision: BigInt(kv.modRevision),
    version: BigInt(kv.version),
    value: kv.value,
    lease: kv.lease,
  };
}

export type HeaderFactory = (rev: number) => ResponseHeader;

export function rangeResponse(header: HeaderFactory, o: RangeOutcome): RangeResponse {
  return { header: header(o.rev), kvs: o.kvs.map(toPbKv), more: o.more, count: BigInt(o.count) };
}

export function putResponse(header: HeaderFactory, rev: number, prevKv: KeyValue | undefined): PutResponse {
  return { header: header(rev), prevKv: prevKv === undefined ? undefined : toPbKv(prevKv) };
}

export function deleteResponse(
  header: HeaderFactory,
  rev: number,
  deleted: number,
  prevKvs: KeyValue[],
): DeleteRangeResponse {
  return { header: header(rev), deleted: BigInt(deleted), prevKvs: prevKvs.map(toPbKv) };
}

/**
 * A txn response. Only the top-level header is the member's; as in etcd, each op's response carries a
 * header with just the revision that op saw, and a nested txn's header is empty.
 */
export function txnResponse(header: HeaderFactory, rev: number, o: TxnOutcome): TxnResponse {
  return { header: header(rev), succeeded: o.succeeded, responses: o.responses.map(opResponse) };
}

function opResponse(r: OpOutcome): ResponseOp {
  switch (r.kind) {
    case 'range':
      return { response: { $case: 'responseRange', value: rangeResponse(opHeader, r.range) } };
    case 'put':
      return { response: { $case: 'responsePut', value: putResponse(opHeader, r.rev, r.put.prevKv) } };
    case 'delete':
      return {
        response: {
          $case: 'responseDeleteRange',
          value: deleteResponse(opHeader, r.rev, r.del.deleted, r.del.prevKvs),
        },
      };
    case 'txn':
      return { response: { $case: 'responseTxn', value: txnResponse(opHeader, 0, r.txn) } };
    default:
      return assertNever(r);
  }
}

function opHeader(rev: number): ResponseHeader {
  return { clusterId: 0n, memberId: 0n, revision: BigInt(rev), raftTerm: 0n };
}
