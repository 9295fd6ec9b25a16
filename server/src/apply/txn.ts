import type { KeyValue, ReadView, TxnWrite } from '../mvcc/kv.js';
import type {
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from '../proto/gen/etcdserverpb/rpc.js';
import { EtcdError } from '../errors.js';
import { assertNever } from '../util/assert.js';
import { applyCompare } from './compare.js';
import type { LeaseLookup } from './leases.js';
import type { RangeOutcome } from './range.js';
import { executeRange } from './range.js';
import { toKeyRange, toNumber } from './ranges.js';

export interface PutOutcome {
  readonly prevKv: KeyValue | undefined;
}

export interface DeleteOutcome {
  readonly deleted: number;
  readonly prevKvs: KeyValue[];
}

/**
 * One op's result inside a txn. `rev` is the revision the op reported on its own (etcd puts it in the
 * op's response header): the txn's revision once it has written, the starting revision before.
 */
export type OpOutcome =
  | { readonly kind: 'range'; readonly range: RangeOutcome }
  | { readonly kind: 'put'; readonly put: PutOutcome; readonly rev: number }
  | { readonly kind: 'delete'; readonly del: DeleteOutcome; readonly rev: number }
  | { readonly kind: 'txn'; readonly txn: TxnOutcome };

export interface TxnOutcome {
  readonly succeeded: boolean;
  readonly responses: OpOutcome[];
}

/**
 * Which branch each (nested) txn takes. etcd evaluates every level's compares against the state before
 * the transaction runs (txn.go compareToPath), so a nested guard does not see the outer ops' writes.
 */
type TxnPath = boolean[];

/**
 * True when every op of both branches is a Range. Such a txn is served as a read. As in etcd
 * (isTxnReadonly), a nested txn counts as a write whatever it holds.
 */
export function isTxnReadonly(r: TxnRequest): boolean {
  const ro = (ops: RequestOp[]): boolean => ops.every((op) => op.request?.$case === 'requestRange');
  return ro(r.success) && ro(r.failure);
}

/** True when a put appears anywhere in the txn, at any depth: such a txn may add data. */
export function txnHasPut(r: TxnRequest): boolean {
  const has = (ops: RequestOp[]): boolean =>
    ops.some((op) => {
      const u = op.request;
      return u?.$case === 'requestPut' || (u?.$case === 'requestTxn' && txnHasPut(u.value));
    });
  return has(r.success) || has(r.failure);
}

/** True when every Range at any depth is serializable (then no linearizable read barrier is needed). */
export function isTxnSerializable(r: TxnRequest): boolean {
  const ser = (ops: RequestOp[]): boolean =>
    ops.every((op) => {
      const u = op.request;
      if (u?.$case === 'requestRange') return u.value.serializable;
      if (u?.$case === 'requestTxn') return isTxnSerializable(u.value);
      return true;
    });
  return ser(r.success) && ser(r.failure);
}

export function compareToPath(view: ReadView, r: TxnRequest): TxnPath {
  const path: TxnPath = [];
  const walk = (t: TxnRequest): void => {
    const ok = t.compare.every((c) => applyCompare(view, c));
    path.push(ok);
    for (const op of ok ? t.success : t.failure)
      if (op.request?.$case === 'requestTxn') walk(op.request.value);
  };
  walk(r);
  return path;
}

/**
 * Checks, before anything is written, the ops on the branches the txn will take, in etcd's order
 * (txn.go checkRequests): first every put (ignore_value/ignore_lease need the key to exist, attached
 * leases must exist), then every range (no future or compacted revision). Throws the first error.
 */
export function checkTxn(
  view: ReadView,
  r: TxnRequest,
  path: TxnPath,
  leases: LeaseLookup,
  isWrite: boolean,
): void {
  if (isWrite) {
    forEachTakenOp(r, path, (op) => {
      if (op.$case === 'requestPut') checkPut(view, op.value, leases);
    });
  }
  forEachTakenOp(r, path, (op) => {
    if (op.$case === 'requestRange') checkRangeRevision(view, op.value);
  });
}

type Op = NonNullable<RequestOp['request']>;

/** Visits every op on the branches `path` says will run, depth first, in op order. */
function forEachTakenOp(r: TxnRequest, path: TxnPath, visit: (op: Op) => void): void {
  let i = 0;
  const walk = (t: TxnRequest): void => {
    const ok = path[i++];
    for (const op of ok === true ? t.success : t.failure) {
      const u = op.request;
      if (u === undefined) continue;
      visit(u);
      if (u.$case === 'requestTxn') walk(u.value);
    }
  };
  walk(r);
}

/** Checks a standalone or in-txn put against the current state (etcd txn.go checkRequestPut). */
export function checkPut(view: ReadView, p: PutRequest, leases: LeaseLookup): void {
  if (p.ignoreValue || p.ignoreLease) {
    if (view.range({ key: p.key }).kvs.length === 0) throw new EtcdError('ErrKeyNotFound');
  }
  if (p.lease !== 0n && !leases.exists(p.lease)) throw new EtcdError('ErrLeaseNotFound');
}

function checkRangeRevision(view: ReadView, r: RangeRequest): void {
  const rev = toNumber(r.revision);
  if (rev === 0) return;
  if (rev > view.rev) throw new EtcdError('ErrFutureRev');
  if (rev < view.compactRev) throw new EtcdError('ErrCompacted');
}

/** Executes a checked txn on `txn` (a write txn, or a read view for read-only txns). */
export function executeTxn(txn: TxnWrite | ReadView, r: TxnRequest, path: TxnPath): TxnOutcome {
  let i = 0;
  const run = (t: TxnRequest): TxnOutcome => {
    const succeeded = path[i++] === true;
    const responses: OpOutcome[] = [];
    for (const op of succeeded ? t.success : t.failure) {
      const u = op.request;
      if (u === undefined) continue;
      switch (u.$case) {
        case 'requestRange':
          responses.push({ kind: 'range', range: executeRange(txn, u.value) });
          break;
        case 'requestPut': {
          const put = executePut(asWrite(txn), u.value);
          responses.push({ kind: 'put', put, rev: txn.rev });
          break;
        }
        case 'requestDeleteRange': {
          const del = executeDelete(asWrite(txn), u.value);
          responses.push({ kind: 'delete', del, rev: txn.rev });
          break;
        }
        case 'requestTxn':
          responses.push({ kind: 'txn', txn: run(u.value) });
          break;
        default:
          assertNever(u);
      }
    }
    return { succeeded, responses };
  };
  return run(r);
}

function asWrite(txn: TxnWrite | ReadView): TxnWrite {
  if (!('put' in txn)) throw new Error('write op in a read-only txn');
  return txn;
}

/** Put with etcd's semantics (txn/put.go): ignore_value/ignore_lease reuse the current value/lease. */
export function executePut(txn: TxnWrite, p: PutRequest): PutOutcome {
  let value = p.value;
  let lease = p.lease;
  let prev: KeyValue | undefined;
  if (p.ignoreValue || p.ignoreLease || p.prevKv) {
    prev = txn.range({ key: p.key }).kvs[0];
    if ((p.ignoreValue || p.ignoreLease) && prev === undefined) throw new EtcdError('ErrKeyNotFound');
    if (p.ignoreValue) value = prev!.value;
    if (p.ignoreLease) lease = prev!.lease;
  }
  txn.put(p.key, value, lease);
  return { prevKv: p.prevKv ? prev : undefined };
}

export function executeDelete(txn: TxnWrite, d: DeleteRangeRequest): DeleteOutcome {
  const prevKvs = txn.deleteRange(toKeyRange(d.key, d.rangeEnd));
  return { deleted: prevKvs.length, prevKvs: d.prevKv ? prevKvs : [] };
}
