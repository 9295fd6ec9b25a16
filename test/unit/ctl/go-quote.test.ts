import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesOf } from '../../../server/src/ctl/byte-string.js';
import { goQuote, goQuoteRune, GoSyntaxError, goUnquote } from '../../../server/src/ctl/go-quote.js';
import { GoNumError, parseGoBool, parseGoInt } from '../../../server/src/ctl/go-strconv.js';

describe('goQuote (strconv.Quote)', () => {
  it('escapes like Go', () => {
    assert.equal(goQuote('foo'), '"foo"');
    assert.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"');
    assert.equal(goQuote('\t\n\x00\x7f'), '"\\t\\n\\x00\\x7f"');
    assert.equal(goQuote(bytesOf('é')), bytesOf('"é"'));
    assert.equal(goQuote('\xff\xfe'), '"\\xff\\xfe"');
    assert.equal(goQuote(bytesOf('\u200b')), '"\\u200b"');
  });

  it('quotes runes', () => {
    assert.equal(goQuoteRune('v'.charCodeAt(0)), "'v'");
    assert.equal(goQuoteRune(0x27), "'\\''");
  });
});

describe('goUnquote (strconv.Unquote)', () => {
  it('processes escapes, keeping \\x bytes raw', () => {
    assert.equal(goUnquote('"a b"'), 'a b');
    assert.equal(goUnquote('"a\\tb\\"c"'), 'a\tb"c');
    assert.equal(goUnquote('"\\x80\\101\\u00e9"'), '\x80A\xc3\xa9');
    assert.equal(goUnquote('`raw\\n`'), 'raw\\n');
  });

  it('rejects invalid literals', () => {
    for (const bad of ['"a\\q"', '"a', '"\\\'"', '"\\400"', 'x']) {
      assert.throws(() => goUnquote(bad), GoSyntaxError, bad);
    }
  });
});

describe('parseGoInt / parseGoBool (strconv)', () => {
  it('parses base 0 like pflag, base 16 like --lease', () => {
    assert.equal(parseGoInt('42', 0), 42n);
    assert.equal(parseGoInt('0x10', 0), 16n);
    assert.equal(parseGoInt('010', 0), 8n);
    assert.equal(parseGoInt('0b11', 0), 3n);
    assert.equal(parseGoInt('1_000', 0), 1000n);
    assert.equal(parseGoInt('-1', 16), -1n);
    assert.equal(parseGoInt('ff', 16), 255n);
    assert.equal(parseGoInt('-9223372036854775808', 10), -(1n << 63n));
  });

  it("fails with Go's messages", () => {
    assert.throws(() => parseGoInt('abc', 10), {
      message: 'strconv.ParseInt: parsing "abc": invalid syntax',
    });
    assert.throws(() => parseGoInt('0x10', 16), {
      message: 'strconv.ParseInt: parsing "0x10": invalid syntax',
    });
    assert.throws(() => parseGoInt('1__0', 0), GoNumError);
    assert.throws(() => parseGoInt('99999999999999999999', 0), {
      message: 'strconv.ParseInt: parsing "99999999999999999999": value out of range',
    });
    assert.equal(parseGoBool('T'), true);
    assert.equal(parseGoBool('0'), false);
    assert.throws(() => parseGoBool('maybe'), {
      message: 'strconv.ParseBool: parsing "maybe": invalid syntax',
    });
  });
});
