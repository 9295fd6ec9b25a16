import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32c } from '../../../server/src/util/crc32c.js';

// Vectors from RFC 3720 appendix B.4 (iSCSI) and the common "123456789" check value.
test('crc32c: published test vectors', () => {
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(32, 0)), 0x8a9136aa);
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  const inc = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) inc[i] = i;
  assert.equal(crc32c(inc), 0x46dd794e);
  const dec = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) dec[i] = 31 - i;
  assert.equal(crc32c(dec), 0x113fdb5c);
});

test('crc32c: incremental equals one-shot at every split point', () => {
  const data = Buffer.from('The quick brown fox jumps over the lazy dog, etcd HashKV style.');
  const whole = crc32c(data);
  for (let cut = 0; cut <= data.length; cut++) {
    assert.equal(crc32c(data.subarray(cut), crc32c(data.subarray(0, cut))), whole);
  }
});
