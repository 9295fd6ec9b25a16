// member add|remove|update|promote and move-leader without a server: argument errors (exit 128, before any
// connection), clientv3's peer URL check (types.NewURLs with Go's url.Parse texts) and the output forms.
// Expected texts are etcdctl 3.4.23's.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MemberAddResponse, ResponseHeader } from '../../../server/src/proto/gen/etcdserverpb/rpc.js';
import { MemberAddResponse as MemberAddResponseCodec } from '../../../server/src/proto/gen/etcdserverpb/rpc.js';
import { CtlExit } from '../../../server/src/ctl/exit.js';
import { newUrlsError } from '../../../server/src/ctl/go-url.js';
import { runCairnctl } from '../../../server/src/ctl/main.js';
import { memberPrinter, paddedHexId } from '../../../server/src/ctl/printer-member.js';
import { MemorySink } from '../../../server/src/ctl/io.js';
import { memoryIO } from './memory-io.js';

async function run(args: string[]) {
  const io = memoryIO();
  const code = await runCairnctl(args, io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

describe('member and move-leader argument errors (exit 128, no request)', () => {
  const cases: [string[], string][] = [
    [['member', 'add'], 'member name not provided'],
    [
      ['member', 'add', 'a', 'b', 'http://x:1', 'HTTPS://y:2'],
      'too many arguments, did you mean --peer-urls=http://x:1, did you mean --peer-urls=HTTPS://y:2',
    ],
    [['member', 'add', 'a'], 'member peer urls not provided'],
    [['member', 'add', 'a', '--peer-urls='], 'member peer urls not provided'],
    [['member', 'remove'], 'member ID is not provided'],
    [['member', 'remove', '1', '2'], 'member ID is not provided'],
    [
      ['member', 'remove', 'zz'],
      'bad member ID arg (strconv.ParseUint: parsing "zz": invalid syntax), expecting ID in Hex',
    ],
    [
      ['member', 'remove', '+1'],
      'bad member ID arg (strconv.ParseUint: parsing "+1": invalid syntax), expecting ID in Hex',
    ],
    [
      ['member', 'promote', '10000000000000000'],
      'bad member ID arg (strconv.ParseUint: parsing "10000000000000000": value out of range), expecting ID in Hex',
    ],
    [['member', 'update'], 'member ID is not provided'],
    [['member', 'update', 'ab'], 'member peer urls not provided'],
    [
      ['member', 'update', '0xab', '--peer-urls=http://h:1'],
      'bad member ID arg (strconv.ParseUint: parsing "0xab": invalid syntax), expecting ID in Hex',
    ],
    [['move-leader'], 'move-leader command needs 1 argument'],
    [['move-leader', 'a', 'b'], 'move-leader command needs 1 argument'],
    [['move-leader', 'x'], 'strconv.ParseUint: parsing "x": invalid syntax'],
    // Argument errors come before the output format is looked at.
    [['-w', 'xml', 'member', 'remove'], 'member ID is not provided'],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), async () => {
      assert.deepEqual(await run(args), { code: 128, stdout: '', stderr: `Error: ${message}\n` });
    });
  }
});

