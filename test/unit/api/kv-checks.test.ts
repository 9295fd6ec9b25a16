/**
 * Request shape checks (etcd v3rpc/key.go: checkRangeRequest, checkPutRequest, checkDeleteRequest,
 * checkTxnRequest, checkIntervals). Every expectation below was also run against etcd 3.4.23
 * (max-txn-ops 128), except the sort-option check, which etcd only has since 3.5 (3.4 panics).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkDeleteRequest,
  checkPutRequest,
  checkRangeRequest,
  checkTxnRequest,
} from '../../../server/src/api/kv-checks.js';
import { EtcdError } from '../../../server/src/errors.js';
import type { RequestOp, TxnRequest } from '../../../server/src/proto/gen/etcdserverpb/rpc.js';
import {
  RangeRequest_SortOrder as SortOrder,
  RangeRequest_SortTarget as SortTarget,
} from '../../../server/src/proto/gen/etcdserverpb/rpc.js';
import {
  cmp,
  delOp,
  delReq,
  emptyOp,
  putOp,
  putReq,
  rangeOp,
  rangeReq,
  txnOp,
  txnReq,
} from '../apply/requests.js';

const MAX = 128;

function code(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof EtcdError, `not an EtcdError: ${String(err)}`);
    return err.code;
  }
  return 'ok';
}

const txn = (p: Partial<TxnRequest>) => code(() => checkTxnRequest(txnReq(p), MAX));
const puts = (n: number, prefix = 'k'): RequestOp[] =>
  Array.from({ length: n }, (_, i) => putOp(`${prefix}${i}`, 'v'));
const cmps = (n: number) => Array.from({ length: n }, (_, i) => cmp(`c${i}`, 'MOD', 'EQUAL', 0n));

describe('checkRangeRequest', () => {
  it('needs a key', () => {
    assert.equal(
      code(() => checkRangeRequest(rangeReq(''))),
      'ErrEmptyKey',
    );
    assert.equal(
      code(() => checkRangeRequest(rangeReq('', 'z'))),
      'ErrEmptyKey',
    );
    assert.equal(
      code(() => checkRangeRequest(rangeReq('\0', '\0'))),
      'ok',
    );
  });

  it('accepts every valid sort order and target', () => {
    for (const o of [SortOrder.NONE, SortOrder.ASCEND, SortOrder.DESCEND]) {
      for (const t of [
        SortTarget.KEY,
        SortTarget.VERSION,
        SortTarget.CREATE,
        SortTarget.MOD,
        SortTarget.VALUE,
      ]) {
        assert.equal(
          code(() => checkRangeRequest(rangeReq('a', '', { sortOrder: o, sortTarget: t }))),
          'ok',
        );
      }
    }
  });

  it('refuses sort enum values etcd does not define with ErrInvalidSortOption', () => {
    for (const sortOrder of [3, 7, -1, 1 << 20] as SortOrder[]) {
      assert.equal(
        code(() => checkRangeRequest(rangeReq('a', '', { sortOrder }))),
        'ErrInvalidSortOption',
        `order ${sortOrder}`,
      );
    }
    for (const sortTarget of [5, 99, -1] as SortTarget[]) {
      assert.equal(
        code(() => checkRangeRequest(rangeReq('a', '', { sortTarget }))),
        'ErrInvalidSortOption',
        `target ${sortTarget}`,
      );
    }
    // Empty key is checked first.
    assert.equal(
      code(() => checkRangeRequest(rangeReq('', '', { sortTarget: 9 as SortTarget }))),
      'ErrEmptyKey',
    );
  });
});

describe('checkPutRequest / checkDeleteRequest', () => {
  it('put: key, then value vs ignore_value, then lease vs ignore_lease', () => {
    assert.equal(
      code(() => checkPutRequest(putReq('', 'v'))),
      'ErrEmptyKey',
    );
    assert.equal(
      code(() => checkPutRequest(putReq('k', 'v', { ignoreValue: true }))),
      'ErrValueProvided',
    );
    assert.equal(
      code(() => checkPutRequest(putReq('k', '', { ignoreValue: true }))),
      'ok',
    );
    assert.equal(
      code(() => checkPutRequest(putReq('k', '', { ignoreLease: true, lease: 3n }))),
      'ErrLeaseProvided',
    );
    assert.equal(
      code(() => checkPutRequest(putReq('k', '', { ignoreLease: true }))),
      'ok',
    );
    assert.equal(
      code(() => checkPutRequest(putReq('k', 'v', { lease: 3n }))),
      'ok',
    );
    assert.equal(
      code(() => checkPutRequest(putReq('k', '', { ignoreValue: true, ignoreLease: true }))),
      'ok',
    );
    assert.equal(
      code(() => checkPutRequest(putReq('k', '', {}))),
      'ok',
      'an empty value is a value',
    );
  });

  it('delete: needs a key', () => {
    assert.equal(
      code(() => checkDeleteRequest(delReq(''))),
      'ErrEmptyKey',
    );
    assert.equal(
      code(() => checkDeleteRequest(delReq('', '\0'))),
      'ErrEmptyKey',
    );
    assert.equal(
      code(() => checkDeleteRequest(delReq('a', '\0'))),
      'ok',
    );
  });
});

describe('checkTxnRequest: sizes', () => {
  it('128 ops per branch and 128 compares are fine, 129 are not', () => {
    assert.equal(txn({ success: puts(128) }), 'ok');
    assert.equal(txn({ success: puts(129) }), 'ErrTooManyOps');
    assert.equal(txn({ failure: puts(128) }), 'ok');
    assert.equal(txn({ failure: puts(129) }), 'ErrTooManyOps');
    assert.equal(txn({ compare: cmps(128), success: puts(128), failure: puts(128, 'f') }), 'ok');
    assert.equal(txn({ compare: cmps(129) }), 'ErrTooManyOps');
  });

  it('follows --max-txn-ops', () => {
    assert.equal(
      code(() => checkTxnRequest(txnReq({ success: puts(3) }), 3)),
      'ok',
    );
    assert.equal(
      code(() => checkTxnRequest(txnReq({ success: puts(4) }), 3)),
      'ErrTooManyOps',
    );
  });

  it('nested txns count against what their parent leaves (max - parent opc)', () => {
    // 127 ops (126 puts + the txn op) leave 1.
    assert.equal(txn({ success: [...puts(126), txnOp({ success: puts(1, 'n') })] }), 'ok');
    assert.equal(txn({ success: [...puts(126), txnOp({ success: puts(2, 'n') })] }), 'ErrTooManyOps');
    // 128 ops leave 0: only an empty nested txn fits.
    assert.equal(txn({ success: [...puts(127), txnOp({})] }), 'ok');
    assert.equal(txn({ success: [...puts(127), txnOp({ success: puts(1, 'n') })] }), 'ErrTooManyOps');
    // 4 ops (3 puts + the txn) leave 124; compares of the nested txn count too.
    assert.equal(txn({ success: [...puts(3), txnOp({ success: puts(124, 'n') })] }), 'ok');
    assert.equal(txn({ success: [...puts(3), txnOp({ success: puts(125, 'n') })] }), 'ErrTooManyOps');
    assert.equal(txn({ success: [...puts(3), txnOp({ compare: cmps(125) })] }), 'ErrTooManyOps');
    // The parent's compares count in its opc.
    assert.equal(txn({ compare: cmps(100), success: [txnOp({ success: puts(28, 'n') })] }), 'ok');
    assert.equal(txn({ compare: cmps(100), success: [txnOp({ success: puts(29, 'n') })] }), 'ErrTooManyOps');
    // In the failure branch as well.
    assert.equal(txn({ failure: [...puts(100), txnOp({ failure: puts(29, 'n') })] }), 'ErrTooManyOps');
  });

  it('the budget shrinks level by level', () => {
    // Level 1: 1 op → 127 left. Level 2: 3 ops → 124 left.
    assert.equal(
      txn({ success: [txnOp({ success: [...puts(2, 'n'), txnOp({ success: puts(124, 'm') })] })] }),
      'ok',
    );
    assert.equal(
      txn({ success: [txnOp({ success: [...puts(2, 'n'), txnOp({ success: puts(125, 'm') })] })] }),
      'ErrTooManyOps',
    );
  });
});

describe('checkTxnRequest: op shapes', () => {
  it('compares need a key', () => {
    assert.equal(txn({ compare: [cmp('', 'MOD', 'EQUAL', 0n)] }), 'ErrEmptyKey');
    assert.equal(
      txn({ compare: [cmp('a', 'MOD', 'EQUAL', 0n), cmp('', 'VALUE', 'EQUAL', 'x')] }),
      'ErrEmptyKey',
    );
    assert.equal(txn({ success: [txnOp({ compare: [cmp('', 'MOD', 'EQUAL', 0n)] })] }), 'ErrEmptyKey');
  });

  it('each op is checked like the standalone request', () => {
    assert.equal(txn({ success: [rangeOp('')] }), 'ErrEmptyKey');
    assert.equal(txn({ success: [delOp('')] }), 'ErrEmptyKey');
    assert.equal(txn({ failure: [putOp('')] }), 'ErrEmptyKey');
    assert.equal(txn({ success: [putOp('a', 'x', { ignoreValue: true })] }), 'ErrValueProvided');
    assert.equal(txn({ success: [putOp('a', '', { ignoreLease: true, lease: 3n })] }), 'ErrLeaseProvided');
    assert.equal(
      txn({ success: [rangeOp('a', '', { sortTarget: 7 as SortTarget })] }),
      'ErrInvalidSortOption',
    );
    assert.equal(
      txn({ failure: [txnOp({ success: [rangeOp('a', '', { sortOrder: 5 as SortOrder })] })] }),
      'ErrInvalidSortOption',
    );
    assert.equal(txn({ success: [txnOp({ failure: [putOp('')] })] }), 'ErrEmptyKey');
  });

  it('an empty RequestOp is ErrKeyNotFound, in either branch and nested', () => {
    assert.equal(txn({ success: [emptyOp()] }), 'ErrKeyNotFound');
    assert.equal(txn({ failure: [rangeOp('a'), emptyOp()] }), 'ErrKeyNotFound');
    assert.equal(txn({ success: [txnOp({ failure: [emptyOp()] })] }), 'ErrKeyNotFound');
  });

  it('shape errors win over duplicate keys (the interval check runs last)', () => {
    assert.equal(txn({ success: [putOp('a'), putOp('a'), putOp('')] }), 'ErrEmptyKey');
    assert.equal(txn({ success: [putOp('a'), putOp('a'), ...puts(127)] }), 'ErrTooManyOps');
  });
});

describe('checkTxnRequest: duplicate keys (checkIntervals)', () => {
  const dup = 'ErrDuplicateKey';

  it('two puts of one key in a branch', () => {
    assert.equal(txn({ success: [putOp('a'), putOp('a')] }), dup);
    assert.equal(txn({ failure: [putOp('a', '1'), putOp('b'), putOp('a', '2')] }), dup);
    assert.equal(txn({ success: [putOp('a')], failure: [putOp('a')] }), 'ok', 'different branches');
    assert.equal(txn({ success: [putOp('a'), putOp('b')] }), 'ok');
    assert.equal(txn({ success: [rangeOp('a'), putOp('a'), rangeOp('a')] }), 'ok', 'ranges do not count');
  });

  it('a put inside a range deleted by the same branch, in either order', () => {
    assert.equal(txn({ success: [putOp('a'), delOp('a')] }), dup);
    assert.equal(txn({ success: [delOp('a'), putOp('a')] }), dup);
    assert.equal(txn({ success: [delOp('a', 'c'), putOp('b')] }), dup);
    assert.equal(txn({ success: [delOp('a', 'c'), putOp('a')] }), dup);
    assert.equal(txn({ success: [delOp('a', 'c'), putOp('c')] }), 'ok', 'range_end is exclusive');
    assert.equal(txn({ success: [delOp('a'), putOp('a\0')] }), 'ok');
    assert.equal(txn({ success: [delOp('a', 'c'), delOp('b')] }), 'ok', 'overlapping deletes are fine');
    assert.equal(txn({ success: [delOp('a')], failure: [putOp('a')] }), 'ok');
  });

  it('nested txns: a nested put collides with the parent level', () => {
    assert.equal(txn({ success: [txnOp({ success: [putOp('a')] }), putOp('a')] }), dup);
    assert.equal(txn({ success: [txnOp({ failure: [putOp('a')] }), putOp('a')] }), dup);
    assert.equal(txn({ success: [delOp('a', 'c'), txnOp({ failure: [putOp('b')] })] }), dup);
    assert.equal(txn({ success: [delOp('b'), txnOp({ success: [txnOp({ success: [putOp('b')] })] })] }), dup);
    assert.equal(txn({ success: [txnOp({ success: [delOp('b')] }), putOp('b')] }), dup, 'a nested delete');
  });

  it('nested txns: then and else are exclusive, so one key in both is fine, even against a delete of the other', () => {
    assert.equal(txn({ success: [txnOp({ success: [putOp('a')], failure: [putOp('a')] })] }), 'ok');
    assert.equal(txn({ success: [txnOp({ success: [delOp('b')], failure: [putOp('b')] })] }), 'ok');
    assert.equal(txn({ success: [txnOp({ success: [putOp('b')], failure: [delOp('b')] })] }), 'ok');
  });

  it('nested txns: between sibling nested txns', () => {
    assert.equal(txn({ success: [txnOp({ success: [putOp('b')] }), txnOp({ success: [putOp('b')] })] }), dup);
    assert.equal(txn({ success: [txnOp({ failure: [putOp('b')] }), txnOp({ success: [putOp('b')] })] }), dup);
    assert.equal(txn({ success: [txnOp({ success: [putOp('b')] }), txnOp({ failure: [putOp('b')] })] }), dup);
    // An earlier sibling's delete covers a later sibling's put ...
    assert.equal(txn({ success: [txnOp({ success: [delOp('b')] }), txnOp({ success: [putOp('b')] })] }), dup);
    // ... but a later sibling's delete is not checked against an earlier sibling's put.
    assert.equal(
      txn({ success: [txnOp({ success: [putOp('b')] }), txnOp({ success: [delOp('b')] })] }),
      'ok',
    );
  });

  it('inside a nested branch the usual rules apply', () => {
    assert.equal(txn({ success: [txnOp({ failure: [putOp('x'), putOp('x')] })] }), dup);
    assert.equal(txn({ failure: [txnOp({ success: [delOp('x', 'y'), putOp('x1')] })] }), dup);
  });

  it('a delete with range_end "\\0" does not collide with puts (etcd 3.4.23 accepts these)', () => {
    // etcd's checkIntervals builds adt.NewStringAffineInterval(key, "\x00") for such a delete: the
    // interval [key, "\x00") is empty, so no put intersects it and etcd accepts the txn (it deletes
    // everything >= key, then puts). A client may rely on "delete all, then put" in one txn.
    assert.equal(txn({ success: [delOp('a', '\0'), putOp('b', '1')] }), 'ok');
    assert.equal(txn({ success: [delOp('\0', '\0'), putOp('b', '1')] }), 'ok');
    assert.equal(txn({ success: [txnOp({ success: [delOp('a', '\0')] }), putOp('b')] }), 'ok');
  });
});
