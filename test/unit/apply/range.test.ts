/**
 * executeRange against etcd's Range semantics (etcd.md §1.4). The expected results of the sort, limit
 * and filter cases were taken from a real etcd 3.4.23 holding the same data at the same revisions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { executeRange } from '../../../server/src/apply/range.js';
import { MvccError } from '../../../server/src/mvcc/errors.js';
import type { KVStore } from '../../../server/src/mvcc/kvstore.js';
import {
  RangeRequest_SortOrder as SortOrder,
  RangeRequest_SortTarget as SortTarget,
} from '../../../server/src/proto/gen/etcdserverpb/rpc.js';
import type { RangeRequest } from '../../../server/src/proto/gen/etcdserverpb/rpc.js';
import { closeStores, deleteKeys, keys, kvs, openStore, putAll, rangeReq } from './requests.js';

after(closeStores);

/**
 * Revisions: a=3@2 b=1@3 c=2@4 d=1@5 e=0@6 f=2@7 c=2@8 a=3@9 a=3@10, so
 *   key      a  b  c  d  e  f
 *   value    3  1  2  1  0  2
 *   version  3  1  2  1  1  1
 *   create   2  3  4  5  6  7
 *   mod     10  3  8  5  6  7
 */
const DATA: [string, string][] = [
  ['a', '3'],
  ['b', '1'],
  ['c', '2'],
  ['d', '1'],
  ['e', '0'],
  ['f', '2'],
  ['c', '2'],
  ['a', '3'],
  ['a', '3'],
];

