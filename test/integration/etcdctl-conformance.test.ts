// Conformance: Debian's etcdctl 3.4 (ETCDCTL_API=3) against a real cairn process, with exact assertions on
// what etcdctl prints (stdout, stderr, exit code, and the gRPC status the client logged). Every group
// starts its own fresh server, so revisions are deterministic: the first write of a store is revision 2.
// CAIRN_TEST_TARGET=etcd runs the same assertions against Debian etcd 3.4 (the reference).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  b64,
  ctlFor,
  expectClientError,
  expectJson,
  expectOk,
  expectRpcError,
  identityOf,
  parseTable,
  renderTable,
  startCairn,
  type CtlResult,
  type Identity,
  type Member,
} from '../framework/index.js';

type Ctl = ReturnType<typeof ctlFor>;

type Ids = Identity;

/** A uint64 as parseJson yields it: a number when exactly representable, else its decimal string. */
function u64(s: string): number | string {
  return Number.isSafeInteger(Number(s)) ? Number(s) : s;
}

async function idsOf(m: Member): Promise<Ids> {
  return identityOf(m);
}

/** A full response header as etcdctl prints it in JSON. */
function header(ids: Ids, revision: number): Record<string, unknown> {
  return { cluster_id: u64(ids.clusterId), member_id: u64(ids.memberId), revision, raft_term: ids.raftTerm };
}

/** A mvccpb.KeyValue as etcdctl prints it in JSON (zero fields are omitted by Go's encoder). */
function kv(
  key: string,
  create: number,
  mod: number,
  version: number,
  value: string,
): Record<string, unknown> {
  const o: Record<string, unknown> = { key: b64(key), create_revision: create, mod_revision: mod, version };
  if (value !== '') o['value'] = b64(value);
  return o;
}

/** Simple output of a Range: key line, value line. */
function simple(pairs: [string, string][]): string {
  return pairs.map(([k, v]) => `${k}\n${v}\n`).join('');
}

/** Simple output of --keys-only: each key followed by an empty value line. */
function keysOnly(keys: string[]): string {
  return keys.map((k) => `${k}\n\n`).join('');
}

async function puts(ctl: Ctl, pairs: [string, string][]): Promise<void> {
  for (const [k, v] of pairs) expectOk(await ctl(['put', k, v]), 'OK\n');
}

/** The store revision, read through a Range's response header. */
async function currentRevision(ctl: Ctl): Promise<number> {
  const j = expectJson(await ctl(['get', 'revision-probe', '-w', 'json'])) as {
    header: { revision: number };
  };
  return j.header.revision;
}

function table(r: CtlResult): ReturnType<typeof parseTable> {
  assert.equal(r.code, 0, r.describe());
  const t = parseTable(r.stdout);
  // etcdctl renders tables itself; re-rendering the parsed cells must give back the exact text.
  assert.equal(renderTable(t), r.stdout, `table layout\n${r.describe()}`);
  return t;
}

