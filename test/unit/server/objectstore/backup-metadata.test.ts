import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  fromObjectMetadata,
  hexId,
  toObjectMetadata,
} from '../../../../server/src/objectstore/backup-metadata.js';

describe('backup object metadata', () => {
  const m = {
    sha256: 'a'.repeat(64),
    revision: 12345,
    memberId: 0x8e9e05c52164694n,
    clusterId: 0xcdf818194e3a8c32n,
  };

  it('maps to the x-amz-meta-* names, ids as 16 hex digits', () => {
    assert.deepEqual(toObjectMetadata(m), {
      sha256: 'a'.repeat(64),
      revision: '12345',
      'member-id': '08e9e05c52164694',
      'cluster-id': 'cdf818194e3a8c32',
    });
    assert.equal(hexId(1n), '0000000000000001');
    assert.equal(hexId(0xffffffffffffffffn), 'ffffffffffffffff');
  });

  it('round-trips, and reads upper-case hex as S3-compatible servers may return it', () => {
    assert.deepEqual(fromObjectMetadata(toObjectMetadata(m)), m);
    assert.deepEqual(fromObjectMetadata({ sha256: 'A'.repeat(64), 'member-id': 'FF' }), {
      sha256: 'a'.repeat(64),
      memberId: 255n,
    });
  });

  it('leaves out what is missing or malformed instead of guessing', () => {
    assert.deepEqual(fromObjectMetadata({}), {});
    assert.deepEqual(
      fromObjectMetadata({
        sha256: 'abc',
        revision: '-1',
        'member-id': '1'.repeat(17),
        'cluster-id': 'xyz',
      }),
      {},
    );
    assert.deepEqual(fromObjectMetadata({ revision: '9007199254740993' }), {});
  });
});
