// cairnctl watch without a server: the printers' display.Watch (golden outputs captured from Debian's
// etcdctl 3.4.23 for the same responses), clientv3's Err()/IsProgressNotify, and etcdctl's argument
// parsing (parseWatchArgs, getWatchChan) with its error texts and exit codes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResponseHeader, WatchResponse } from '../../../server/src/proto/gen/etcdserverpb/rpc.js';
import { Event_EventType, type KeyValue } from '../../../server/src/proto/gen/mvccpb/kv.js';
import {
  parseWatchArgs,
  watchSpecOf,
  WatchArgsError,
  type WatchOptions,
} from '../../../server/src/ctl/cmd-watch.js';
import { newPrinter } from '../../../server/src/ctl/display.js';
import { nilEventsResponses } from '../../../server/src/ctl/printer-json.js';
import { CtlExit } from '../../../server/src/ctl/exit.js';
import { runCairnctl } from '../../../server/src/ctl/main.js';
import { isProgressNotify, watchErr } from '../../../server/src/ctl/watch-stream.js';
import { memoryIO } from './memory-io.js';

const header: ResponseHeader = {
  clusterId: 1066525093152473196n,
  memberId: 9087349957919311795n,
  revision: 8n,
  raftTerm: 1n,
};

function kv(value: string, create: bigint, mod: bigint, version: bigint): KeyValue {
  return {
    key: Buffer.from('k1'),
    value: Buffer.from(value),
    createRevision: create,
    modRevision: mod,
    version,
    lease: 0n,
  };
}

function watchResponse(fields: Partial<WatchResponse>): WatchResponse {
  return {
    header,
    watchId: 0n,
    created: false,
    canceled: false,
    compactRevision: 0n,
    cancelReason: '',
    fragment: false,
    events: [],
    ...fields,
  };
}

// `etcdctl watch --prefix k --rev 6 --prev-kv` after `put k1 v1; put k1 'v"2<'; del k1`.
const events = watchResponse({
  events: [
    { type: Event_EventType.PUT, kv: kv('v1', 6n, 6n, 1n), prevKv: undefined },
    { type: Event_EventType.PUT, kv: kv('v"2<', 6n, 7n, 2n), prevKv: kv('v1', 6n, 6n, 1n) },
    {
      type: Event_EventType.DELETE,
      kv: { ...kv('', 0n, 8n, 0n) },
      prevKv: kv('v"2<', 6n, 7n, 2n),
    },
  ],
});

// `etcdctl watch k --rev 2` after a compaction at 3: the cancel carries header revision 0.
const compacted = watchResponse({
  header: { ...header, revision: 0n },
  canceled: true,
  compactRevision: 3n,
});

function printed(format: string, resp: WatchResponse, hex = false): string {
  const io = memoryIO();
  const p = newPrinter(format, hex, io);
  assert.ok(p !== undefined);
  p.watch(resp);
  return io.stdout.text;
}

const kvFields = (pfx: string, value: string, create: number, mod: number, version: number): string =>
  `"${pfx}Key" : "k1"\n"${pfx}CreateRevision" : ${create}\n"${pfx}ModRevision" : ${mod}\n` +
  `"${pfx}Version" : ${version}\n"${pfx}Value" : ${value}\n"${pfx}Lease" : 0\n`;

const headerFields =
  '"ClusterID" : 1066525093152473196\n"MemberID" : 9087349957919311795\n"Revision" : 8\n"RaftTerm" : 1\n';

