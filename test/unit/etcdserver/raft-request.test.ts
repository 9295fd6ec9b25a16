import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRaftRequest, encodeRaftRequest } from '../../../server/src/etcdserver/raft-request.js';

describe('raft request encoding', () => {
  it('round-trips a put with its header id (a 64-bit bigint)', () => {
    const id = 0xfedc_ba98_7654_3210n;
    const put = {
      key: Buffer.from('foo'),
      value: Buffer.from('bar'),
      lease: 0x1234_5678_9abcn,
      prevKv: true,
      ignoreValue: false,
      ignoreLease: false,
    };
    const { id: got, request } = decodeRaftRequest(encodeRaftRequest(id, { put }));
    assert.equal(got, id);
    assert.equal(request.header?.ID, id);
    assert.ok(request.put !== undefined);
    assert.deepEqual(Buffer.from(request.put.key), put.key);
    assert.deepEqual(Buffer.from(request.put.value), put.value);
    assert.equal(request.put.lease, put.lease);
    assert.equal(request.put.prevKv, true);
    assert.equal(request.deleteRange, undefined);
    assert.equal(request.txn, undefined);
    assert.equal(request.compaction, undefined);
  });

  it('round-trips a compaction and a lease grant, and only the given field is set', () => {
    const c = decodeRaftRequest(encodeRaftRequest(1n, { compaction: { revision: 77n, physical: true } }));
    assert.equal(c.id, 1n);
    assert.deepEqual(c.request.compaction, { revision: 77n, physical: true });
    assert.equal(c.request.put, undefined);

    const g = decodeRaftRequest(encodeRaftRequest(2n ** 63n + 5n, { leaseGrant: { TTL: 60n, ID: 99n } }));
    assert.equal(g.id, 2n ** 63n + 5n);
    assert.deepEqual(g.request.leaseGrant, { TTL: 60n, ID: 99n });
    assert.equal(g.request.compaction, undefined);
  });

  it('round-trips a delete range', () => {
    const body = { deleteRange: { key: Buffer.from('a'), rangeEnd: Buffer.from('z'), prevKv: false } };
    const d = decodeRaftRequest(encodeRaftRequest(3n, body));
    assert.equal(d.id, 3n);
    assert.ok(d.request.deleteRange !== undefined);
    assert.deepEqual(Buffer.from(d.request.deleteRange.key), Buffer.from('a'));
    assert.deepEqual(Buffer.from(d.request.deleteRange.rangeEnd), Buffer.from('z'));
  });

  it('throws on bytes that do not decode', () => {
    assert.throws(() => decodeRaftRequest(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])));
  });
});