describe('etcdctl put', () => {
  let m: Member;
  let ctl: Ctl;
  let ids: Ids;
  before(async () => {
    m = await startCairn({ name: 'conf-put' });
    ctl = ctlFor(m);
    ids = await idsOf(m);
  });
  after(async () => {
    await m?.stop();
  });

  it('a fresh store is at revision 1 and the response header carries non-zero ids and a raft term', async () => {
    const j = expectJson(await ctl(['get', 'foo', '-w', 'json'])) as { header: Record<string, unknown> };
    assert.deepEqual(j, { header: header(ids, 1) });
    assert.notEqual(ids.clusterId, '0');
    assert.notEqual(ids.memberId, '0');
    assert.ok(Number.isInteger(ids.raftTerm) && ids.raftTerm >= 1, `raft_term ${ids.raftTerm}`);
  });

  it('put prints OK; the first write is revision 2 with version 1', async () => {
    expectOk(await ctl(['put', 'foo', 'bar']), 'OK\n');
    assert.deepEqual(expectJson(await ctl(['get', 'foo', '-w', 'json'])), {
      header: header(ids, 2),
      kvs: [kv('foo', 2, 2, 1, 'bar')],
      count: 1,
    });
  });

  it('put --prev-kv prints the previous key and value', async () => {
    expectOk(await ctl(['put', 'foo', 'baz', '--prev-kv']), 'OK\nfoo\nbar\n');
    expectOk(await ctl(['put', 'fresh', 'v', '--prev-kv']), 'OK\n'); // no previous kv: nothing more
    assert.deepEqual(expectJson(await ctl(['get', 'foo', '-w', 'json'])), {
      header: header(ids, 4),
      kvs: [kv('foo', 2, 3, 2, 'baz')],
      count: 1,
    });
  });

  it('put --ignore-value keeps the value, bumps version and mod revision', async () => {
    expectOk(await ctl(['put', 'foo', '--ignore-value', '--prev-kv']), 'OK\nfoo\nbaz\n');
    assert.deepEqual(expectJson(await ctl(['get', 'foo', '-w', 'json'])), {
      header: header(ids, 5),
      kvs: [kv('foo', 2, 5, 3, 'baz')],
      count: 1,
    });
  });

  it('put -w json prints the header (and prev_kv with --prev-kv)', async () => {
    assert.deepEqual(expectJson(await ctl(['put', 'foo2', 'v', '-w', 'json'])), { header: header(ids, 6) });
    assert.deepEqual(expectJson(await ctl(['put', 'foo2', 'v2', '--prev-kv', '-w', 'json'])), {
      header: header(ids, 7),
      prev_kv: kv('foo2', 6, 6, 1, 'v'),
    });
  });

  it('put of the same value still creates a new revision', async () => {
    expectOk(await ctl(['put', 'foo2', 'v2']), 'OK\n');
    assert.deepEqual(expectJson(await ctl(['get', 'foo2', '-w', 'json'])), {
      header: header(ids, 8),
      kvs: [kv('foo2', 6, 8, 3, 'v2')],
      count: 1,
    });
  });

  it('put of an empty value stores it (JSON omits the empty value)', async () => {
    expectOk(await ctl(['put', 'empty', '']), 'OK\n');
    expectOk(await ctl(['get', 'empty']), 'empty\n\n');
    assert.deepEqual(expectJson(await ctl(['get', 'empty', '-w', 'json'])), {
      header: header(ids, 9),
      kvs: [kv('empty', 9, 9, 1, '')],
      count: 1,
    });
  });

  it('put --ignore-value on a missing key: InvalidArgument "etcdserver: key not found", nothing written', async () => {
    expectRpcError(
      await ctl(['put', 'missing', '--ignore-value']),
      'InvalidArgument',
      'etcdserver: key not found',
    );
    assert.equal(await currentRevision(ctl), 9);
  });

  it('put --lease with a lease that does not exist: NotFound "etcdserver: requested lease not found"', async () => {
    expectRpcError(
      await ctl(['put', 'foo', 'x', '--lease=1234']),
      'NotFound',
      'etcdserver: requested lease not found',
    );
    assert.equal(await currentRevision(ctl), 9);
    expectOk(await ctl(['get', 'foo']), 'foo\nbaz\n');
  });

  it('empty key: InvalidArgument "etcdserver: key is not provided" for put, get and del', async () => {
    expectRpcError(await ctl(['put', '', 'v']), 'InvalidArgument', 'etcdserver: key is not provided');
    expectRpcError(await ctl(['get', '']), 'InvalidArgument', 'etcdserver: key is not provided');
    expectRpcError(await ctl(['del', '']), 'InvalidArgument', 'etcdserver: key is not provided');
    assert.equal(await currentRevision(ctl), 9);
  });

  it('put -w table executes the put, then etcdctl refuses the format (exit 4)', async () => {
    expectClientError(
      await ctl(['put', 'tbl', '1', '-w', 'table']),
      4,
      'table not supported as output format',
    );
    expectOk(await ctl(['get', 'tbl', '--print-value-only']), '1\n');
    assert.equal(await currentRevision(ctl), 10);
  });
});