describe('executeRange', () => {
  let store: KVStore;
  before(async () => {
    store = openStore().store;
    assert.equal(await putAll(store, DATA), 10);
  });

  /** Range over [a, g) with extra fields. */
  const run = (p: Partial<RangeRequest> = {}) => executeRange(store.read(), rangeReq('a', 'g', p));
  const short = (p: Partial<RangeRequest>) => {
    const o = run(p);
    return { kvs: kvs(o.kvs), more: o.more, count: o.count };
  };

  it('reads everything in key order with the current revision', () => {
    const o = run();
    assert.deepEqual(kvs(o.kvs), ['a:3', 'b:1', 'c:2', 'd:1', 'e:0', 'f:2']);
    assert.equal(o.more, false);
    assert.equal(o.count, 6);
    assert.equal(o.rev, 10);
    const a = o.kvs[0]!;
    assert.deepEqual([a.createRevision, a.modRevision, a.version, a.lease], [2, 10, 3, 0n]);
  });

  it('reads a single key when range_end is empty, and nothing for a missing key', () => {
    const one = executeRange(store.read(), rangeReq('c'));
    assert.deepEqual(kvs(one.kvs), ['c:2']);
    assert.equal(one.count, 1);
    const none = executeRange(store.read(), rangeReq('zz'));
    assert.deepEqual(none.kvs, []);
    assert.equal(none.count, 0);
    assert.equal(none.more, false);
    assert.equal(none.rev, 10);
  });

  it('limit: truncates, sets more, and count ignores the limit', () => {
    assert.deepEqual(short({ limit: 2n }), { kvs: ['a:3', 'b:1'], more: true, count: 6 });
    assert.deepEqual(short({ limit: 5n }).more, true);
    assert.deepEqual(short({ limit: 6n }), {
      kvs: ['a:3', 'b:1', 'c:2', 'd:1', 'e:0', 'f:2'],
      more: false,
      count: 6,
    });
    assert.deepEqual(short({ limit: 7n }).more, false);
    assert.deepEqual(short({ limit: 0n }).kvs.length, 6, 'limit 0 = unlimited');
  });

  it('a negative limit is no limit', () => {
    assert.deepEqual(short({ limit: -3n }), {
      kvs: ['a:3', 'b:1', 'c:2', 'd:1', 'e:0', 'f:2'],
      more: false,
      count: 6,
    });
  });

  it('min/max filters prune kvs but not count; more reflects what the filter left', () => {
    assert.deepEqual(short({ minModRevision: 5n, limit: 2n }), { kvs: ['a:3', 'c:2'], more: true, count: 6 });
    assert.deepEqual(short({ minModRevision: 8n }), { kvs: ['a:3', 'c:2'], more: false, count: 6 });
    assert.deepEqual(short({ minModRevision: 8n, limit: 2n }), {
      kvs: ['a:3', 'c:2'],
      more: false,
      count: 6,
    });
    assert.deepEqual(short({ maxModRevision: 7n, limit: 10n }), {
      kvs: ['b:1', 'd:1', 'e:0', 'f:2'],
      more: false,
      count: 6,
    });
    assert.deepEqual(short({ maxCreateRevision: 3n }), { kvs: ['a:3', 'b:1'], more: false, count: 6 });
    assert.deepEqual(short({ minCreateRevision: 6n, limit: 1n }), { kvs: ['e:0'], more: true, count: 6 });
    assert.deepEqual(short({ minModRevision: 6n, maxModRevision: 8n, maxCreateRevision: 6n }).kvs, [
      'c:2',
      'e:0',
    ]);
  });

  it('a filter is applied before the limit (no push-down), so later matches are found', () => {
    // Keys with mod >= 7 are a (10), c (8), f (7): with limit 1 the first match is a, and there are more.
    assert.deepEqual(short({ minModRevision: 7n, limit: 1n }), { kvs: ['a:3'], more: true, count: 6 });
    // create >= 5 with limit 2: d, e (f remains).
    assert.deepEqual(short({ minCreateRevision: 5n, limit: 2n }), {
      kvs: ['d:1', 'e:0'],
      more: true,
      count: 6,
    });
  });

  it('sorts by every target, ascending and descending, ties in key order', () => {
    const order = (target: SortTarget, o: SortOrder) => short({ sortTarget: target, sortOrder: o }).kvs;
    assert.deepEqual(order(SortTarget.KEY, SortOrder.ASCEND), ['a:3', 'b:1', 'c:2', 'd:1', 'e:0', 'f:2']);
    assert.deepEqual(order(SortTarget.KEY, SortOrder.DESCEND), ['f:2', 'e:0', 'd:1', 'c:2', 'b:1', 'a:3']);
    assert.deepEqual(order(SortTarget.VALUE, SortOrder.ASCEND), ['e:0', 'b:1', 'd:1', 'c:2', 'f:2', 'a:3']);
    assert.deepEqual(order(SortTarget.VALUE, SortOrder.DESCEND), ['a:3', 'c:2', 'f:2', 'b:1', 'd:1', 'e:0']);
    assert.deepEqual(order(SortTarget.VERSION, SortOrder.ASCEND), ['b:1', 'd:1', 'e:0', 'f:2', 'c:2', 'a:3']);
    assert.deepEqual(order(SortTarget.VERSION, SortOrder.DESCEND), [
      'a:3',
      'c:2',
      'b:1',
      'd:1',
      'e:0',
      'f:2',
    ]);
    assert.deepEqual(order(SortTarget.CREATE, SortOrder.ASCEND), ['a:3', 'b:1', 'c:2', 'd:1', 'e:0', 'f:2']);
    assert.deepEqual(order(SortTarget.CREATE, SortOrder.DESCEND), ['f:2', 'e:0', 'd:1', 'c:2', 'b:1', 'a:3']);
    assert.deepEqual(order(SortTarget.MOD, SortOrder.ASCEND), ['b:1', 'd:1', 'e:0', 'f:2', 'c:2', 'a:3']);
    assert.deepEqual(order(SortTarget.MOD, SortOrder.DESCEND), ['a:3', 'c:2', 'f:2', 'e:0', 'd:1', 'b:1']);
  });

  it('an explicit order with a limit sorts everything, then truncates (count unaffected)', () => {
    assert.deepEqual(short({ sortTarget: SortTarget.VALUE, sortOrder: SortOrder.ASCEND, limit: 2n }), {
      kvs: ['e:0', 'b:1'],
      more: true,
      count: 6,
    });
    assert.deepEqual(short({ sortTarget: SortTarget.VALUE, sortOrder: SortOrder.DESCEND, limit: 3n }), {
      kvs: ['a:3', 'c:2', 'f:2'],
      more: true,
      count: 6,
    });
    assert.deepEqual(short({ sortTarget: SortTarget.MOD, sortOrder: SortOrder.DESCEND, limit: 2n }), {
      kvs: ['a:3', 'c:2'],
      more: true,
      count: 6,
    });
    assert.deepEqual(short({ sortTarget: SortTarget.VALUE, sortOrder: SortOrder.DESCEND, limit: 1n }), {
      kvs: ['a:3'],
      more: true,
      count: 6,
    });
  });

  it('DESCEND by key with a limit returns the last keys', () => {
    assert.deepEqual(short({ sortOrder: SortOrder.DESCEND, limit: 2n }), {
      kvs: ['f:2', 'e:0'],
      more: true,
      count: 6,
    });
    assert.deepEqual(short({ sortOrder: SortOrder.DESCEND, limit: 6n }).more, false);
    assert.deepEqual(short({ sortOrder: SortOrder.ASCEND, limit: 2n }), {
      kvs: ['a:3', 'b:1'],
      more: true,
      count: 6,
    });
    // With a filter, the descending walk must not stop early either: mod <= 6 are b, d, e.
    assert.deepEqual(short({ sortOrder: SortOrder.DESCEND, maxModRevision: 6n, limit: 2n }), {
      kvs: ['e:0', 'd:1'],
      more: true,
      count: 6,
    });
  });

  it("non-KEY target with order NONE: ascending over the limit+1 keys fetched by key (etcd's quirk)", () => {
    // etcd pushes the limit down before applying the implied ASCEND: it fetches a, b, c (limit+1), sorts
    // them by value (b:1, c:2, a:3) and truncates. A full sort would have given e:0, b:1.
    assert.deepEqual(short({ sortTarget: SortTarget.VALUE, limit: 2n }), {
      kvs: ['b:1', 'c:2'],
      more: true,
      count: 6,
    });
    // version, fetched a(3) b(1) c(2) d(1) → b, d, c.
    assert.deepEqual(short({ sortTarget: SortTarget.VERSION, limit: 3n }), {
      kvs: ['b:1', 'd:1', 'c:2'],
      more: true,
      count: 6,
    });
    // Without a limit it is a plain ascending sort.
    assert.deepEqual(short({ sortTarget: SortTarget.MOD }).kvs, ['b:1', 'd:1', 'e:0', 'f:2', 'c:2', 'a:3']);
    // With a filter there is no push-down: mod >= 3 (all) sorted by value, first two.
    assert.deepEqual(short({ sortTarget: SortTarget.VALUE, limit: 2n, minModRevision: 3n }).kvs, [
      'e:0',
      'b:1',
    ]);
  });

  it('keys_only drops values and keeps every other field', () => {
    const o = run({ keysOnly: true, limit: 1n });
    assert.equal(o.kvs.length, 1);
    const a = o.kvs[0]!;
    assert.equal(a.key.toString(), 'a');
    assert.equal(a.value.length, 0);
    assert.deepEqual([a.createRevision, a.modRevision, a.version], [2, 10, 3]);
    assert.equal(o.more, true);
    assert.equal(o.count, 6);
    // The store's own copy is untouched.
    assert.deepEqual(kvs(run({ limit: 1n }).kvs), ['a:3']);
  });

  it('keys_only with a VALUE sort still sorts by the values', () => {
    const o = run({ keysOnly: true, sortTarget: SortTarget.VALUE, sortOrder: SortOrder.DESCEND });
    assert.deepEqual(keys(o.kvs), ['a', 'c', 'f', 'b', 'd', 'e']);
    assert.ok(o.kvs.every((kv) => kv.value.length === 0));
  });

  it('count_only returns no kvs and the full count, whatever the limit and filters', () => {
    for (const p of [{}, { limit: 1n }, { minModRevision: 9n }, { maxCreateRevision: 2n, limit: 1n }]) {
      const o = run({ countOnly: true, ...p });
      assert.deepEqual(
        o.kvs,
        [],
        JSON.stringify(p, (_k, v: unknown) => String(v)),
      );
      assert.equal(o.count, 6);
      assert.equal(o.more, false);
    }
    assert.equal(run({ countOnly: true, revision: 4n }).count, 3);
  });

  it('reads at a past revision, reporting the current revision', () => {
    const o = run({ revision: 4n });
    assert.deepEqual(kvs(o.kvs), ['a:3', 'b:1', 'c:2']);
    assert.equal(o.count, 3);
    assert.equal(o.rev, 10, 'header revision is the current one');
    const c = o.kvs[2]!;
    assert.deepEqual([c.createRevision, c.modRevision, c.version], [4, 4, 1]);
    assert.deepEqual(short({ revision: 4n, limit: 1n }), { kvs: ['a:3'], more: true, count: 3 });
    assert.deepEqual(kvs(run({ revision: 1n }).kvs), [], 'revision 1 is the empty store');
    assert.equal(run({ revision: 10n }).count, 6);
    assert.equal(run({ revision: -5n }).count, 6, 'a negative revision reads the latest');
  });

  it('range_end "\\0" reads every key >= key; key "\\0" with it reads everything', () => {
    const from = executeRange(store.read(), rangeReq('c', '\0'));
    assert.deepEqual(keys(from.kvs), ['c', 'd', 'e', 'f']);
    assert.equal(from.count, 4);
    const all = executeRange(store.read(), rangeReq('\0', '\0', { limit: 1n }));
    assert.deepEqual(keys(all.kvs), ['a']);
    assert.equal(all.more, true);
    assert.equal(all.count, 6);
  });

  it('a range_end before the key matches nothing', () => {
    const o = executeRange(store.read(), rangeReq('d', 'b'));
    assert.deepEqual(o.kvs, []);
    assert.equal(o.count, 0);
  });
});