describe('display.Watch', () => {
  it('simple: the type, the previous kv if any, then the kv', () => {
    assert.equal(printed('simple', events), 'PUT\nk1\nv1\nPUT\nk1\nv1\nk1\nv"2<\nDELETE\nk1\nv"2<\nk1\n\n');
    assert.equal(printed('simple', compacted), '');
  });

  it('simple --hex', () => {
    const noPrev = watchResponse({ events: events.events.map((e) => ({ ...e, prevKv: undefined })) });
    assert.equal(
      printed('simple', noPrev, true),
      'PUT\n\\x6b\\x31\n\\x76\\x31\nPUT\n\\x6b\\x31\n\\x76\\x22\\x32\\x3c\nDELETE\n\\x6b\\x31\n\n',
    );
  });

  it('json: clientv3.WatchResponse through encoding/json', () => {
    assert.equal(
      printed('json', events),
      '{"Header":{"cluster_id":1066525093152473196,"member_id":9087349957919311795,"revision":8,"raft_term":1},' +
        '"Events":[{"kv":{"key":"azE=","create_revision":6,"mod_revision":6,"version":1,"value":"djE="}},' +
        '{"kv":{"key":"azE=","create_revision":6,"mod_revision":7,"version":2,"value":"diIyPA=="},' +
        '"prev_kv":{"key":"azE=","create_revision":6,"mod_revision":6,"version":1,"value":"djE="}},' +
        '{"type":1,"kv":{"key":"azE=","mod_revision":8},' +
        '"prev_kv":{"key":"azE=","create_revision":6,"mod_revision":7,"version":2,"value":"diIyPA=="}}],' +
        '"CompactRevision":0,"Canceled":false,"Created":false}\n',
    );
    assert.equal(
      printed('json', compacted),
      '{"Header":{"cluster_id":1066525093152473196,"member_id":9087349957919311795,"raft_term":1},' +
        '"Events":[],"CompactRevision":3,"Canceled":true,"Created":false}\n',
    );
  });

  it("json: clientv3's closing response after a stream error has nil Events and a zero Header", () => {
    const closing = watchResponse({
      header: { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n },
      canceled: true,
    });
    nilEventsResponses.add(closing);
    assert.equal(
      printed('json', closing),
      '{"Header":{},"Events":null,"CompactRevision":0,"Canceled":true,"Created":false}\n',
    );
  });

  it('fields: the header, then per event its type and kvs', () => {
    assert.equal(
      printed('fields', events),
      headerFields +
        '"Type" : PUT\n' +
        kvFields('', '"v1"', 6, 6, 1) +
        '"Type" : PUT\n' +
        kvFields('Prev', '"v1"', 6, 6, 1) +
        kvFields('', '"v\\"2<"', 6, 7, 2) +
        '"Type" : DELETE\n' +
        kvFields('Prev', '"v\\"2<"', 6, 7, 2) +
        '"Key" : "k1"\n"CreateRevision" : 0\n"ModRevision" : 8\n"Version" : 0\n"Value" : ""\n"Lease" : 0\n',
    );
    assert.equal(printed('fields', compacted), headerFields.replace('"Revision" : 8', '"Revision" : 0'));
  });

  it('protobuf: a pb.WatchResponse of header, events, compact revision, canceled and created', () => {
    assert.equal(
      Buffer.from(printed('protobuf', events), 'latin1').toString('hex'),
      '0a1808ec8093cbbeddc3e60e10b38fc4fbbc94b08e7e180820015a10120e0a026b311006180620012a0276315a221210' +
        '0a026b311006180720022a047622323c1a0e0a026b311006180620012a0276315a1c080112060a026b3118081a100a02' +
        '6b311006180720022a047622323c',
    );
    assert.equal(
      Buffer.from(printed('protobuf', compacted), 'latin1').toString('hex'),
      '0a1608ec8093cbbeddc3e60e10b38fc4fbbc94b08e7e200120012803',
    );
  });

  it('table: not supported (exit 4)', () => {
    assert.throws(
      () => printed('table', events),
      (err: unknown) =>
        err instanceof CtlExit && err.code === 4 && err.errorText === 'table not supported as output format',
    );
  });
});

describe('WatchResponse.Err and IsProgressNotify', () => {
  it('maps compaction, cancel reasons and bare cancels to etcd errors', () => {
    assert.equal(watchErr(events), undefined);
    assert.equal(watchErr(compacted), 'etcdserver: mvcc: required revision has been compacted');
    assert.equal(
      watchErr(watchResponse({ canceled: true, cancelReason: 'etcdserver: permission denied' })),
      'etcdserver: permission denied',
    );
    assert.equal(
      watchErr(watchResponse({ canceled: true })),
      'etcdserver: mvcc: required revision is a future revision',
    );
    assert.equal(
      watchErr(watchResponse({ canceled: true }), 'etcdserver: no leader'),
      'etcdserver: no leader',
    );
  });

  it('a progress notification has no events and a revision', () => {
    assert.equal(isProgressNotify(watchResponse({})), true);
    assert.equal(isProgressNotify(events), false);
    assert.equal(isProgressNotify(compacted), false);
    assert.equal(isProgressNotify(watchResponse({ created: true })), false);
    assert.equal(isProgressNotify(watchResponse({ header: { ...header, revision: 0n } })), false);
  });
});