describe('etcdctl get', () => {
  let m: Member;
  let ctl: Ctl;
  let ids: Ids;
  // revisions:      2         3           4          5          6           7           8          9
  const data: [string, string][] = [
    ['d/2', 'y'],
    ['b', '22'],
    ['a', '1'],
    ['c', '3'],
    ['d/1', 'x'],
    ['c', '33'],
    ['a', '2'],
    ['a', '3'],
  ];
  // final state: a=3 (create 4, mod 9, ver 3), b=22 (3,3,1), c=33 (5,7,2), d/1=x (6,6,1), d/2=y (2,2,1)
  const A = kv('a', 4, 9, 3, '3');
  const B = kv('b', 3, 3, 1, '22');
  const C = kv('c', 5, 7, 2, '33');
  const D1 = kv('d/1', 6, 6, 1, 'x');
  const D2 = kv('d/2', 2, 2, 1, 'y');

  before(async () => {
    m = await startCairn({ name: 'conf-get' });
    ctl = ctlFor(m);
    ids = await idsOf(m);
    await puts(ctl, data);
  });
  after(async () => {
    await m?.stop();
  });

  it('get of one key (simple, json, fields)', async () => {
    expectOk(await ctl(['get', 'a']), 'a\n3\n');
    assert.deepEqual(expectJson(await ctl(['get', 'a', '-w', 'json'])), {
      header: header(ids, 9),
      kvs: [A],
      count: 1,
    });
    const r = await ctl(['get', 'a', '-w', 'fields']);
    expectOk(
      r,
      [
        `"ClusterID" : ${ids.clusterId}`,
        `"MemberID" : ${ids.memberId}`,
        '"Revision" : 9',
        `"RaftTerm" : ${ids.raftTerm}`,
        '"Key" : "a"',
        '"CreateRevision" : 4',
        '"ModRevision" : 9',
        '"Version" : 3',
        '"Value" : "3"',
        '"Lease" : 0',
        '"More" : false',
        '"Count" : 1',
        '',
      ].join('\n'),
    );
  });

  it('get of a missing key prints nothing (json: header only)', async () => {
    expectOk(await ctl(['get', 'nope']), '');
    assert.deepEqual(expectJson(await ctl(['get', 'nope', '-w', 'json'])), { header: header(ids, 9) });
  });

  it('--prefix', async () => {
    expectOk(
      await ctl(['get', 'd/', '--prefix']),
      simple([
        ['d/1', 'x'],
        ['d/2', 'y'],
      ]),
    );
    assert.deepEqual(expectJson(await ctl(['get', 'd', '--prefix', '-w', 'json'])), {
      header: header(ids, 9),
      kvs: [D1, D2],
      count: 2,
    });
    expectOk(await ctl(['get', 'zzz', '--prefix']), '');
  });

  it('--prefix with an empty key reads every key', async () => {
    expectOk(
      await ctl(['get', '', '--prefix']),
      simple([
        ['a', '3'],
        ['b', '22'],
        ['c', '33'],
        ['d/1', 'x'],
        ['d/2', 'y'],
      ]),
    );
  });

  it('--from-key', async () => {
    expectOk(
      await ctl(['get', 'c', '--from-key']),
      simple([
        ['c', '33'],
        ['d/1', 'x'],
        ['d/2', 'y'],
      ]),
    );
    expectOk(await ctl(['get', 'bb', '--from-key', '--keys-only']), keysOnly(['c', 'd/1', 'd/2']));
    expectOk(await ctl(['get', '', '--from-key', '--keys-only']), keysOnly(['a', 'b', 'c', 'd/1', 'd/2']));
  });

  it('a range [key, range_end)', async () => {
    expectOk(
      await ctl(['get', 'a', 'c']),
      simple([
        ['a', '3'],
        ['b', '22'],
      ]),
    );
    expectOk(await ctl(['get', 'b', 'd/2', '--keys-only']), keysOnly(['b', 'c', 'd/1']));
  });

  it('--keys-only (json omits values)', async () => {
    expectOk(await ctl(['get', '', '--prefix', '--keys-only']), keysOnly(['a', 'b', 'c', 'd/1', 'd/2']));
    assert.deepEqual(expectJson(await ctl(['get', 'c', '--keys-only', '-w', 'json'])), {
      header: header(ids, 9),
      kvs: [kv('c', 5, 7, 2, '')],
      count: 1,
    });
  });

  it('--print-value-only', async () => {
    expectOk(await ctl(['get', 'a', '--print-value-only']), '3\n');
    expectOk(await ctl(['get', '', '--prefix', '--print-value-only']), '3\n22\n33\nx\ny\n');
    expectClientError(
      await ctl(['get', 'a', '--print-value-only', '-w', 'json']),
      128,
      'print-value-only is only for `--write-out=simple`',
    );
  });

  it('--rev reads the past; the header revision stays the current one', async () => {
    expectOk(await ctl(['get', 'a', '--rev=4']), 'a\n1\n');
    expectOk(await ctl(['get', 'a', '--rev=8']), 'a\n2\n');
    expectOk(await ctl(['get', 'd/1', '--rev=5']), '');
    expectOk(await ctl(['get', 'a', '--rev=0']), 'a\n3\n');
    assert.deepEqual(expectJson(await ctl(['get', '', '--prefix', '--rev=5', '-w', 'json'])), {
      header: header(ids, 9),
      kvs: [kv('a', 4, 4, 1, '1'), kv('b', 3, 3, 1, '22'), kv('c', 5, 5, 1, '3'), kv('d/2', 2, 2, 1, 'y')],
      count: 4,
    });
  });

  it('--rev in the future: OutOfRange "etcdserver: mvcc: required revision is a future revision"', async () => {
    expectRpcError(
      await ctl(['get', 'a', '--rev=10']),
      'OutOfRange',
      'etcdserver: mvcc: required revision is a future revision',
    );
    expectRpcError(
      await ctl(['get', '', '--prefix', '--rev=1000']),
      'OutOfRange',
      'etcdserver: mvcc: required revision is a future revision',
    );
  });

  it('--limit: more=true, count ignores the limit', async () => {
    expectOk(
      await ctl(['get', '', '--prefix', '--limit=2']),
      simple([
        ['a', '3'],
        ['b', '22'],
      ]),
    );
    assert.deepEqual(expectJson(await ctl(['get', '', '--prefix', '--limit=2', '-w', 'json'])), {
      header: header(ids, 9),
      kvs: [A, B],
      more: true,
      count: 5,
    });
    assert.deepEqual(expectJson(await ctl(['get', '', '--prefix', '--limit=5', '-w', 'json'])), {
      header: header(ids, 9),
      kvs: [A, B, C, D1, D2],
      count: 5,
    });
    assert.deepEqual(expectJson(await ctl(['get', 'd', '--prefix', '--limit=1', '--rev=6', '-w', 'json'])), {
      header: header(ids, 9),
      kvs: [D1],
      more: true,
      count: 2,
    });
  });

  const sorts: [string, string, string[]][] = [
    ['KEY', 'ASCEND', ['a', 'b', 'c', 'd/1', 'd/2']],
    ['KEY', 'DESCEND', ['d/2', 'd/1', 'c', 'b', 'a']],
    // ties (version 1: b, d/1, d/2) stay in key order in both directions, as etcd's sort does
    ['VERSION', 'ASCEND', ['b', 'd/1', 'd/2', 'c', 'a']],
    ['VERSION', 'DESCEND', ['a', 'c', 'b', 'd/1', 'd/2']],
    ['CREATE', 'ASCEND', ['d/2', 'b', 'a', 'c', 'd/1']],
    ['CREATE', 'DESCEND', ['d/1', 'c', 'a', 'b', 'd/2']],
    ['MODIFY', 'ASCEND', ['d/2', 'b', 'd/1', 'c', 'a']],
    ['MODIFY', 'DESCEND', ['a', 'c', 'd/1', 'b', 'd/2']],
    ['VALUE', 'ASCEND', ['b', 'a', 'c', 'd/1', 'd/2']],
    ['VALUE', 'DESCEND', ['d/2', 'd/1', 'c', 'a', 'b']],
  ];
  for (const [target, order, keys] of sorts) {
    it(`--sort-by=${target} --order=${order}`, async () => {
      expectOk(
        await ctl(['get', '', '--prefix', '--keys-only', `--sort-by=${target}`, `--order=${order}`]),
        keysOnly(keys),
      );
    });
  }

  it('--sort-by without --order ascends; --order without --sort-by sorts by key', async () => {
    expectOk(
      await ctl(['get', '', '--prefix', '--keys-only', '--sort-by=MODIFY']),
      keysOnly(['d/2', 'b', 'd/1', 'c', 'a']),
    );
    expectOk(
      await ctl(['get', '', '--prefix', '--keys-only', '--order=DESCEND']),
      keysOnly(['d/2', 'd/1', 'c', 'b', 'a']),
    );
  });

  it('sort then limit: the limit applies to the sorted result, count to all', async () => {
    assert.deepEqual(
      expectJson(
        await ctl(['get', '', '--prefix', '--sort-by=MODIFY', '--order=DESCEND', '--limit=2', '-w', 'json']),
      ),
      { header: header(ids, 9), kvs: [A, C], more: true, count: 5 },
    );
    assert.deepEqual(
      expectJson(
        await ctl(['get', '', '--prefix', '--sort-by=VALUE', '--order=ASCEND', '--limit=1', '-w', 'json']),
      ),
      { header: header(ids, 9), kvs: [B], more: true, count: 5 },
    );
  });

  it('--consistency=s (serializable) reads the same data', async () => {
    expectOk(await ctl(['get', 'a', '--consistency=s']), 'a\n3\n');
  });

  it('-w table is refused by etcdctl for get (exit 4)', async () => {
    expectClientError(await ctl(['get', 'a', '-w', 'table']), 4, 'table not supported as output format');
  });

  it('--count-only does not exist in etcdctl 3.4 (count is covered through json and the etcd3 client)', async () => {
    const r = await ctl(['get', '', '--prefix', '--count-only']);
    assert.equal(r.code, 1, r.describe());
    assert.ok(r.stderr.includes('Error: unknown flag: --count-only'), r.describe());
  });

  it('reads did not change the revision', async () => {
    assert.equal(await currentRevision(ctl), 9);
  });
});

