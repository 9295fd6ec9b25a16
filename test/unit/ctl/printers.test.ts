// Golden outputs captured from Debian's etcdctl 3.4.23 against etcd 3.4.23.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MemberListResponse,
  type RangeResponse,
  type ResponseHeader,
  type StatusResponse,
  type TxnResponse,
} from '../../../server/src/proto/gen/etcdserverpb/rpc.js';
import type { KeyValue } from '../../../server/src/proto/gen/mvccpb/kv.js';
import { CtlExit } from '../../../server/src/ctl/exit.js';
import { newPrinter } from '../../../server/src/ctl/display.js';
import type { Printer } from '../../../server/src/ctl/printer.js';
import { humanizeBytes } from '../../../server/src/ctl/humanize.js';
import { memoryIO, type MemoryIO } from './memory-io.js';

const clusterId = 324952591200643719n;
const memberId = 3319814642761637952n; // 2e1259d415f2a040

function header(revision: bigint, full = true): ResponseHeader {
  return full
    ? { clusterId, memberId, revision, raftTerm: 2n }
    : { clusterId: 0n, memberId: 0n, revision, raftTerm: 0n };
}

function kv(key: string, value: string, create: bigint, mod: bigint, version: bigint): KeyValue {
  return {
    key: Buffer.from(key),
    value: Buffer.from(value),
    createRevision: create,
    modRevision: mod,
    version,
    lease: 0n,
  };
}

const getFoo: RangeResponse = {
  header: header(2n),
  kvs: [kv('foo', 'bar', 2n, 2n, 1n)],
  more: false,
  count: 1n,
};

const member: MemberListResponse = {
  header: { clusterId, memberId, revision: 0n, raftTerm: 2n },
  members: [
    {
      ID: memberId,
      name: 't',
      peerURLs: ['http://127.0.0.1:23800'],
      clientURLs: ['http://127.0.0.1:23790'],
      isLearner: false,
    },
  ],
};

const status: StatusResponse = {
  header: header(3n),
  version: '3.4.23',
  dbSize: 24576n,
  leader: memberId,
  raftIndex: 10n,
  raftTerm: 2n,
  raftAppliedIndex: 10n,
  errors: [],
  dbSizeInUse: 16384n,
  isLearner: false,
  storageVersion: '',
  dbSizeQuota: 0n,
  downgradeInfo: undefined,
};

function printer(format: string, isHex = false): { p: Printer; io: MemoryIO } {
  const io = memoryIO();
  const p = newPrinter(format, isHex, io);
  assert.ok(p !== undefined);
  return { p, io };
}

describe('simple printer', () => {
  it('prints get/put/del/txn like etcdctl', () => {
    const { p, io } = printer('simple');
    p.get(getFoo);
    p.put({ header: header(3n), prevKv: kv('foo', 'bar', 2n, 2n, 1n) });
    p.del({ header: header(4n), deleted: 1n, prevKvs: [kv('foo', 'bar2', 2n, 3n, 2n)] });
    assert.equal(io.stdout.text, 'foo\nbar\nOK\nfoo\nbar\n1\nfoo\nbar2\n');
  });

  it('prints a txn: SUCCESS/FAILURE, then a blank line before each response', () => {
    const { p, io } = printer('simple');
    const txn: TxnResponse = {
      header: header(4n),
      succeeded: false,
      responses: [
        { response: { $case: 'responsePut', value: { header: header(4n, false), prevKv: undefined } } },
        { response: { $case: 'responseRange', value: { ...getFoo, header: header(4n, false) } } },
      ],
    };
    p.txn(txn);
    assert.equal(io.stdout.text, 'FAILURE\n\nOK\n\nfoo\nbar\n');
  });

  it('prints --hex keys and values', () => {
    const { p, io } = printer('simple', true);
    p.get({ ...getFoo, kvs: [kv('a', '1', 2n, 2n, 1n)] });
    assert.equal(io.stdout.text, '\\x61\n\\x31\n');
  });

  it('prints member list and endpoint status rows, health on stderr', () => {
    const { p, io } = printer('simple');
    p.memberList(member);
    p.endpointStatus([{ ep: '127.0.0.1:23790', resp: status }]);
    p.endpointHealth([
      { ep: '127.0.0.1:23790', health: true, took: '3.921564ms', error: '' },
      { ep: '127.0.0.1:1', health: false, took: '5.000973764s', error: 'context deadline exceeded' },
    ]);
    assert.equal(
      io.stdout.text,
      '2e1259d415f2a040, started, t, http://127.0.0.1:23800, http://127.0.0.1:23790, false\n' +
        '127.0.0.1:23790, 2e1259d415f2a040, 3.4.23, 25 kB, true, false, 2, 10, 10, \n',
    );
    assert.equal(
      io.stderr.text,
      '127.0.0.1:23790 is healthy: successfully committed proposal: took = 3.921564ms\n' +
        '127.0.0.1:1 is unhealthy: failed to commit proposal: context deadline exceeded\n',
    );
  });
});

