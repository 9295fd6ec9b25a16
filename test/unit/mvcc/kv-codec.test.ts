import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeKeyValue, encodeKeyValue } from '../../../server/src/mvcc/kv-codec.js';
import type { KeyValue } from '../../../server/src/mvcc/kv-codec.js';
import { KeyValue as PbKeyValue } from '../../../server/src/proto/gen/mvccpb/kv.js';

const samples: KeyValue[] = [
  {
    key: Buffer.from('foo'),
    createRevision: 2,
    modRevision: 5,
    version: 4,
    value: Buffer.from('bar'),
    lease: 0n,
  },
  { key: Buffer.from('k'), createRevision: 0, modRevision: 0, version: 0, value: Buffer.alloc(0), lease: 0n },
  {
    key: Buffer.from([0, 255, 1]),
    createRevision: 2 ** 40,
    modRevision: Number.MAX_SAFE_INTEGER,
    version: 127,
    value: Buffer.alloc(300, 7),
    lease: 0x7fffffffffffffffn,
  },
  {
    key: Buffer.from('neg'),
    createRevision: 1,
    modRevision: 1,
    version: 1,
    value: Buffer.from('v'),
    lease: -5n,
  },
];

describe('KeyValue codec', () => {
  it('round-trips', () => {
    for (const kv of samples) assert.deepEqual(decodeKeyValue(encodeKeyValue(kv)), kv);
  });

  it('is byte-identical to the generated mvccpb.KeyValue codec (the wire format etcd stores)', () => {
    for (const kv of samples) {
      const pb = PbKeyValue.encode({
        key: kv.key,
        createRevision: BigInt(kv.createRevision),
        modRevision: BigInt(kv.modRevision),
        version: BigInt(kv.version),
        value: kv.value,
        lease: kv.lease,
      }).finish();
      assert.equal(Buffer.from(pb).toString('hex'), encodeKeyValue(kv).toString('hex'));
    }
  });

  it('rejects truncated input', () => {
    const enc = encodeKeyValue(samples[0]!);
    assert.throws(() => decodeKeyValue(enc.subarray(0, enc.length - 2)), /truncated/);
    assert.throws(() => decodeKeyValue(Buffer.from([0x0b])), /wire type/);
  });
});