describe('etcdctl del', () => {
  let m: Member;
  let ctl: Ctl;
  let ids: Ids;
  before(async () => {
    m = await startCairn({ name: 'conf-del' });
    ctl = ctlFor(m);
    ids = await idsOf(m);
    // revisions 2..8
    await puts(ctl, [
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
      ['p/1', 'x'],
      ['p/2', 'y'],
      ['p/3', 'z'],
      ['q', '9'],
    ]);
  });
  after(async () => {
    await m?.stop();
  });

  it('deleting nothing prints 0 and does not change the revision', async () => {
    expectOk(await ctl(['del', 'nothing']), '0\n');
    assert.deepEqual(expectJson(await ctl(['del', 'nothing', '-w', 'json'])), { header: header(ids, 8) });
    assert.equal(await currentRevision(ctl), 8);
  });

  it('del --prev-kv prints the count and the deleted pairs', async () => {
    expectOk(await ctl(['del', 'a', '--prev-kv']), '1\na\n1\n');
    assert.equal(await currentRevision(ctl), 9);
  });

  it('del --prefix --prev-kv -w json: one revision for all, prev_kvs in key order', async () => {
    assert.deepEqual(expectJson(await ctl(['del', 'p/', '--prefix', '--prev-kv', '-w', 'json'])), {
      header: header(ids, 10),
      deleted: 3,
      prev_kvs: [kv('p/1', 5, 5, 1, 'x'), kv('p/2', 6, 6, 1, 'y'), kv('p/3', 7, 7, 1, 'z')],
    });
  });

  it('del of a range [key, range_end)', async () => {
    expectOk(await ctl(['del', 'b', 'c']), '1\n');
    expectOk(await ctl(['get', '', '--prefix', '--keys-only']), keysOnly(['c', 'q']));
  });

  it('del --from-key', async () => {
    assert.deepEqual(expectJson(await ctl(['del', 'c', '--from-key', '-w', 'json'])), {
      header: header(ids, 12),
      deleted: 2,
    });
    assert.deepEqual(expectJson(await ctl(['get', '', '--prefix', '-w', 'json'])), {
      header: header(ids, 12),
    });
  });

  it('history before the deletes is still readable', async () => {
    expectOk(
      await ctl(['get', '', '--prefix', '--rev=8', '--keys-only']),
      keysOnly(['a', 'b', 'c', 'p/1', 'p/2', 'p/3', 'q']),
    );
    expectOk(await ctl(['get', 'p/', '--prefix', '--rev=10']), '');
  });

  it('a re-created key starts again at version 1 with a new create revision', async () => {
    expectOk(await ctl(['put', 'a', 'again']), 'OK\n');
    assert.deepEqual(expectJson(await ctl(['get', 'a', '-w', 'json'])), {
      header: header(ids, 13),
      kvs: [kv('a', 13, 13, 1, 'again')],
      count: 1,
    });
  });

  it('del -w fields', async () => {
    expectOk(
      await ctl(['del', 'a', '-w', 'fields']),
      [
        `"ClusterID" : ${ids.clusterId}`,
        `"MemberID" : ${ids.memberId}`,
        '"Revision" : 14',
        `"RaftTerm" : ${ids.raftTerm}`,
        '"Deleted" : 1',
        '',
      ].join('\n'),
    );
  });
});