describe('json printer', () => {
  it("prints Go's json.Marshal of the responses", () => {
    const { p, io } = printer('json');
    p.get(getFoo);
    p.put({ header: header(3n), prevKv: kv('foo', 'bar', 2n, 2n, 1n) });
    p.del({ header: header(14n), deleted: 0n, prevKvs: [] });
    p.txn({
      header: header(4n),
      succeeded: true,
      responses: [
        { response: { $case: 'responsePut', value: { header: header(4n, false), prevKv: undefined } } },
      ],
    });
    assert.equal(
      io.stdout.text,
      '{"header":{"cluster_id":324952591200643719,"member_id":3319814642761637952,"revision":2,"raft_term":2},' +
        '"kvs":[{"key":"Zm9v","create_revision":2,"mod_revision":2,"version":1,"value":"YmFy"}],"count":1}\n' +
        '{"header":{"cluster_id":324952591200643719,"member_id":3319814642761637952,"revision":3,"raft_term":2},' +
        '"prev_kv":{"key":"Zm9v","create_revision":2,"mod_revision":2,"version":1,"value":"YmFy"}}\n' +
        '{"header":{"cluster_id":324952591200643719,"member_id":3319814642761637952,"revision":14,"raft_term":2}}\n' +
        '{"header":{"cluster_id":324952591200643719,"member_id":3319814642761637952,"revision":4,"raft_term":2},' +
        '"succeeded":true,"responses":[{"Response":{"ResponsePut":{"header":{"revision":4}}}}]}\n',
    );
  });

  it('prints member list, endpoint status and health', () => {
    const { p, io } = printer('json');
    p.memberList(member);
    p.endpointStatus([{ ep: '127.0.0.1:23790', resp: status }]);
    p.endpointHealth([
      { ep: '127.0.0.1:1', health: false, took: '5.000973764s', error: 'context deadline exceeded' },
    ]);
    p.endpointHealth([]);
    assert.equal(
      io.stdout.text,
      '{"header":{"cluster_id":324952591200643719,"member_id":3319814642761637952,"raft_term":2},' +
        '"members":[{"ID":3319814642761637952,"name":"t","peerURLs":["http://127.0.0.1:23800"],' +
        '"clientURLs":["http://127.0.0.1:23790"]}]}\n' +
        '[{"Endpoint":"127.0.0.1:23790","Status":{"header":{"cluster_id":324952591200643719,' +
        '"member_id":3319814642761637952,"revision":3,"raft_term":2},"version":"3.4.23","dbSize":24576,' +
        '"leader":3319814642761637952,"raftIndex":10,"raftTerm":2,"raftAppliedIndex":10,"dbSizeInUse":16384}}]\n' +
        '[{"endpoint":"127.0.0.1:1","health":false,"took":"5.000973764s","error":"context deadline exceeded"}]\n' +
        '[]\n',
    );
  });

  it('escapes strings like encoding/json (HTML-safe)', () => {
    const { p, io } = printer('json');
    p.memberList({ ...member, members: [{ ...member.members[0]!, name: 'a<b>&"c"\u2028' }] });
    assert.match(io.stdout.text, /"name":"a\\u003cb\\u003e\\u0026\\"c\\"\\u2028"/);
  });
});

