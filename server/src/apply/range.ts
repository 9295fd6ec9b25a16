import type { KeyValue, ReadView } from '../mvcc/kv.js';
import type { RangeRequest } from '../proto/gen/etcdserverpb/rpc.js';
import {
  RangeRequest_SortOrder as SortOrder,
  RangeRequest_SortTarget as SortTarget,
} from '../proto/gen/etcdserverpb/rpc.js';
import { toKeyRange, toNumber } from './ranges.js';

/** What a Range computes; the server turns it into a RangeResponse. */
export interface RangeOutcome {
  readonly kvs: KeyValue[];
  readonly more: boolean;
  readonly count: number;
  /** The view's revision (the response header revision). */
  readonly rev: number;
}

type Compare = (a: KeyValue, b: KeyValue) => number;

const BY_TARGET: Record<SortTarget, Compare | undefined> = {
  [SortTarget.KEY]: (a, b) => Buffer.compare(a.key, b.key),
  [SortTarget.VERSION]: (a, b) => a.version - b.version,
  [SortTarget.CREATE]: (a, b) => a.createRevision - b.createRevision,
  [SortTarget.MOD]: (a, b) => a.modRevision - b.modRevision,
  [SortTarget.VALUE]: (a, b) => Buffer.compare(a.value, b.value),
  [SortTarget.UNRECOGNIZED]: undefined,
};

/**
 * Range with etcd's semantics (server/etcdserver/txn/range.go):
 * - `count` is the number of keys in the range at the revision, whatever the limit and filters;
 * - min/max revision filters and explicit sorts are applied after fetching everything, then truncated;
 * - a non-KEY sort target without an order sorts ascending — over the limit+1 keys fetched by key, as
 *   etcd does (the limit is pushed down before the implied order is considered);
 * - `more` is set when more matching keys than the limit existed.
 * Sorting is stable, so ties keep key order.
 */
export function executeRange(view: ReadView, r: RangeRequest): RangeOutcome {
  const limitReq = toNumber(r.limit);
  const hasFilter =
    r.minModRevision !== 0n ||
    r.maxModRevision !== 0n ||
    r.minCreateRevision !== 0n ||
    r.maxCreateRevision !== 0n;
  // Key-ordered results can push the limit down into the index walk (descending keys walk backwards);
  // the results are identical to fetching everything and sorting.
  const keyOrdered = r.sortTarget === SortTarget.KEY && !hasFilter;
  const pushDown = keyOrdered || (r.sortOrder === SortOrder.NONE && !hasFilter);
  let limit = pushDown && limitReq > 0 ? limitReq + 1 : 0;
  const descending = keyOrdered && r.sortOrder === SortOrder.DESCEND;
  if (!pushDown) limit = 0;
  const rr = view.range(toKeyRange(r.key, r.rangeEnd), {
    limit,
    rev: toNumber(r.revision),
    countOnly: r.countOnly,
    descending,
  });
  let kvs = rr.kvs;
  if (r.maxModRevision !== 0n) kvs = kvs.filter((kv) => kv.modRevision <= toNumber(r.maxModRevision));
  if (r.minModRevision !== 0n) kvs = kvs.filter((kv) => kv.modRevision >= toNumber(r.minModRevision));
  if (r.maxCreateRevision !== 0n)
    kvs = kvs.filter((kv) => kv.createRevision <= toNumber(r.maxCreateRevision));
  if (r.minCreateRevision !== 0n)
    kvs = kvs.filter((kv) => kv.createRevision >= toNumber(r.minCreateRevision));

  let order = r.sortOrder;
  if (r.sortTarget !== SortTarget.KEY && order === SortOrder.NONE) order = SortOrder.ASCEND;
  if (order !== SortOrder.NONE && !descending) {
    const cmp = BY_TARGET[r.sortTarget];
    if (cmp !== undefined) {
      if (order === SortOrder.ASCEND) kvs.sort(cmp);
      else kvs.sort((a, b) => cmp(b, a));
    }
  }
  let more = false;
  if (limitReq > 0 && kvs.length > limitReq) {
    kvs = kvs.slice(0, limitReq);
    more = true;
  }
  if (r.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: EMPTY }));
  return { kvs, more, count: rr.count, rev: rr.rev };
}

const EMPTY = Buffer.alloc(0);