describe('etcdctl txn', () => {
  let m: Member;
  let ctl: Ctl;
  let ids: Ids;
  before(async () => {
    m = await startCairn({ name: 'conf-txn' });
    ctl = ctlFor(m);
    ids = await idsOf(m);
    expectOk(await ctl(['put', 'k1', 'v1']), 'OK\n'); // revision 2
  });
  after(async () => {
    await m?.stop();
  });

  it('txn from stdin, success branch: SUCCESS then one block per response', async () => {
    const stdin = 'mod("k1") > "0"\n\nput k1 "new"\nget k1\n\nput k2 "fail"\n\n';
    expectOk(await ctl(['txn'], { stdin }), 'SUCCESS\n\nOK\n\nk1\nnew\n');
    assert.equal(await currentRevision(ctl), 3);
  });

  it('txn -w json, failure branch: inner response headers carry only the revision', async () => {
    const stdin = 'value("k1") = "nope"\n\nput k1 "new2"\n\nput k2 "fail"\nget k2\n\n';
    assert.deepEqual(expectJson(await ctl(['txn', '-w', 'json'], { stdin })), {
      header: header(ids, 4),
      responses: [
        { Response: { ResponsePut: { header: { revision: 4 } } } },
        {
          Response: {
            ResponseRange: { header: { revision: 4 }, kvs: [kv('k2', 4, 4, 1, 'fail')], count: 1 },
          },
        },
      ],
    });
    expectOk(await ctl(['get', 'k1']), 'k1\nnew\n');
  });

  it('several compares (all must hold), reads see earlier writes of the same txn', async () => {
    const stdin =
      [
        'ver("k1") = "2"',
        'create("k1") = "2"',
        'mod("k1") < "1000"',
        'value("k2") != "x"',
        '',
        'get k --prefix',
        'del k2 --prev-kv',
        'put k3 "c"',
        'get k --prefix --keys-only',
        '', // end of success requests
        '', // no failure requests
      ].join('\n') + '\n';
    expectOk(
      await ctl(['txn'], { stdin }),
      'SUCCESS\n\n' +
        simple([
          ['k1', 'new'],
          ['k2', 'fail'],
        ]) +
        '\n1\nk2\nfail\n\nOK\n\n' +
        keysOnly(['k1', 'k3']),
    );
    // all writes of one txn share one revision
    assert.deepEqual(expectJson(await ctl(['get', 'k3', '-w', 'json'])), {
      header: header(ids, 5),
      kvs: [kv('k3', 5, 5, 1, 'c')],
      count: 1,
    });
  });

  it('compares against a missing key: mod/create/version = 0 hold, a value compare fails', async () => {
    expectOk(
      await ctl(['txn'], { stdin: 'mod("nokey") = "0"\ncreate("nokey") = "0"\nver("nokey") = "0"\n\n\n\n' }),
      'SUCCESS\n',
    );
    expectOk(await ctl(['txn'], { stdin: 'value("nokey") = ""\n\n\n\n' }), 'FAILURE\n');
    expectOk(await ctl(['txn'], { stdin: 'value("nokey") != "x"\n\n\n\n' }), 'FAILURE\n');
  });

  it('a txn that writes nothing does not change the revision', async () => {
    expectOk(
      await ctl(['txn'], { stdin: 'mod("k1") = "0"\n\nput k1 "no"\n\nget k1\n\n' }),
      'FAILURE\n\nk1\nnew\n',
    );
    expectOk(await ctl(['txn'], { stdin: '\n\n\n' }), 'SUCCESS\n');
    assert.deepEqual(expectJson(await ctl(['txn', '-w', 'json'], { stdin: 'mod("k1") = "0"\n\n\n\n' })), {
      header: header(ids, 5),
    });
    expectOk(
      await ctl(['txn', '-w', 'fields'], { stdin: 'mod("k1") = "0"\n\n\n\n' }),
      [
        `"ClusterID" : ${ids.clusterId}`,
        `"MemberID" : ${ids.memberId}`,
        '"Revision" : 5',
        `"RaftTerm" : ${ids.raftTerm}`,
        '"Succeeded" : false',
        '',
      ].join('\n'),
    );
    assert.equal(await currentRevision(ctl), 5);
  });

  it('txn -i (interactive) driven through stdin prints its prompts', async () => {
    const stdin = 'value("k1") = "new"\n\nput k1 "v-i"\n\nput k2 "fail"\n\n';
    expectOk(
      await ctl(['txn', '-i'], { stdin }),
      'compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\nSUCCESS\n\nOK\n',
    );
    expectOk(await ctl(['get', 'k1', '--print-value-only']), 'v-i\n');
    assert.equal(await currentRevision(ctl), 6);
  });

  it('duplicate keys in one branch: InvalidArgument "etcdserver: duplicate key given in txn request"', async () => {
    const msg = 'etcdserver: duplicate key given in txn request';
    expectRpcError(await ctl(['txn'], { stdin: '\nput k1 "a"\nput k1 "b"\n\n\n' }), 'InvalidArgument', msg);
    // a put overlapping a delete range in the same branch
    expectRpcError(
      await ctl(['txn'], { stdin: 'mod("k1") > "0"\n\nput k1 "a"\ndel k0 k9\n\n\n' }),
      'InvalidArgument',
      msg,
    );
    // in the failure branch too, even though it would not run
    expectRpcError(
      await ctl(['txn'], { stdin: 'mod("k1") > "0"\n\n\nput k5 "a"\nput k5 "b"\n\n' }),
      'InvalidArgument',
      msg,
    );
    assert.equal(await currentRevision(ctl), 6);
  });

  it('129 operations: InvalidArgument "etcdserver: too many operations in txn request"; 128 are fine', async () => {
    const ops = (n: number): string =>
      Array.from({ length: n }, (_, i) => `put t/${String(i).padStart(3, '0')} "v"`).join('\n');
    expectRpcError(
      await ctl(['txn'], { stdin: `\n${ops(129)}\n\n\n` }),
      'InvalidArgument',
      'etcdserver: too many operations in txn request',
    );
    assert.equal(await currentRevision(ctl), 6);
    const r = await ctl(['txn'], { stdin: `\n${ops(128)}\n\n\n` });
    expectOk(r, 'SUCCESS\n' + '\nOK\n'.repeat(128));
    const j = expectJson(await ctl(['get', 't/', '--prefix', '-w', 'json'])) as {
      header: { revision: number };
      kvs: { create_revision: number; mod_revision: number; version: number }[];
      count: number;
    };
    assert.equal(j.header.revision, 7);
    assert.equal(j.count, 128);
    assert.equal(j.kvs.length, 128);
    for (const k of j.kvs) assert.deepEqual([k.create_revision, k.mod_revision, k.version], [7, 7, 1]);
  });

  it('a get at a compacted revision inside a txn fails the whole txn', async () => {
    expectOk(await ctl(['compaction', '5']), 'compacted revision 5\n');
    expectRpcError(
      await ctl(['txn'], { stdin: '\nput k9 "x"\nget k1 --rev=3\n\n\n' }),
      'OutOfRange',
      'etcdserver: mvcc: required revision has been compacted',
    );
    expectOk(await ctl(['get', 'k9']), '');
    assert.equal(await currentRevision(ctl), 7);
  });
});

