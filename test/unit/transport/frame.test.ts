import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../../../server/src/transport/backoff.js';
import { encodeFrames, FrameDecoder } from '../../../server/src/transport/frame.js';
import { parseIdHex } from '../../../server/src/transport/ids.js';
import { DEFAULT_TRANSPORT_LIMITS, resolveTransportLimits } from '../../../server/src/transport/limits.js';
import { RTT_BUCKETS_SECONDS } from '../../../server/src/transport/metrics.js';
import { UrlPicker } from '../../../server/src/transport/url-picker.js';

function payloads(sizes: number[]): Uint8Array[] {
  return sizes.map((n, i) => new Uint8Array(n).fill(i + 1));
}

describe('frames', () => {
  it('encodes a batch as u32 big-endian length + bytes, back to back', () => {
    const buf = encodeFrames([new Uint8Array([9, 8]), new Uint8Array([7])]);
    assert.deepEqual([...buf], [0, 0, 0, 2, 9, 8, 0, 0, 0, 1, 7]);
  });

  it('decodes frames split at every possible chunk boundary', () => {
    const msgs = payloads([1, 5, 300, 2, 70_000]);
    const wire = encodeFrames(msgs);
    for (const step of [1, 2, 3, 4, 5, 7, 64, 1000, wire.length]) {
      const d = new FrameDecoder(1 << 20);
      const got: Uint8Array[] = [];
      for (let off = 0; off < wire.length; off += step) {
        const { frames, error } = d.push(wire.subarray(off, off + step));
        assert.equal(error, undefined);
        got.push(...frames.map((f) => new Uint8Array(f)));
      }
      assert.deepEqual(got, msgs, `step ${step}`);
      assert.equal(d.bufferedBytes(), 0);
    }
  });

  it('returns the good frames before a bad length, then the error', () => {
    const d = new FrameDecoder(1024);
    const wire = Buffer.concat([encodeFrames(payloads([3])), Buffer.from([0, 0, 4, 1])]);
    const { frames, error } = d.push(wire);
    assert.equal(frames.length, 1);
    assert.equal(error?.code, 'ErrFrameTooLarge');
    assert.equal(new FrameDecoder(1024).push(Buffer.from([0, 0, 0, 0])).error?.code, 'ErrFrameEmpty');
    // A length split across chunks is checked too.
    const split = new FrameDecoder(1024);
    assert.equal(split.push(Buffer.from([0xff, 0xff])).error, undefined);
    assert.equal(split.push(Buffer.from([0xff, 0xff])).error?.code, 'ErrFrameTooLarge');
  });

  it('holds at most one partial frame', () => {
    const d = new FrameDecoder(1 << 20);
    const wire = encodeFrames(payloads([100_000]));
    d.push(wire.subarray(0, 50_000));
    assert.equal(d.bufferedBytes(), 50_000 - 4);
    const { frames } = d.push(wire.subarray(50_000));
    assert.equal(frames[0]?.length, 100_000);
    assert.equal(d.bufferedBytes(), 0);
  });
});

describe('limits, backoff, ids, URLs, buckets', () => {
  it('limits: defaults are valid; out-of-range values are refused by name', () => {
    assert.deepEqual(resolveTransportLimits(), DEFAULT_TRANSPORT_LIMITS);
    assert.equal(DEFAULT_TRANSPORT_LIMITS.sendQueueMessagesMax, 4096);
    assert.throws(() => resolveTransportLimits({ batchBytesMax: 1.5 }), /batchBytesMax/);
    assert.throws(
      () => resolveTransportLimits({ backoffMinMs: 500, backoffMaxMs: 100 }),
      /exceeds backoffMaxMs/,
    );
  });

  it('backoff: 100 ms doubling to 5 s with jitter, reset on success', () => {
    const lo = new Backoff(100, 5000, () => 0);
    assert.deepEqual(
      Array.from({ length: 8 }, () => lo.next()),
      [50, 100, 200, 400, 800, 1600, 2500, 2500],
    );
    const hi = new Backoff(100, 5000, () => 1);
    assert.deepEqual(
      Array.from({ length: 8 }, () => hi.next()),
      [100, 200, 400, 800, 1600, 3200, 5000, 5000],
    );
    hi.reset();
    assert.equal(hi.next(), 100);
    const r = new Backoff(100, 5000);
    for (let i = 0; i < 100; i++) {
      const v = r.next();
      assert.ok(v >= 50 && v <= 5000);
    }
  });

  it('ids are hex in headers; anything else is rejected', () => {
    assert.equal(parseIdHex('c1'), 0xc1n);
    assert.equal(parseIdHex('ffffffffffffffff'), (1n << 64n) - 1n);
    assert.equal(parseIdHex('1ffffffffffffffff'), undefined);
    assert.equal(parseIdHex('0x1'), undefined);
    assert.equal(parseIdHex(''), undefined);
    assert.equal(parseIdHex(undefined), undefined);
    assert.equal(parseIdHex(['1']), undefined);
  });

  it('URL picker rotates on failure and keeps a still-listed URL on update', () => {
    const p = new UrlPicker(['http://a:1', 'http://b:2']);
    assert.equal(p.pick(), 'http://a:1');
    p.unreachable('http://a:1');
    assert.equal(p.pick(), 'http://b:2');
    p.unreachable('http://a:1'); // a stale failure does not skip the current URL
    assert.equal(p.pick(), 'http://b:2');
    assert.equal(p.update(['http://c:3', 'http://b:2']), false);
    assert.equal(p.pick(), 'http://b:2');
    assert.equal(p.update(['http://d:4']), true);
    assert.equal(p.pick(), 'http://d:4');
  });

  it("RTT buckets are etcd's 0.0001·2^k, k = 0..15", () => {
    assert.equal(RTT_BUCKETS_SECONDS.length, 16);
    assert.equal(RTT_BUCKETS_SECONDS[0], 0.0001);
    assert.ok(Math.abs((RTT_BUCKETS_SECONDS[15] ?? 0) - 3.2768) < 1e-12);
  });
});
