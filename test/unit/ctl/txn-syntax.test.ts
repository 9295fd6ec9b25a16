import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Compare_CompareResult,
  Compare_CompareTarget,
  RangeRequest_SortOrder,
} from '../../../server/src/proto/gen/etcdserverpb/rpc.js';
import { CtlExit, GoPanic } from '../../../server/src/ctl/exit.js';
import {
  compareOf,
  deleteRangeRequest,
  putRequest,
  rangeRequest,
} from '../../../server/src/proto/messages.js';
import { argify, parseCompare, parseRequestOp, TxnSyntaxError } from '../../../server/src/ctl/txn-syntax.js';
import { memoryIO } from './memory-io.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

function syntaxError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TxnSyntaxError, `expected TxnSyntaxError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('no error');
}

describe('parseCompare', () => {
  it('parses every target and operator', () => {
    assert.deepEqual(
      parseCompare('mod("key") = "0"'),
      compareOf({
        result: Compare_CompareResult.EQUAL,
        target: Compare_CompareTarget.MOD,
        key: b('key'),
        targetUnion: { $case: 'modRevision', value: 0n },
      }),
    );
    assert.deepEqual(
      parseCompare('value("k") != "v"'),
      compareOf({
        result: Compare_CompareResult.NOT_EQUAL,
        target: Compare_CompareTarget.VALUE,
        key: b('k'),
        targetUnion: { $case: 'value', value: b('v') },
      }),
    );
    assert.deepEqual(parseCompare('ver("k") > "3"').targetUnion, { $case: 'version', value: 3n });
    assert.equal(parseCompare('version("k") < "3"').result, Compare_CompareResult.LESS);
    assert.deepEqual(parseCompare('c("k") > "1"').targetUnion, { $case: 'createRevision', value: 1n });
    assert.equal(parseCompare('create("k") > "1"').target, Compare_CompareTarget.CREATE);
    assert.equal(parseCompare('m("k") > "1"').target, Compare_CompareTarget.MOD);
    assert.equal(parseCompare('val("k") = "x"').target, Compare_CompareTarget.VALUE);
  });

  it('unquotes keys and values as Go string literals', () => {
    const c = parseCompare('value("a\\tb") = "\\x80\\"q"');
    assert.deepEqual(c.key, b('a\tb'));
    assert.deepEqual(c.targetUnion, { $case: 'value', value: b('\x80"q') });
    assert.deepEqual(parseCompare('value(`raw`) = `v`').key, b('raw'));
  });

  it("reports malformed comparisons with etcdctl's messages", () => {
    assert.equal(
      syntaxError(() => parseCompare('version"foo" = "1"')),
      'malformed comparison: version"foo" = "1"',
    );
    assert.equal(
      syntaxError(() => parseCompare('version(foo) = "1"')),
      'malformed comparison: version(foo) = "1"; got version("")  ""',
    );
    assert.equal(
      syntaxError(() => parseCompare('version("foo") = 1')),
      'malformed comparison: version("foo") = 1; got version("foo") = ""',
    );
    assert.equal(
      syntaxError(() => parseCompare('mod("foo")> "1"')),
      'malformed comparison: mod("foo")> "1"; got mod("foo")  ""',
    );
    assert.equal(
      syntaxError(() => parseCompare('foo("foo") = "1"')),
      'malformed comparison: foo("foo") = "1" (unknown target foo)',
    );
    assert.equal(
      syntaxError(() => parseCompare('version("foo") = "abc"')),
      'invalid txn compare request: version("foo") = "abc"',
    );
  });

  it('panics where clientv3.Compare panics', () => {
    assert.throws(() => parseCompare('version("foo") == "0"'), new GoPanic('Unknown result op'));
    assert.throws(() => parseCompare('value("foo") =< "0"'), new GoPanic('Unknown result op'));
    assert.throws(() => parseCompare('lease("foo") = "0"'), new GoPanic('bad value'));
    // A bad number is reported before the operator is looked at.
    assert.equal(
      syntaxError(() => parseCompare('mod("k") == "x"')),
      'invalid txn compare request: mod("k") == "x"',
    );
  });
});

describe('argify', () => {
  it('splits words, unquoting "..." words', () => {
    assert.deepEqual(argify('put "a b" "c\\td"'), ['put', 'a b', 'c\td']);
    assert.deepEqual(argify('get  foo   --prefix'), ['get', 'foo', '--prefix']);
    assert.deepEqual(argify('get "a'), ['get', 'a']); // an unterminated quote is skipped by the regex
  });

  it("reproduces etcdctl's single-quote slicing bug", () => {
    // words[i][1 : len(words)-1]
    assert.deepEqual(argify("put 'abcdef' 'cd'"), ['put', 'a', 'c']);
    assert.throws(
      () => argify("get 'a' x y z w"),
      new GoPanic('runtime error: slice bounds out of range [:5] with length 3'),
    );
  });

  it('exits 3 on an invalid Go literal', () => {
    assert.throws(() => argify('get "a\\q"'), new CtlExit(3, 'invalid syntax'));
  });
});

describe('parseRequestOp', () => {
  it('builds put/get/del requests with their flags', async () => {
    const io = memoryIO();
    assert.deepEqual(await parseRequestOp('put k v --prev-kv --lease=ff', io), {
      request: {
        $case: 'requestPut',
        value: putRequest({ key: b('k'), value: b('v'), prevKv: true, lease: 255n }),
      },
    });
    assert.deepEqual(await parseRequestOp('get k --prefix --keys-only --order=descend', io), {
      request: {
        $case: 'requestRange',
        value: rangeRequest({
          key: b('k'),
          rangeEnd: b('l'),
          keysOnly: true,
          sortOrder: RangeRequest_SortOrder.DESCEND,
        }),
      },
    });
    assert.deepEqual(await parseRequestOp('del a c --prev-kv', io), {
      request: {
        $case: 'requestDeleteRange',
        value: deleteRangeRequest({ key: b('a'), rangeEnd: b('c'), prevKv: true }),
      },
    });
    assert.equal(io.stderr.text, '');
  });

  it('accepts command prefixes like cobra', async () => {
    const io = memoryIO();
    assert.equal((await parseRequestOp('g a', io)).request?.$case, 'requestRange');
    assert.equal((await parseRequestOp('pu a b', io)).request?.$case, 'requestPut');
    assert.equal((await parseRequestOp('d a', io)).request?.$case, 'requestDeleteRange');
  });

  it('rejects unknown operations and bad flags (printing the usage)', async () => {
    const io = memoryIO();
    await assert.rejects(parseRequestOp('get', io), new TxnSyntaxError('invalid txn compare request: get'));
    await assert.rejects(parseRequestOp('foo bar', io), new TxnSyntaxError('invalid txn request: foo bar'));
    assert.equal(io.stderr.text, '');
    await assert.rejects(
      parseRequestOp('del a --bogus', io),
      new TxnSyntaxError('invalid txn request: del a --bogus'),
    );
    assert.equal(
      io.stderr.text,
      'Usage:\n' +
        '   del [options] <key> [range_end] [flags]\n\n' +
        'Flags:\n' +
        '      --from-key   delete keys that are greater than or equal to the given key using byte compare\n' +
        '  -h, --help       help for del\n' +
        '      --prefix     delete keys with matching prefix\n' +
        '      --prev-kv    return deleted key-value pairs\n\n',
    );
  });

  it("exits like etcdctl on the operation's own argument errors", async () => {
    const io = memoryIO();
    await assert.rejects(
      parseRequestOp('put a', io),
      new CtlExit(128, 'put command needs 1 argument and input from stdin or 2 arguments'),
    );
    await assert.rejects(
      parseRequestOp('put a b --lease=zz', io),
      new CtlExit(128, 'bad lease ID (strconv.ParseInt: parsing "zz": invalid syntax), expecting ID in Hex'),
    );
    await assert.rejects(parseRequestOp('get a --order=foo', io), new CtlExit(4, 'bad sort order foo'));
  });
});
