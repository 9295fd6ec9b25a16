import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bytesToRevision,
  compareRevision,
  isTombstoneBytes,
  revisionToBytes,
} from '../../../server/src/mvcc/revision.js';

describe('revision bytes', () => {
  it('use etcd layout: 8-byte big-endian main, "_", 8-byte big-endian sub, optional "t"', () => {
    const bytes = revisionToBytes({ main: 0x0102, sub: 3 });
    assert.equal(bytes.toString('hex'), '0000000000000102' + '5f' + '0000000000000003');
    const tomb = revisionToBytes({ main: 5, sub: 0 }, true);
    assert.equal(tomb.length, 18);
    assert.equal(tomb[17], 0x74);
    assert.equal(isTombstoneBytes(tomb), true);
    assert.equal(isTombstoneBytes(bytes), false);
    assert.deepEqual(bytesToRevision(tomb), { main: 5, sub: 0 });
  });

  it('sort bytewise in revision order', () => {
    const revs = [
      { main: 1, sub: 0 },
      { main: 1, sub: 1 },
      { main: 2, sub: 0 },
      { main: 255, sub: 0 },
      { main: 256, sub: 0 },
      { main: 2 ** 40, sub: 7 },
    ];
    for (let i = 1; i < revs.length; i++) {
      assert.ok(Buffer.compare(revisionToBytes(revs[i - 1]!), revisionToBytes(revs[i]!)) < 0);
      assert.ok(compareRevision(revs[i - 1]!, revs[i]!) < 0);
    }
  });

  it('reject malformed keys', () => {
    assert.throws(() => bytesToRevision(Buffer.alloc(5)), /malformed/);
    const bad = revisionToBytes({ main: 1, sub: 1 });
    bad[8] = 0;
    assert.throws(() => bytesToRevision(bad), /malformed/);
  });
});