describe('parseWatchArgs and getWatchChan', () => {
  const none = (): WatchOptions => ({ prefix: false, rev: 0n, prevKv: false });
  const parse = (raw: string[], positional: string[], envKey = '', envRange = '') =>
    parseWatchArgs(['etcdctl', '--endpoints=x', ...raw], positional, envKey, envRange, false, none());
  const fails = (fn: () => unknown, text: string): void => {
    assert.throws(fn, (err: unknown) => err instanceof WatchArgsError && err.message === text);
  };

  it('splits the key words from the exec command', () => {
    assert.deepEqual(parse(['watch', 'foo'], ['foo']), { watchArgs: ['foo'], execArgs: [] });
    assert.deepEqual(
      parse(['watch', 'foo', '--rev', '1', 'bar', '--', 'echo', 'hi'], ['foo', 'bar', 'echo', 'hi']),
      {
        watchArgs: ['foo', 'bar'],
        execArgs: ['echo', 'hi'],
      },
    );
    assert.deepEqual(parse(['watch', '--', 'echo', 'hi'], ['echo', 'hi'], 'k', 'l'), {
      watchArgs: ['k', 'l'],
      execArgs: ['echo', 'hi'],
    });
  });

  it("fails with etcdctl's texts", () => {
    fails(() => parse(['watch'], []), 'bad number of arguments');
    fails(
      () => parse(['watch', 'a', '--'], ['a']),
      'bad number of arguments (found separator --, but no commands)',
    );
    fails(
      () => parse(['watch', 'a'], ['a'], 'k'),
      'bad number of arguments (found conflicting environment key)',
    );
    fails(
      () => parse(['watch', 'a', '--', 'echo'], ['a', 'echo'], 'k'),
      'bad number of arguments (found conflicting environment key)',
    );
  });

  it('interactive lines carry their own flags', () => {
    const opts: WatchOptions = { prefix: true, rev: 9n, prevKv: true };
    const r = parseWatchArgs([], ['watch', 'foo', '--rev', '3', '--', 'echo', 'x'], '', '', true, opts);
    assert.deepEqual(r, { watchArgs: ['foo'], execArgs: ['echo', 'x'] });
    assert.deepEqual(opts, { prefix: false, rev: 3n, prevKv: false });
    fails(() => parseWatchArgs([], ['watch', 'foo', '--bad'], '', '', true, opts), 'unknown flag: --bad');
    fails(() => parseWatchArgs([], ['watch', '--prefix'], '', '', true, opts), 'bad number of arguments');
    fails(
      () => parseWatchArgs([], ['put', 'foo'], '', '', true, opts),
      "args[0] must be 'watch' for interactive calls",
    );
  });

  it('builds the watch: range_end, --prefix, --rev, --prev-kv', () => {
    assert.deepEqual(watchSpecOf(['a', 'b'], none()), {
      key: 'a',
      rangeEnd: 'b',
      startRevision: 0n,
      prevKv: false,
    });
    assert.deepEqual(watchSpecOf(['a', 'b', 'c'], { prefix: false, rev: 4n, prevKv: true }), {
      key: 'a',
      rangeEnd: '',
      startRevision: 4n,
      prevKv: true,
    });
    assert.deepEqual(watchSpecOf(['ab'], { prefix: true, rev: 0n, prevKv: false }).rangeEnd, 'ac');
    assert.deepEqual(watchSpecOf([''], { prefix: true, rev: 0n, prevKv: false }), {
      key: '\x00',
      rangeEnd: '\x00',
      startRevision: 0n,
      prevKv: false,
    });
    fails(
      () => watchSpecOf(['a', 'b'], { prefix: true, rev: 0n, prevKv: false }),
      '`range_end` and `--prefix` are mutually exclusive',
    );
    fails(() => watchSpecOf([], none()), 'bad number of arguments');
  });
});

describe('cairnctl watch (no server needed)', () => {
  const run = async (argv: string[], stdin = '', env: [string, string][] = []) => {
    const io = memoryIO(stdin, env);
    const code = await runCairnctl(['--endpoints=127.0.0.1:1', ...argv], io);
    return { code, stdout: io.stdout.text, stderr: io.stderr.text };
  };

  it('argument errors exit 128 before connecting', async () => {
    assert.deepEqual(await run(['watch']), {
      code: 128,
      stdout: '',
      stderr: 'Error: bad number of arguments\n',
    });
    assert.deepEqual(await run(['watch', '--prefix', 'a', 'b']), {
      code: 128,
      stdout: '',
      stderr: 'Error: `range_end` and `--prefix` are mutually exclusive\n',
    });
    assert.deepEqual(await run(['watch', 'a', '--']), {
      code: 128,
      stdout: '',
      stderr: 'Error: bad number of arguments (found separator --, but no commands)\n',
    });
    assert.deepEqual(await run(['watch', 'a'], '', [['ETCDCTL_WATCH_RANGE_END', 'z']]), {
      code: 128,
      stdout: '',
      stderr: 'Error: ETCDCTL_WATCH_KEY is empty but got ETCDCTL_WATCH_RANGE_END="z"\n',
    });
  });

  it('interactive: rejects bad lines, exits 3 at the end of stdin', async () => {
    assert.deepEqual(await run(['watch', '-i'], '\nfoo\nwatch\nwatch a b --prefix\n'), {
      code: 3,
      stdout: '',
      stderr:
        'Invalid command:  (watch and progress supported)\n' +
        'Invalid command foo (only support watch)\n' +
        'Invalid command watch (command type or key is not provided)\n' +
        'Invalid command watch a b --prefix (`range_end` and `--prefix` are mutually exclusive)\n' +
        'Error: Error reading watch request line: EOF\n',
    });
    assert.deepEqual(await run(['watch', '-i'], 'watch a --bad\n'), {
      code: 128,
      stdout: '',
      stderr: 'Error: unknown flag: --bad\n',
    });
  });
});