describe('table printer', () => {
  it('renders endpoint status like tablewriter', () => {
    const { p, io } = printer('table');
    p.endpointStatus([{ ep: '127.0.0.1:23790', resp: status }]);
    assert.equal(
      io.stdout.text,
      '+-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------+\n' +
        '|    ENDPOINT     |        ID        | VERSION | DB SIZE | IS LEADER | IS LEARNER | RAFT TERM | RAFT INDEX | RAFT APPLIED INDEX | ERRORS |\n' +
        '+-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------+\n' +
        '| 127.0.0.1:23790 | 2e1259d415f2a040 |  3.4.23 |   25 kB |      true |      false |         2 |         10 |                 10 |        |\n' +
        '+-----------------+------------------+---------+---------+-----------+------------+-----------+------------+--------------------+--------+\n',
    );
  });

  it('wraps long cells at 30 columns with minimal raggedness', () => {
    const { p, io } = printer('table');
    p.memberList({
      header: undefined,
      members: [
        {
          ID: 0x3760a4ec3b84f7fan,
          name: 'alpha beta gamma delta epsilon zeta eta theta iota',
          peerURLs: ['http://127.0.0.1:23803'],
          clientURLs: ['http://127.0.0.1:23793', 'http://localhost:23793'],
          isLearner: false,
        },
      ],
    });
    assert.equal(
      io.stdout.text,
      '+------------------+---------+--------------------------------+------------------------+-----------------------------------------------+------------+\n' +
        '|        ID        | STATUS  |              NAME              |       PEER ADDRS       |                 CLIENT ADDRS                  | IS LEARNER |\n' +
        '+------------------+---------+--------------------------------+------------------------+-----------------------------------------------+------------+\n' +
        '| 3760a4ec3b84f7fa | started | alpha beta gamma delta epsilon | http://127.0.0.1:23803 | http://127.0.0.1:23793,http://localhost:23793 |      false |\n' +
        '|                  |         |            zeta eta theta iota |                        |                                               |            |\n' +
        '+------------------+---------+--------------------------------+------------------------+-----------------------------------------------+------------+\n',
    );
  });

  it('renders health, and refuses KV responses after the fact (exit 4)', () => {
    const { p, io } = printer('table');
    p.endpointHealth([{ ep: '127.0.0.1:23790', health: true, took: '1.083864ms', error: '' }]);
    assert.equal(
      io.stdout.text,
      '+-----------------+--------+------------+-------+\n' +
        '|    ENDPOINT     | HEALTH |    TOOK    | ERROR |\n' +
        '+-----------------+--------+------------+-------+\n' +
        '| 127.0.0.1:23790 |   true | 1.083864ms |       |\n' +
        '+-----------------+--------+------------+-------+\n',
    );
    assert.throws(() => p.get(getFoo), new CtlExit(4, 'table not supported as output format'));
  });
});

describe('fields printer', () => {
  it('prints "Name" : value lines', () => {
    const { p, io } = printer('fields');
    p.get({ ...getFoo, header: header(3n), kvs: [kv('foo', 'bar2', 2n, 3n, 2n)] });
    p.endpointHealth([{ ep: '127.0.0.1:23790', health: true, took: '1.294854ms', error: '' }]);
    p.endpointStatus([{ ep: '127.0.0.1:23790', resp: status }]);
    assert.equal(
      io.stdout.text,
      '"ClusterID" : 324952591200643719\n"MemberID" : 3319814642761637952\n"Revision" : 3\n"RaftTerm" : 2\n' +
        '"Key" : "foo"\n"CreateRevision" : 2\n"ModRevision" : 3\n"Version" : 2\n"Value" : "bar2"\n"Lease" : 0\n' +
        '"More" : false\n"Count" : 1\n' +
        '"Endpoint" : "127.0.0.1:23790"\n"Health" : true\n"Took" : 1.294854ms\n"Error" : \n\n' +
        '"ClusterID" : 324952591200643719\n"MemberID" : 3319814642761637952\n"Revision" : 3\n"RaftTerm" : 2\n' +
        '"Version" : "3.4.23"\n"DBSize" : 24576\n"Leader" : 3319814642761637952\n"IsLearner" : false\n' +
        '"RaftIndex" : 10\n"RaftTerm" : 2\n"RaftAppliedIndex" : 10\n"Errors" : []\n"Endpoint" : "127.0.0.1:23790"\n\n',
    );
  });
});

describe('protobuf printer', () => {
  it('writes the re-encoded response without a newline; refuses endpoint health', () => {
    const { p, io } = printer('protobuf');
    p.memberList(member);
    const bytes = Buffer.from(io.stdout.text, 'latin1');
    assert.deepEqual(MemberListResponse.decode(bytes), member);
    assert.equal(
      bytes.toString('hex'),
      Buffer.from(MemberListResponse.encode(member).finish()).toString('hex'),
    );
    assert.throws(() => p.endpointHealth([]), new CtlExit(4, 'protobuf not supported as output format'));
  });
});

describe('humanizeBytes', () => {
  it('uses SI units like go-humanize', () => {
    assert.equal(humanizeBytes(7n), '7 B');
    assert.equal(humanizeBytes(24576n), '25 kB');
    assert.equal(humanizeBytes(20480n), '20 kB');
    assert.equal(humanizeBytes(1500n), '1.5 kB');
    assert.equal(humanizeBytes(999_999n), '1000 kB');
    assert.equal(humanizeBytes(2_500_000n), '2.5 MB');
    assert.equal(humanizeBytes(24_500n), '24 kB'); // %.0f rounds half to even
  });
});
