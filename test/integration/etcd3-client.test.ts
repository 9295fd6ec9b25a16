// The KV scenarios through a real third-party client, the npm `etcd3` package (microsoft/etcd3), against a
// real cairn process (CAIRN_TEST_TARGET=etcd: against Debian etcd 3.4). The tests of this file run in
// order on one fresh server, so revisions are exact: the first write is revision 2.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  EtcdLeaseInvalidError,
  Etcd3,
  GRPCInvalidArgumentError,
  GRPCOutOfRangeError,
  type IKeyValue,
  type IResponseHeader,
  type ITxnResponse,
} from 'etcd3';
import { identityOf, startCairn, type Identity, type Member } from '../framework/index.js';

/** The fields of a KeyValue as etcd3 returns them (int64s as decimal strings, bytes as Buffers). */
function kvOf(k: IKeyValue): [string, string, string, string, string, string] {
  return [k.key.toString(), k.value.toString(), k.create_revision, k.mod_revision, k.version, k.lease];
}

describe('etcd3 client (npm) against cairn', () => {
  let m: Member;
  let client: Etcd3;
  let id: Identity;

  const checkHeader = (h: IResponseHeader, revision: number): void => {
    assert.equal(h.cluster_id, id.clusterId);
    assert.equal(h.member_id, id.memberId);
    assert.equal(h.revision, String(revision));
    assert.notEqual(h.raft_term, '0');
  };

  /** Rejects with exactly `message` and an error of class `ctor`. */
  const rejects = async (
    p: Promise<unknown>,
    ctor: new (...a: never[]) => Error,
    message: string,
  ): Promise<void> => {
    await assert.rejects(p, (err: unknown) => {
      assert.ok(err instanceof ctor, `expected ${ctor.name}, got ${String(err)}`);
      assert.equal(err.message, message);
      return true;
    });
  };

  const revision = async (): Promise<number> =>
    Number((await client.get('revision-probe').exec()).header.revision);

  before(async () => {
    m = await startCairn({ name: 'etcd3-client' });
    id = await identityOf(m);
    client = new Etcd3({
      hosts: m.clientUrl,
      dialTimeout: 5_000,
      defaultCallOptions: () => ({ deadline: Date.now() + 10_000 }),
    });
  });
  after(async () => {
    client?.close();
    await m?.stop();
  });

  it('put and get one key; headers carry ids and revisions', async () => {
    const missing = await client.get('foo').exec();
    checkHeader(missing.header, 1);
    assert.deepEqual([missing.kvs.length, missing.count, missing.more], [0, '0', false]);
    assert.equal(await client.get('foo').string(), null);

    const p = await client.put('foo').value('bar').exec();
    checkHeader(p.header, 2);
    assert.equal(await client.get('foo').string(), 'bar');
    const r = await client.get('foo').exec();
    checkHeader(r.header, 2);
    assert.deepEqual(r.kvs.map(kvOf), [['foo', 'bar', '2', '2', '1', '0']]);
    assert.equal(r.count, '1');
  });

  it('put returns the previous kv on request; versions and mod revisions advance', async () => {
    const prev = await client.put('foo').value('baz').getPrevious();
    checkHeader(prev.header, 3);
    assert.deepEqual(kvOf(prev), ['foo', 'bar', '2', '2', '1', '0']);
    const r = await client.get('foo').exec();
    assert.deepEqual(r.kvs.map(kvOf), [['foo', 'baz', '2', '3', '2', '0']]);
    assert.equal(await client.get('foo').revision(2).string(), 'bar');
  });

  it('getAll with a prefix: strings, keys, count (count_only), limit with more and count', async () => {
    // revisions 4..8
    for (const [k, v] of [
      ['p/c', '3'],
      ['p/a', '1'],
      ['p/b', '2'],
      ['p/e', '5'],
      ['p/d', '4'],
    ] as const) {
      await client.put(k).value(v).exec();
    }
    assert.deepEqual(await client.getAll().prefix('p/').strings(), {
      'p/a': '1',
      'p/b': '2',
      'p/c': '3',
      'p/d': '4',
      'p/e': '5',
    });
    assert.deepEqual(await client.getAll().prefix('p/').keys(), ['p/a', 'p/b', 'p/c', 'p/d', 'p/e']);
    assert.equal(await client.getAll().prefix('p/').count(), 5);
    assert.equal(await client.getAll().count(), 6);
    const limited = await client.getAll().prefix('p/').limit(2).exec();
    checkHeader(limited.header, 8);
    assert.deepEqual(limited.kvs.map(kvOf), [
      ['p/a', '1', '5', '5', '1', '0'],
      ['p/b', '2', '6', '6', '1', '0'],
    ]);
    assert.equal(limited.more, true);
    assert.equal(limited.count, '5');
  });

  it('getAll sorted by create revision and mod revision, and at a past revision', async () => {
    assert.deepEqual(await client.getAll().prefix('p/').sort('Create', 'Ascend').keys(), [
      'p/c',
      'p/a',
      'p/b',
      'p/e',
      'p/d',
    ]);
    assert.deepEqual(await client.getAll().prefix('p/').sort('Mod', 'Descend').keys(), [
      'p/d',
      'p/e',
      'p/b',
      'p/a',
      'p/c',
    ]);
    assert.deepEqual(await client.getAll().prefix('p/').sort('Key', 'Descend').keys(), [
      'p/e',
      'p/d',
      'p/c',
      'p/b',
      'p/a',
    ]);
    const past = await client.getAll().prefix('p/').revision(5).exec();
    checkHeader(past.header, 8);
    assert.deepEqual(past.kvs.map(kvOf), [
      ['p/a', '1', '5', '5', '1', '0'],
      ['p/c', '3', '4', '4', '1', '0'],
    ]);
    assert.equal(past.count, '2');
  });

  it('delete: one key, nothing (no new revision), a prefix with previous kvs', async () => {
    const d1 = await client.delete().key('p/a').exec();
    checkHeader(d1.header, 9);
    assert.equal(d1.deleted, '1');
    const d0 = await client.delete().key('p/a').exec();
    checkHeader(d0.header, 9);
    assert.equal(d0.deleted, '0');
    const prev = await client.delete().prefix('p/').getPrevious();
    assert.deepEqual(prev.map(kvOf), [
      ['p/b', '2', '6', '6', '1', '0'],
      ['p/c', '3', '4', '4', '1', '0'],
      ['p/d', '4', '8', '8', '1', '0'],
      ['p/e', '5', '7', '7', '1', '0'],
    ]);
    assert.equal(await revision(), 10);
    assert.equal(await client.getAll().prefix('p/').count(), 0);
  });

  it('txn: create-if-absent (Mod == 0) succeeds once, then the else branch reads', async () => {
    const create = (): Promise<ITxnResponse> =>
      client.if('new', 'Mod', '==', 0).then(client.put('new').value('1')).else(client.get('new')).commit();
    const first = await create();
    checkHeader(first.header, 11);
    assert.equal(first.succeeded, true);
    assert.equal(first.responses.length, 1);
    assert.equal(first.responses[0]!.response_put.header.revision, '11');

    const second = await create();
    checkHeader(second.header, 11);
    assert.equal(second.succeeded, false);
    assert.deepEqual(second.responses[0]!.response_range.kvs.map(kvOf), [['new', '1', '11', '11', '1', '0']]);
  });

  it('txn: optimistic update on mod revision, several writes share one revision', async () => {
    const stale = await client
      .if('new', 'Mod', '==', 10)
      .then(client.put('new').value('stale'))
      .else(client.get('new'))
      .commit();
    assert.equal(stale.succeeded, false);
    const ok = await client
      .if('new', 'Mod', '==', 11)
      .and('new', 'Version', '==', 1)
      .and('new', 'Value', '==', '1')
      .and('new', 'Create', '>', 10)
      .then(
        client.put('new').value('2'),
        client.put('other').value('o'),
        client.delete().key('foo'),
        client.get('other'),
      )
      .commit();
    checkHeader(ok.header, 12);
    assert.equal(ok.succeeded, true);
    assert.equal(ok.responses[2]!.response_delete_range.deleted, '1');
    // read-your-writes inside the txn
    assert.deepEqual(ok.responses[3]!.response_range.kvs.map(kvOf), [['other', 'o', '12', '12', '1', '0']]);
    const all = await client.getAll().exec();
    assert.deepEqual(all.kvs.map(kvOf), [
      ['new', '2', '11', '12', '2', '0'],
      ['other', 'o', '12', '12', '1', '0'],
    ]);
    // a Value compare on a missing key fails
    const missing = await client
      .if('absent', 'Value', '==', '')
      .then(client.put('absent').value('x'))
      .commit();
    assert.equal(missing.succeeded, false);
    assert.equal(await revision(), 12);
  });

  it('errors: empty key, duplicate keys in a txn, future revision', async () => {
    await rejects(
      client.put('').value('x').exec(),
      GRPCInvalidArgumentError,
      '3 INVALID_ARGUMENT: etcdserver: key is not provided',
    );
    await rejects(
      client.if('new', 'Mod', '>', 0).then(client.put('d').value('1'), client.put('d').value('2')).commit(),
      GRPCInvalidArgumentError,
      '3 INVALID_ARGUMENT: etcdserver: duplicate key given in txn request',
    );
    await rejects(
      client.get('new').revision(13).exec(),
      GRPCOutOfRangeError,
      '11 OUT_OF_RANGE: etcdserver: mvcc: required revision is a future revision',
    );
    assert.equal(await revision(), 12);
  });

  it('leases are absent: keys carry lease 0 and a put with an unknown lease is refused', async () => {
    assert.deepEqual(
      (await client.getAll().exec()).kvs.map((k) => k.lease),
      ['0', '0'],
    );
    await rejects(
      client.put('leased').value('x').lease('1234').exec(),
      EtcdLeaseInvalidError,
      'Lease 5 NOT_FOUND: etcdserver: requested lease not found is expired or revoked',
    );
    assert.equal(await client.get('leased').string(), null);
  });

  it('compaction: reads below fail with the compacted error, at the revision they work', async () => {
    await client.put('new').value('3').exec(); // 13
    const c = await client.kv.compact({ revision: 12, physical: true });
    checkHeader(c.header, 13);
    await rejects(
      client.get('new').revision(11).exec(),
      GRPCOutOfRangeError,
      '11 OUT_OF_RANGE: etcdserver: mvcc: required revision has been compacted',
    );
    await rejects(
      client.kv.compact({ revision: 12 }),
      GRPCOutOfRangeError,
      '11 OUT_OF_RANGE: etcdserver: mvcc: required revision has been compacted',
    );
    assert.equal(await client.get('new').revision(12).string(), '2');
    assert.equal(await client.get('new').string(), '3');
    assert.equal(await revision(), 13);
  });
});