describe('executeRange on other data', () => {
  it('prefix ranges: the end is the key with its last byte incremented', async () => {
    const { store } = openStore();
    await putAll(store, [
      ['fo', '0'],
      ['foo', '1'],
      ['foo/a', '2'],
      ['foo/b', '3'],
      ['foo\xff', '4'],
      ['fop', '5'],
      ['a\xff', '6'],
      ['a\xff\xff', '7'],
      ['b', '8'],
    ]);
    assert.deepEqual(keys(executeRange(store.read(), rangeReq('foo', 'fop')).kvs), [
      'foo',
      'foo/a',
      'foo/b',
      'foo\xff',
    ]);
    // The prefix end of "a\xff" is "b" (trailing 0xff dropped).
    assert.deepEqual(keys(executeRange(store.read(), rangeReq('a\xff', 'b')).kvs), ['a\xff', 'a\xff\xff']);
  });

  it('does not return deleted keys, at the latest revision, but does at an earlier one', async () => {
    const { store } = openStore();
    await putAll(store, [
      ['k1', 'a'],
      ['k2', 'b'],
      ['k3', 'c'],
    ]);
    const delRev = await deleteKeys(store, 'k2');
    assert.equal(delRev, 5);
    const now = executeRange(store.read(), rangeReq('k', 'l'));
    assert.deepEqual(keys(now.kvs), ['k1', 'k3']);
    assert.equal(now.count, 2);
    assert.deepEqual(keys(executeRange(store.read(), rangeReq('k', 'l', { revision: 4n })).kvs), [
      'k1',
      'k2',
      'k3',
    ]);
    // Re-created: version restarts at 1 with a new create revision.
    await putAll(store, [['k2', 'again']]);
    const k2 = executeRange(store.read(), rangeReq('k2')).kvs[0]!;
    assert.deepEqual([k2.createRevision, k2.modRevision, k2.version], [6, 6, 1]);
  });

  it('a future revision fails with ERR_MVCC_FUTURE_REV, a compacted one with ERR_MVCC_COMPACTED', async () => {
    const { store } = openStore();
    await putAll(store, [
      ['x', '1'],
      ['x', '2'],
      ['x', '3'],
      ['x', '4'],
    ]);
    assert.equal(store.currentRev, 5);
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        assert.ok(err instanceof MvccError, String(err));
        return err.code;
      }
      return 'ok';
    };
    assert.equal(
      code(() => executeRange(store.read(), rangeReq('x', '', { revision: 6n }))),
      'ERR_MVCC_FUTURE_REV',
    );
    assert.equal(
      code(() => executeRange(store.read(), rangeReq('x', '', { revision: 6n, countOnly: true }))),
      'ERR_MVCC_FUTURE_REV',
    );
    const c = await store.compact(4);
    await c.physical;
    assert.equal(
      code(() => executeRange(store.read(), rangeReq('x', '', { revision: 3n }))),
      'ERR_MVCC_COMPACTED',
    );
    assert.equal(
      code(() => executeRange(store.read(), rangeReq('x', '', { revision: 3n, countOnly: true }))),
      'ERR_MVCC_COMPACTED',
    );
    // Exactly at the compaction revision still reads.
    const at = executeRange(store.read(), rangeReq('x', '', { revision: 4n }));
    assert.deepEqual(kvs(at.kvs), ['x:3']);
    assert.equal(at.rev, 5);
    assert.equal(
      code(() => executeRange(store.read(), rangeReq('x'))),
      'ok',
    );
  });

  it('stable ties: equal sort values keep key order in both directions', async () => {
    const { store } = openStore();
    // Put in an order unrelated to key order so a stable sort is required, not luck.
    await putAll(store, [
      ['k5', 'same'],
      ['k2', 'same'],
      ['k9', 'same'],
      ['k1', 'same'],
      ['k7', 'same'],
      ['k3', 'other'],
    ]);
    const r = (o: SortOrder, t: SortTarget) =>
      keys(executeRange(store.read(), rangeReq('k', 'l', { sortOrder: o, sortTarget: t })).kvs);
    assert.deepEqual(r(SortOrder.ASCEND, SortTarget.VALUE), ['k3', 'k1', 'k2', 'k5', 'k7', 'k9']);
    assert.deepEqual(r(SortOrder.DESCEND, SortTarget.VALUE), ['k1', 'k2', 'k5', 'k7', 'k9', 'k3']);
    assert.deepEqual(r(SortOrder.ASCEND, SortTarget.VERSION), ['k1', 'k2', 'k3', 'k5', 'k7', 'k9']);
    assert.deepEqual(r(SortOrder.DESCEND, SortTarget.VERSION), ['k1', 'k2', 'k3', 'k5', 'k7', 'k9']);
  });
});