describe('etcdctl compaction', () => {
  let m: Member;
  let ctl: Ctl;
  let ids: Ids;
  const COMPACTED = 'etcdserver: mvcc: required revision has been compacted';
  const FUTURE = 'etcdserver: mvcc: required revision is a future revision';
  before(async () => {
    m = await startCairn({ name: 'conf-compact' });
    ctl = ctlFor(m);
    ids = await idsOf(m);
    await puts(ctl, [
      ['k', 'v1'], // 2
      ['k', 'v2'], // 3
      ['k', 'v3'], // 4
      ['other', 'o'], // 5
    ]);
    expectOk(await ctl(['del', 'other']), '1\n'); // 6
    expectOk(await ctl(['put', 'k', 'v4']), 'OK\n'); // 7
  });
  after(async () => {
    await m?.stop();
  });

  it('compaction prints the revision and does not change the store revision', async () => {
    expectOk(await ctl(['compaction', '4']), 'compacted revision 4\n');
    assert.equal(await currentRevision(ctl), 7);
  });

  it('reads below the compaction revision: OutOfRange compacted; at it: still readable', async () => {
    expectRpcError(await ctl(['get', 'k', '--rev=3']), 'OutOfRange', COMPACTED);
    expectRpcError(await ctl(['get', 'k', '--rev=1']), 'OutOfRange', COMPACTED);
    expectOk(await ctl(['get', 'k', '--rev=4']), 'k\nv3\n');
    assert.deepEqual(expectJson(await ctl(['get', 'k', '--rev=4', '-w', 'json'])), {
      header: header(ids, 7),
      kvs: [kv('k', 2, 4, 3, 'v3')],
      count: 1,
    });
    expectOk(await ctl(['get', 'k', '--rev=5']), 'k\nv3\n');
    expectOk(await ctl(['get', 'other', '--rev=5']), 'other\no\n');
  });

  it('compacting at or below the compaction revision: compacted; beyond the store: future', async () => {
    expectRpcError(await ctl(['compaction', '4']), 'OutOfRange', COMPACTED);
    expectRpcError(await ctl(['compaction', '3']), 'OutOfRange', COMPACTED);
    expectRpcError(await ctl(['compaction', '100']), 'OutOfRange', FUTURE);
    expectRpcError(await ctl(['get', 'k', '--rev=8']), 'OutOfRange', FUTURE);
  });

  it('compaction --physical; a key deleted at the compaction revision reads empty there', async () => {
    expectOk(await ctl(['compaction', '6', '--physical']), 'compacted revision 6\n');
    expectRpcError(await ctl(['get', 'other', '--rev=5']), 'OutOfRange', COMPACTED);
    expectOk(await ctl(['get', 'other', '--rev=6']), '');
    expectOk(await ctl(['get', 'k', '--rev=6']), 'k\nv3\n');
    assert.deepEqual(expectJson(await ctl(['get', '', '--prefix', '-w', 'json'])), {
      header: header(ids, 7),
      kvs: [kv('k', 2, 7, 4, 'v4')],
      count: 1,
    });
  });

  it('compaction -w json still prints the plain line; history after it keeps working', async () => {
    expectOk(await ctl(['put', 'k', 'v5']), 'OK\n'); // 8
    expectOk(await ctl(['compaction', '7', '-w', 'json']), 'compacted revision 7\n');
    expectOk(await ctl(['get', 'k', '--rev=7']), 'k\nv4\n');
    expectRpcError(await ctl(['get', 'k', '--rev=6']), 'OutOfRange', COMPACTED);
    assert.equal(await currentRevision(ctl), 8);
  });
});

