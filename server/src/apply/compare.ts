import type { KeyValue, ReadView } from '../mvcc/kv.js';
import type { Compare } from '../proto/gen/etcdserverpb/rpc.js';
import {
  Compare_CompareResult as Result,
  Compare_CompareTarget as Target,
} from '../proto/gen/etcdserverpb/rpc.js';
import { toKeyRange } from './ranges.js';

const ZERO_KV: KeyValue = {
  key: Buffer.alloc(0),
  createRevision: 0,
  modRevision: 0,
  version: 0,
  value: Buffer.alloc(0),
  lease: 0n,
};

/**
 * Evaluates one Txn guard the way etcd does (txn.go applyCompare):
 * - over a range, every key must satisfy it;
 * - on a missing key, a VALUE compare is false and every other target compares against zero, so
 *   `mod_revision == 0` means "does not exist" (kube-apiserver's create);
 * - a compare whose read fails (e.g. a compacted revision) is false.
 */
export function applyCompare(view: ReadView, c: Compare): boolean {
  let kvs: KeyValue[];
  try {
    kvs = view.range(toKeyRange(c.key, c.rangeEnd)).kvs;
  } catch {
    return false;
  }
  if (kvs.length === 0) return c.target === Target.VALUE ? false : compareKV(c, ZERO_KV);
  return kvs.every((kv) => compareKV(c, kv));
}

function compareKV(c: Compare, kv: KeyValue): boolean {
  const u = c.targetUnion;
  let result: number;
  switch (c.target) {
    case Target.VALUE:
      result = Buffer.compare(kv.value, u?.$case === 'value' ? u.value : EMPTY);
      break;
    case Target.CREATE:
      result = cmpBig(BigInt(kv.createRevision), u?.$case === 'createRevision' ? u.value : 0n);
      break;
    case Target.MOD:
      result = cmpBig(BigInt(kv.modRevision), u?.$case === 'modRevision' ? u.value : 0n);
      break;
    case Target.VERSION:
      result = cmpBig(BigInt(kv.version), u?.$case === 'version' ? u.value : 0n);
      break;
    case Target.LEASE:
      result = cmpBig(kv.lease, u?.$case === 'lease' ? u.value : 0n);
      break;
    default:
      // An unknown target compares as equal (etcd leaves result at 0).
      result = 0;
  }
  switch (c.result) {
    case Result.EQUAL:
      return result === 0;
    case Result.NOT_EQUAL:
      return result !== 0;
    case Result.GREATER:
      return result > 0;
    case Result.LESS:
      return result < 0;
    default:
      return true;
  }
}

const EMPTY = Buffer.alloc(0);

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
