import { EtcdError } from '../errors.js';
import type {
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from '../proto/gen/etcdserverpb/rpc.js';
import {
  RangeRequest_SortOrder as SortOrder,
  RangeRequest_SortTarget as SortTarget,
} from '../proto/gen/etcdserverpb/rpc.js';

/**
 * Shape checks on KV requests, done before a request reaches the server (etcd v3rpc/key.go). They
 * need no state, so a bad request is refused without touching the store.
 */
export function checkRangeRequest(r: RangeRequest): void {
  if (r.key.length === 0) throw new EtcdError('ErrEmptyKey');
  if (!(r.sortOrder in SORT_ORDERS) || !(r.sortTarget in SORT_TARGETS))
    throw new EtcdError('ErrInvalidSortOption');
}

const SORT_ORDERS: Record<number, true> = {
  [SortOrder.NONE]: true,
  [SortOrder.ASCEND]: true,
  [SortOrder.DESCEND]: true,
};
const SORT_TARGETS: Record<number, true> = {
  [SortTarget.KEY]: true,
  [SortTarget.VERSION]: true,
  [SortTarget.CREATE]: true,
  [SortTarget.MOD]: true,
  [SortTarget.VALUE]: true,
};

export function checkPutRequest(r: PutRequest): void {
  if (r.key.length === 0) throw new EtcdError('ErrEmptyKey');
  if (r.ignoreValue && r.value.length !== 0) throw new EtcdError('ErrValueProvided');
  if (r.ignoreLease && r.lease !== 0n) throw new EtcdError('ErrLeaseProvided');
}

export function checkDeleteRequest(r: DeleteRangeRequest): void {
  if (r.key.length === 0) throw new EtcdError('ErrEmptyKey');
}

/**
 * A txn may hold at most `maxTxnOps` compares, and as many ops per branch; nested txns count against
 * what their parent leaves (etcd: maxTxnOps - opc). Then puts and deletes must not overlap.
 */
export function checkTxnRequest(r: TxnRequest, maxTxnOps: number): void {
  checkTxnShape(r, maxTxnOps);
  // Overlap checks come after the shape checks so a huge request cannot trigger quadratic work.
  checkIntervals(r.success);
  checkIntervals(r.failure);
}

function checkTxnShape(r: TxnRequest, maxTxnOps: number): void {
  const opc = Math.max(r.compare.length, r.success.length, r.failure.length);
  if (opc > maxTxnOps) throw new EtcdError('ErrTooManyOps');
  for (const c of r.compare) if (c.key.length === 0) throw new EtcdError('ErrEmptyKey');
  for (const op of r.success) checkRequestOp(op, maxTxnOps - opc);
  for (const op of r.failure) checkRequestOp(op, maxTxnOps - opc);
}

function checkRequestOp(op: RequestOp, maxTxnOps: number): void {
  const u = op.request;
  switch (u?.$case) {
    case 'requestRange':
      return checkRangeRequest(u.value);
    case 'requestPut':
      return checkPutRequest(u.value);
    case 'requestDeleteRange':
      return checkDeleteRequest(u.value);
    case 'requestTxn':
      return checkTxnShape(u.value, maxTxnOps);
    default:
      // An empty RequestOp (etcd: "key not found").
      throw new EtcdError('ErrKeyNotFound');
  }
}

/** A deleted interval [key, end); end undefined = the single key. */
interface Interval {
  readonly key: Buffer;
  readonly end: Buffer | undefined;
}

function intersects(dels: readonly Interval[], k: Buffer): boolean {
  return dels.some((d) => {
    if (d.end === undefined) return d.key.equals(k);
    return Buffer.compare(k, d.key) >= 0 && Buffer.compare(k, d.end) < 0;
  });
}

/**
 * etcd's checkIntervals: within one branch, a key may be put at most once and must not fall in a range
 * deleted by the same branch, looking through nested txns. The then- and else-branches of a nested txn
 * are mutually exclusive, so the same key put in both is fine.
 */
function checkIntervals(ops: readonly RequestOp[]): { puts: Set<string>; dels: Interval[] } {
  const dels: Interval[] = [];
  for (const op of ops) {
    if (op.request?.$case !== 'requestDeleteRange') continue;
    const d = op.request.value;
    // etcd builds the literal interval [key, range_end) here, so a from-key delete (range_end "\0")
    // is the empty interval [key, "\0") and conflicts with no put: "delete everything from a, then
    // put b" is a valid txn on etcd, and so it is here.
    if (isFromKeyEnd(d.rangeEnd)) continue;
    dels.push({ key: d.key, end: d.rangeEnd.length === 0 ? undefined : d.rangeEnd });
  }
  const puts = new Set<string>();
  const dup = () => new EtcdError('ErrDuplicateKey');
  for (const op of ops) {
    if (op.request?.$case !== 'requestTxn') continue;
    const t = op.request.value;
    const then = checkIntervals(t.success);
    const otherwise = checkIntervals(t.failure);
    for (const k of then.puts) {
      if (puts.has(k) || intersects(dels, Buffer.from(k, 'latin1'))) throw dup();
      puts.add(k);
    }
    for (const k of otherwise.puts) {
      if (puts.has(k) && !then.puts.has(k)) throw dup();
      if (intersects(dels, Buffer.from(k, 'latin1'))) throw dup();
      puts.add(k);
    }
    dels.push(...then.dels, ...otherwise.dels);
  }
  for (const op of ops) {
    if (op.request?.$case !== 'requestPut') continue;
    const key = op.request.value.key;
    const k = key.toString('latin1');
    if (puts.has(k) || intersects(dels, key)) throw dup();
    puts.add(k);
  }
  return { puts, dels };
}

function isFromKeyEnd(end: Buffer): boolean {
  return end.length === 1 && end[0] === 0;
}