describe('etcdctl endpoint and member', () => {
  let m: Member;
  let ctl: Ctl;
  let ids: Ids;
  before(async () => {
    m = await startCairn({ name: 'conf-ep' });
    ctl = ctlFor(m);
    ids = await idsOf(m);
    expectOk(await ctl(['put', 'x', 'y']), 'OK\n'); // revision 2
  });
  after(async () => {
    await m?.stop();
  });

  it('endpoint health (simple output goes to stderr)', async () => {
    const r = await ctl(['endpoint', 'health']);
    assert.equal(r.code, 0, r.describe());
    assert.equal(r.stdout, '', r.describe());
    assert.match(
      r.stderr,
      new RegExp(
        `^${m.clientUrl} is healthy: successfully committed proposal: took = \\d+(\\.\\d+)?(ns|µs|ms|s)\\n$`,
      ),
      r.describe(),
    );
  });

  it('endpoint health -w json', async () => {
    const j = expectJson(await ctl(['endpoint', 'health', '-w', 'json'])) as { took: string }[];
    assert.equal(j.length, 1);
    assert.match(j[0]!.took, /^\d+(\.\d+)?(ns|µs|ms|s)$/);
    assert.deepEqual(j, [{ endpoint: m.clientUrl, health: true, took: j[0]!.took }]);
  });

  it('endpoint health -w table', async () => {
    const t = table(await ctl(['endpoint', 'health', '-w', 'table']));
    assert.deepEqual(t.header, ['ENDPOINT', 'HEALTH', 'TOOK', 'ERROR']);
    assert.equal(t.rows.length, 1);
    assert.match(t.rows[0]![2]!, /^\d+(\.\d+)?(ns|µs|ms|s)$/);
    assert.deepEqual(t.rows[0], [m.clientUrl, 'true', t.rows[0]![2], '']);
  });

  it('endpoint status -w json: leader is this member, revision is the store revision', async () => {
    const j = expectJson(await ctl(['endpoint', 'status', '-w', 'json'], { bareEndpoint: true })) as [
      { Endpoint: string; Status: Record<string, unknown> },
    ];
    assert.equal(j.length, 1);
    const s = j[0].Status;
    assert.deepEqual(Object.keys(j[0]), ['Endpoint', 'Status']);
    assert.equal(j[0].Endpoint, m.clientUrl.replace('http://', ''));
    assert.deepEqual(s['header'], header(ids, 2));
    assert.match(String(s['version']), /^\d+\.\d+\.\d+/);
    // Alone it leads; in a cluster (CAIRN_TEST_CLUSTER_SIZE) the framework talks to a follower.
    if (ids.peers.length === 0) assert.equal(String(s['leader']), ids.memberId);
    else
      assert.ok(
        ids.peers.some((p) => p.memberId === String(s['leader'])),
        `leader ${String(s['leader'])}`,
      );
    assert.equal(s['raftTerm'], ids.raftTerm);
    for (const f of ['dbSize', 'raftIndex', 'raftAppliedIndex', 'dbSizeInUse']) {
      assert.ok(Number.isInteger(s[f]) && (s[f] as number) > 0, `${f} = ${String(s[f])}`);
    }
    assert.ok((s['raftAppliedIndex'] as number) <= (s['raftIndex'] as number));
    assert.ok((s['dbSizeInUse'] as number) <= (s['dbSize'] as number));
    // nothing else: no errors, not a learner (zero values are omitted)
    assert.deepEqual(Object.keys(s).sort(), [
      'dbSize',
      'dbSizeInUse',
      'header',
      'leader',
      'raftAppliedIndex',
      'raftIndex',
      'raftTerm',
      'version',
    ]);
  });

  it('endpoint status (simple and table)', async () => {
    const j = expectJson(await ctl(['endpoint', 'status', '-w', 'json'], { bareEndpoint: true })) as [
      { Status: Record<string, unknown> },
    ];
    const s = j[0].Status;
    const r = await ctl(['endpoint', 'status'], { bareEndpoint: true });
    assert.equal(r.code, 0, r.describe());
    assert.equal(r.stderr, '', r.describe());
    const m1 =
      /^(\S+), ([0-9a-f]+), (\S+), (\d+(?:\.\d+)? [kMGT]?B), (true|false), false, (\d+), (\d+), (\d+), \n$/.exec(
        r.stdout,
      );
    assert.ok(m1, `endpoint status line\n${r.describe()}`);
    assert.deepEqual(m1.slice(1, 4), [
      m.clientUrl.replace('http://', ''),
      ids.memberIdHex,
      String(s['version']),
    ]);
    const isLeader = String(ids.peers.length === 0);
    assert.equal(m1[5], isLeader);
    assert.equal(Number(m1[6]), ids.raftTerm);

    const t = table(await ctl(['endpoint', 'status', '-w', 'table'], { bareEndpoint: true }));
    assert.deepEqual(t.header, [
      'ENDPOINT',
      'ID',
      'VERSION',
      'DB SIZE',
      'IS LEADER',
      'IS LEARNER',
      'RAFT TERM',
      'RAFT INDEX',
      'RAFT APPLIED INDEX',
      'ERRORS',
    ]);
    assert.equal(t.rows.length, 1);
    const row = t.rows[0]!;
    assert.match(row[3]!, /^\d+(\.\d+)? [kMGT]?B$/);
    assert.match(row[7]!, /^\d+$/);
    assert.match(row[8]!, /^\d+$/);
    assert.deepEqual(row, [
      m.clientUrl.replace('http://', ''),
      ids.memberIdHex,
      String(s['version']),
      row[3],
      String(ids.peers.length === 0),
      'false',
      String(ids.raftTerm),
      row[7],
      row[8],
      '',
    ]);
  });

  it('member list (simple, json, table)', async () => {
    const j = expectJson(await ctl(['member', 'list', '-w', 'json'])) as {
      header: Record<string, unknown>;
      members: { ID: unknown; peerURLs: string[] }[];
    };
    // MemberList's header carries no revision
    assert.deepEqual(j.header, {
      cluster_id: u64(ids.clusterId),
      member_id: u64(ids.memberId),
      raft_term: ids.raftTerm,
    });
    // One member, or (CAIRN_TEST_CLUSTER_SIZE) this one and its peers, by id.
    assert.equal(j.members.length, 1 + ids.peers.length);
    const self = j.members.find((x) => String(x.ID) === ids.memberId);
    assert.ok(self !== undefined, 'this member is listed');
    const peers = self.peerURLs;
    assert.ok(Array.isArray(peers) && peers.length >= 1, `peerURLs ${JSON.stringify(peers)}`);
    assert.deepEqual(self, {
      ID: u64(ids.memberId),
      name: m.name,
      peerURLs: peers,
      clientURLs: [m.clientUrl],
    });
    for (const p of ids.peers) assert.ok(j.members.some((x) => String(x.ID) === p.memberId));

    const simple = await ctl(['member', 'list']);
    assert.equal(simple.code, 0, simple.describe());
    const lines = simple.stdout.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1 + ids.peers.length);
    assert.ok(
      lines.includes(`${ids.memberIdHex}, started, ${m.name}, ${peers.join(',')}, ${m.clientUrl}, false`),
      simple.describe(),
    );

    const t = table(await ctl(['member', 'list', '-w', 'table']));
    assert.deepEqual(t.header, ['ID', 'STATUS', 'NAME', 'PEER ADDRS', 'CLIENT ADDRS', 'IS LEARNER']);
    assert.equal(t.rows.length, 1 + ids.peers.length);
    assert.deepEqual(
      t.rows.find((r) => r[0] === ids.memberIdHex),
      [ids.memberIdHex, 'started', m.name, peers.join(','), m.clientUrl, 'false'],
    );
  });

  it('the metrics listener serves /health and /metrics', async () => {
    const h = await fetch(`${m.metricsUrl}/health`);
    assert.equal(h.status, 200);
    // etcd 3.4 answers {"health":"true"}; 3.5+ adds "reason". Only the health field is required here.
    const body = (await h.json()) as { health?: unknown };
    assert.equal(body.health, 'true');
    const res = await fetch(`${m.metricsUrl}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    for (const name of ['etcd_mvcc_db_total_size_in_bytes', 'etcd_debugging_mvcc_keys_total']) {
      assert.match(text, new RegExp(`^${name} \\d`, 'm'), `${name} missing from /metrics`);
    }
  });
});

describe('etcdctl with --max-request-bytes=1024 on the server', () => {
  let m: Member;
  let ctl: Ctl;
  let ids: Ids;
  before(async () => {
    m = await startCairn({ name: 'conf-limit', maxRequestBytes: 1024 });
    ctl = ctlFor(m);
    ids = await idsOf(m);
  });
  after(async () => {
    await m?.stop();
  });

  it('a 2000-byte value: InvalidArgument "etcdserver: request is too large", nothing written', async () => {
    expectRpcError(
      await ctl(['put', 'big', 'x'.repeat(2000)]),
      'InvalidArgument',
      'etcdserver: request is too large',
    );
    expectRpcError(
      await ctl(['txn'], { stdin: `\nput big "${'x'.repeat(2000)}"\n\n\n` }),
      'InvalidArgument',
      'etcdserver: request is too large',
    );
    assert.equal(await currentRevision(ctl), 1);
  });

  it('a 500-byte value is accepted', async () => {
    expectOk(await ctl(['put', 'big', 'x'.repeat(500)]), 'OK\n');
    assert.deepEqual(expectJson(await ctl(['get', 'big', '-w', 'json'])), {
      header: header(ids, 2),
      kvs: [kv('big', 2, 2, 1, 'x'.repeat(500))],
      count: 1,
    });
  });

  it('draws the line where etcd does: on the wrapped internal request, about 25 bytes over the put', async () => {
    // etcd measures the marshalled InternalRaftRequest (put + a header holding a 9- or 10-byte request
    // id): key "edge" + 997 bytes is 1022 or 1023 bytes there, + 1001 bytes is 1026 or 1027.
    expectOk(await ctl(['put', 'edge', 'x'.repeat(997)]), 'OK\n');
    expectRpcError(
      await ctl(['put', 'edge', 'x'.repeat(1001)]),
      'InvalidArgument',
      'etcdserver: request is too large',
    );
  });
});
