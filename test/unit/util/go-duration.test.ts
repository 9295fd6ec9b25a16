import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatGoDuration, GoDurationError, parseGoDuration } from '../../../server/src/util/go-duration.js';

const ms = 1_000_000n;
const s = 1_000_000_000n;

describe('parseGoDuration (time.ParseDuration)', () => {
  it('parses the units and forms etcdctl users write', () => {
    assert.equal(parseGoDuration('2s'), 2n * s);
    assert.equal(parseGoDuration('500ms'), 500n * ms);
    assert.equal(parseGoDuration('1m'), 60n * s);
    assert.equal(parseGoDuration('1h30m'), 5400n * s);
    assert.equal(parseGoDuration('1.5s'), 1500n * ms);
    assert.equal(parseGoDuration('.5s'), 500n * ms);
    assert.equal(parseGoDuration('3us'), 3000n);
    assert.equal(parseGoDuration('3µs'), 3000n);
    assert.equal(parseGoDuration('7ns'), 7n);
    assert.equal(parseGoDuration('-2s'), -2n * s);
    assert.equal(parseGoDuration('+2s'), 2n * s);
    assert.equal(parseGoDuration('0'), 0n);
  });

  it("rejects bad input with Go's messages", () => {
    const msg = (text: string): string => {
      try {
        parseGoDuration(text);
      } catch (err) {
        assert.ok(err instanceof GoDurationError);
        return err.message;
      }
      return 'no error';
    };
    assert.equal(msg('abc'), 'time: invalid duration "abc"');
    assert.equal(msg(''), 'time: invalid duration ""');
    assert.equal(msg('1'), 'time: missing unit in duration "1"');
    assert.equal(msg('1x'), 'time: unknown unit "x" in duration "1x"');
    assert.equal(msg('.s'), 'time: invalid duration ".s"');
    assert.equal(msg('10000000000h'), 'time: invalid duration "10000000000h"');
  });
});

describe('formatGoDuration (Duration.String)', () => {
  it('formats like Go, including sub-second units', () => {
    assert.equal(formatGoDuration(0n), '0s');
    assert.equal(formatGoDuration(2n * s), '2s');
    assert.equal(formatGoDuration(90n * s), '1m30s');
    assert.equal(formatGoDuration(3600n * s), '1h0m0s');
    assert.equal(formatGoDuration(5_000_973_764n), '5.000973764s');
    assert.equal(formatGoDuration(3_921_564n), '3.921564ms');
    assert.equal(formatGoDuration(1_500_000n), '1.5ms');
    assert.equal(formatGoDuration(1_500n), '1.5\xc2\xb5s'); // "µ" as UTF-8 bytes (a byte string)
    assert.equal(formatGoDuration(42n), '42ns');
    assert.equal(formatGoDuration(-1_500_000n), '-1.5ms');
  });
});