describe('peer URL check (clientv3 types.NewURLs)', () => {
  const cases: [string[], string | undefined][] = [
    [['http://127.0.0.1:2380'], undefined],
    [['http://127.0.0.1:2380', ' https://[::1]:2380 ', 'unix://sock:1', 'http://h:1?q#f'], undefined],
    [['127.0.0.1:2380'], 'parse "127.0.0.1:2380": first path segment in URL cannot contain colon'],
    [['localhost:2380'], 'URL scheme must be http, https, unix, or unixs: localhost:2380'],
    [['http://127.0.0.1'], 'URL address does not have the form "host:port": http://127.0.0.1'],
    [['http://127.0.0.1:1/x'], 'URL must not contain a path: http://127.0.0.1:1/x'],
    [['http://h:1/'], 'URL must not contain a path: http://h:1/'],
    [['ftp://127.0.0.1:1'], 'URL scheme must be http, https, unix, or unixs: ftp://127.0.0.1:1'],
    [['', ''], 'URL scheme must be http, https, unix, or unixs: '],
    [[':1'], 'parse ":1": missing protocol scheme'],
    [['http://[::1'], `parse "http://[::1": missing ']' in host`],
    [['http://h:1%zz'], 'parse "http://h:1%zz": invalid port ":1%zz" after host'],
    [['http://h%zz:1'], 'parse "http://h%zz:1": invalid URL escape "%zz"'],
    [['http://h:x'], 'parse "http://h:x": invalid port ":x" after host'],
    [['http://h^:1'], 'parse "http://h^:1": invalid character "^" in host name'],
    [['http://h:1#%zz'], 'parse "http://h:1#%zz": invalid URL escape "%zz"'],
    [['http:h:1'], 'URL address does not have the form "host:port": http:h:1'],
    [['http://h:1\x01'], 'parse "http://h:1\\x01": net/url: invalid control character in URL'],
    [['http://a:b:1'], 'URL address does not have the form "host:port": http://a:b:1'],
    [['http://[::1]:1', 'http://[::1]'], 'URL address does not have the form "host:port": http://[::1]'],
  ];
  for (const [urls, expected] of cases) {
    it(JSON.stringify(urls), () => assert.equal(newUrlsError(urls), expected));
  }
});

describe('member printers', () => {
  const header: ResponseHeader = { clusterId: 0x2bf79d2cf3e134a9n, memberId: 1n, revision: 0n, raftTerm: 7n };
  const added: MemberAddResponse = {
    header,
    member: {
      ID: 0xaa3b88b78aafd61n,
      name: '',
      peerURLs: ['http://127.0.0.1:14380'],
      clientURLs: [],
      isLearner: true,
    },
    members: [],
  };

  it('pads ids as %16x', () => {
    assert.equal(paddedHexId(0xaa3b88b78aafd61n), ' aa3b88b78aafd61');
    assert.equal(paddedHexId(0x9e3908635f799944n), '9e3908635f799944');
  });

  it('simple: one sentence per change, move-leader with bare hex ids', () => {
    const out = new MemorySink();
    const p = memberPrinter('simple', out);
    p.memberAdd(added);
    p.memberRemove(0xan, { header, members: [] });
    p.memberUpdate(0xan, { header, members: [] });
    p.memberPromote(0xan, { header, members: [] });
    p.moveLeader(0x75cbd56909a25cbfn, 0xan, { header: undefined });
    assert.equal(
      out.text,
      'Member  aa3b88b78aafd61 added to cluster 2bf79d2cf3e134a9\n' +
        'Member                a removed from cluster 2bf79d2cf3e134a9\n' +
        'Member                a updated in cluster 2bf79d2cf3e134a9\n' +
        'Member                a promoted in cluster 2bf79d2cf3e134a9\n' +
        'Leadership transferred from 75cbd56909a25cbf to a\n',
    );
  });

  it('json: the protobuf response; MoveLeaderResponse without header is {}', () => {
    const out = new MemorySink();
    const p = memberPrinter('json', out);
    p.memberAdd(added);
    p.moveLeader(1n, 2n, { header: undefined });
    assert.equal(
      out.text,
      '{"header":{"cluster_id":3168173679274177705,"member_id":1,"raft_term":7},' +
        '"member":{"ID":766659270747553121,"peerURLs":["http://127.0.0.1:14380"],"isLearner":true}}\n{}\n',
    );
  });

  it('protobuf: the encoded response, nothing for an empty MoveLeaderResponse', () => {
    const out = new MemorySink();
    const p = memberPrinter('protobuf', out);
    p.memberAdd(added);
    assert.equal(out.text, Buffer.from(MemberAddResponseCodec.encode(added).finish()).toString('latin1'));
    const empty = new MemorySink();
    memberPrinter('protobuf', empty).moveLeader(1n, 2n, { header: undefined });
    assert.equal(empty.text, '');
  });

  it('table and fields: not supported (exit 4)', () => {
    for (const kind of ['table', 'fields'] as const) {
      assert.throws(
        () => memberPrinter(kind, new MemorySink()).memberRemove(1n, { header, members: [] }),
        (err: unknown) =>
          err instanceof CtlExit &&
          err.code === 4 &&
          err.errorText === `${kind} not supported as output format`,
      );
    }
  });
});
