// Leases on a real cairn process (CAIRN_TEST_TARGET=etcd: on Debian etcd 3.4, which these expectations
// were checked against): etcdctl's lease commands, puts with --lease, revoke and expiry deleting the
// attached keys in one revision (with one DELETE event each), the raw LeaseKeepAlive stream, the npm
// etcd3 client, and what a restart keeps.
import assert from 'node:assert/strict';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { Etcd3, type IKeyValue } from 'etcd3';
import {
  ctlFor,
  expectJson,
  expectOk,
  startCairn,
  waitFor as poll,
  type CtlResult,
  type Member,
} from '../framework/index.js';
import { splitStderr } from '../framework/output.js';
import { putRequest, rangeRequest } from '../../server/src/proto/messages.js';
import {
  KVClient,
  LeaseClient,
  type LeaseGrantResponse,
  type LeaseKeepAliveResponse,
} from '../../server/src/proto/gen/etcdserverpb/rpc.js';

/** Polls every 100 ms (the probes run etcdctl or RPCs), 15 s by default. */
const waitFor = (what: string, probe: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> =>
  poll(what, probe, timeoutMs, 100);

const LEASE_GRANTED = /^lease ([0-9a-f]{16}) granted with TTL\((\d+)s\)\n$/;

describe('leases (etcdctl, gRPC, etcd3) against cairn', { timeout: 300_000 }, () => {
  let m: Member;
  let ctl: (args: readonly string[]) => Promise<CtlResult>;
  let lease: LeaseClient;
  let e3: Etcd3;

  before(async () => {
    m = await startCairn({ name: 'lease' });
    ctl = ctlFor(m);
    lease = new LeaseClient(new URL(m.clientUrl).host, credentials.createInsecure());
    e3 = new Etcd3({ hosts: m.clientUrl, dialTimeout: 5_000 });
  });
  after(async () => {
    lease?.close();
    e3?.close();
    await m?.stop();
  });

  const grant = async (ttl: number): Promise<string> => {
    const r = await ctl(['lease', 'grant', String(ttl)]);
    const match = LEASE_GRANTED.exec(r.stdout);
    assert.ok(r.code === 0 && match !== null, r.describe());
    assert.equal(match[2], String(Math.max(ttl, 2)));
    return match[1]!;
  };

  const revision = async (): Promise<number> => {
    const j = expectJson(await ctl(['get', 'revision-probe', '-w', 'json'])) as {
      header: { revision: number };
    };
    return j.header.revision;
  };

  const keys = async (prefix: string): Promise<string[]> => {
    const r = await ctl(['get', prefix, '--prefix', '--keys-only']);
    assert.equal(r.code, 0, r.describe());
    return r.stdout.split('\n').filter((l) => l !== '');
  };

  it('grant, put --lease, timetolive --keys, list, keep-alive --once, revoke: keys gone in one revision', async () => {
    const id = await grant(600);
    expectOk(await ctl(['put', '--lease', id, 'lk/b', 'v2']), 'OK\n');
    expectOk(await ctl(['put', '--lease', id, 'lk/a', 'v1']), 'OK\n');
    expectOk(await ctl(['put', 'lk/plain', 'v3']), 'OK\n');
    const got = expectJson(await ctl(['get', 'lk/a', '-w', 'json'])) as { kvs: { lease: number | string }[] };
    assert.equal(BigInt(got.kvs[0]!.lease), BigInt(`0x${id}`));

    const ttl = await ctl(['lease', 'timetolive', '--keys', id]);
    // cairn lists keys sorted; etcd in Go map order.
    const tm =
      /^lease (\w+) granted with TTL\(600s\), remaining\((\d+)s\), attached keys\(\[(?:lk\/a lk\/b|lk\/b lk\/a)\]\)\n$/.exec(
        ttl.stdout,
      );
    assert.ok(tm !== null && tm[1] === id, ttl.describe());
    assert.ok(Number(tm[2]) >= 590 && Number(tm[2]) <= 600, ttl.describe());
    const list = await ctl(['lease', 'list']);
    assert.ok(list.stdout.split('\n').includes(id), list.describe());
    expectOk(await ctl(['lease', 'keep-alive', '--once', id]), `lease ${id} keepalived with TTL(600)\n`);

    const before = await revision();
    expectOk(await ctl(['lease', 'revoke', id]), `lease ${id} revoked\n`);
    assert.equal(await revision(), before + 1, 'both keys deleted in one revision');
    assert.deepEqual(await keys('lk/'), ['lk/plain']);
    expectOk(await ctl(['lease', 'timetolive', id]), `lease ${id} already expired\n`);

    const ka = await ctl(['lease', 'keep-alive', '--once', id]);
    assert.equal(ka.code, 2, ka.describe());
    assert.deepEqual(splitStderr(ka.stderr).lines, ['Error: etcdserver: requested lease not found']);
    const again = await ctl(['lease', 'revoke', id]);
    assert.equal(again.code, 1, again.describe());
    const err = splitStderr(again.stderr);
    assert.deepEqual(err.lines, ['Error: failed to revoke lease (etcdserver: requested lease not found)']);
    assert.deepEqual(err.clientErrors, [
      'rpc error: code = NotFound desc = etcdserver: requested lease not found',
    ]);
  });

  it('refuses a too large TTL and a put naming an unknown lease; raises a small TTL to 2 s', async () => {
    const big = await ctl(['lease', 'grant', '9000000001']);
    assert.equal(big.code, 1, big.describe());
    assert.deepEqual(splitStderr(big.stderr).clientErrors, [
      'rpc error: code = OutOfRange desc = etcdserver: too large lease TTL',
    ]);
    assert.ok(LEASE_GRANTED.test((await ctl(['lease', 'grant', '9000000000'])).stdout));
    await grant(1);
    const put = await ctl(['put', '--lease', '123abc', 'nolease', 'v']);
    assert.equal(put.code, 1, put.describe());
    assert.deepEqual(splitStderr(put.stderr).clientErrors, [
      'rpc error: code = NotFound desc = etcdserver: requested lease not found',
    ]);
  });

  it('grants a client-chosen id once; a second grant fails with "lease already exists"', async () => {
    const grantRaw = (ID: bigint) =>
      new Promise<LeaseGrantResponse>((resolve, reject) =>
        lease.leaseGrant({ ID, TTL: 60n }, (err, res) => (err ? reject(err) : resolve(res))),
      );
    const first = await grantRaw(0x7e57n);
    assert.equal(first.ID, 0x7e57n);
    assert.equal(first.TTL, 60n);
    await assert.rejects(grantRaw(0x7e57n), (err: ServiceError) => {
      assert.equal(err.code, 9); // FAILED_PRECONDITION
      assert.equal(err.details, 'etcdserver: lease already exists');
      return true;
    });
  });

  it('LeaseKeepAlive stream: one response per request, in order, header filled, unknown lease TTL 0', async () => {
    const id = BigInt(`0x${await grant(30)}`);
    const stream = lease.leaseKeepAlive();
    const responses: LeaseKeepAliveResponse[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (r: LeaseKeepAliveResponse) => {
        responses.push(r);
        if (responses.length === 4) resolve();
      });
      stream.on('error', reject);
    });
    for (const ID of [id, 424242n, id, -1n]) stream.write({ ID });
    await done;
    stream.end();
    assert.deepEqual(
      responses.map((r) => [r.ID, r.TTL]),
      [
        [id, 30n],
        [424242n, 0n],
        [id, 30n],
        [-1n, 0n],
      ],
    );
    for (const r of responses) {
      assert.ok(r.header !== undefined && r.header.revision > 0n && r.header.memberId !== 0n);
    }
  });

  it('LeaseKeepAlive stream: a client that reads late still gets every answer, in order', async () => {
    const id = BigInt(`0x${await grant(30)}`);
    const n = 20_000;
    const stream = lease.leaseKeepAlive();
    for (let i = 0; i < n; i++) stream.write({ ID: i % 2 === 0 ? id : BigInt(i) });
    await new Promise((r) => setTimeout(r, 500));
    let got = 0;
    let inOrder = true;
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (r: LeaseKeepAliveResponse) => {
        if (r.ID !== (got % 2 === 0 ? id : BigInt(got))) inOrder = false;
        if (++got === n) resolve();
      });
      stream.on('error', reject);
    });
    stream.end();
    assert.ok(inOrder, 'answers in request order');
  });

  it('garbage on the lease RPCs and the keep-alive stream gets an error, never a crash', async () => {
    const raw = new Client(new URL(m.clientUrl).host, credentials.createInsecure());
    const garbage = [
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      Buffer.from([0x0a, 0x7f, 0x01]),
      Buffer.from([0x0f]),
    ];
    try {
      for (const method of ['LeaseGrant', 'LeaseRevoke', 'LeaseTimeToLive', 'LeaseLeases']) {
        for (const body of garbage) {
          await new Promise<void>((resolve) => {
            raw.makeUnaryRequest(
              `/etcdserverpb.Lease/${method}`,
              (b: Buffer) => b,
              (b: Buffer) => b,
              body,
              new Metadata(),
              { deadline: Date.now() + 5000 },
              () => resolve(),
            );
          });
        }
      }
      for (const body of garbage) {
        const call = raw.makeBidiStreamRequest(
          '/etcdserverpb.Lease/LeaseKeepAlive',
          (b: Buffer) => b,
          (b: Buffer) => b,
          new Metadata(),
          { deadline: Date.now() + 5000 },
        );
        const ended = new Promise<void>((resolve) => {
          call.on('error', () => resolve());
          call.on('end', () => resolve());
        });
        call.on('data', () => undefined);
        call.write(body);
        call.end();
        await ended;
      }
      // A stream the client walks away from in the middle.
      const abandoned = lease.leaseKeepAlive();
      abandoned.on('error', () => undefined);
      abandoned.write({ ID: 1n });
      abandoned.cancel();
    } finally {
      raw.close();
    }
    const id = await grant(10);
    expectOk(await ctl(['lease', 'keep-alive', '--once', id]), `lease ${id} keepalived with TTL(10)\n`);
  });

  it('expiry deletes every attached key in one revision, with one DELETE event each', async () => {
    const watcher = await e3.watch().prefix('exp/').create();
    const deletes: IKeyValue[] = [];
    watcher.on('delete', (kv) => deletes.push(kv));
    try {
      const id = await grant(2);
      for (const k of ['exp/c', 'exp/a', 'exp/b'])
        expectOk(await ctl(['put', '--lease', id, k, 'v']), 'OK\n');
      const last = await revision();
      await waitFor('the keys to expire', async () => (await keys('exp/')).length === 0);
      await waitFor('three DELETE events', () => Promise.resolve(deletes.length === 3));
      assert.deepEqual(
        deletes.map((kv) => [kv.key.toString(), kv.mod_revision]),
        [
          ['exp/a', String(last + 1)],
          ['exp/b', String(last + 1)],
          ['exp/c', String(last + 1)],
        ],
      );
      assert.equal(await revision(), last + 1);
      expectOk(await ctl(['lease', 'timetolive', id]), `lease ${id} already expired\n`);
      assert.ok(!(await ctl(['lease', 'list'])).stdout.includes(id));
    } finally {
      await watcher.cancel();
    }
  });

  it('mass expiry: 1,500 leases with a key each expire as 1,500 revisions while writes go on', async () => {
    const kv = new KVClient(new URL(m.clientUrl).host, credentials.createInsecure());
    const put = (key: string, ID = 0n) =>
      new Promise<bigint>((resolve, reject) =>
        kv.put(putRequest({ key: Buffer.from(key), value: Buffer.from('v'), lease: ID }), (err, res) =>
          err ? reject(err) : resolve(res.header!.revision),
        ),
      );
    const grantRaw = (TTL: bigint) =>
      new Promise<bigint>((resolve, reject) =>
        lease.leaseGrant({ ID: 0n, TTL }, (err, res) => (err ? reject(err) : resolve(res.ID))),
      );
    try {
      const n = 1500;
      // TTL 4 s leaves room for granting and attaching on a loaded machine; the count below starts
      // before the keys are attached, so leases expiring while others are still being attached count too.
      const ids = await Promise.all(Array.from({ length: n }, () => grantRaw(4n)));
      const before = await put('mass-probe');
      await Promise.all(ids.map((id, i) => put(`mass/${String(i).padStart(4, '0')}`, id)));
      let writes = 0;
      await waitFor(
        'every mass/ key to expire',
        async () => {
          await put('mass-probe');
          writes++;
          const count = await new Promise<bigint>((resolve, reject) =>
            kv.range(
              rangeRequest({ key: Buffer.from('mass/'), rangeEnd: Buffer.from('mass0'), countOnly: true }),
              (err, res) => (err ? reject(err) : resolve(res.count)),
            ),
          );
          return count === 0n;
        },
        30_000,
      );
      // One revision per attached key, one per expired lease (each revoked in its own write), plus
      // the probe writes.
      const end = await put('mass-probe');
      assert.equal(end, before + BigInt(2 * n) + BigInt(writes) + 1n);
    } finally {
      kv.close();
    }
  });

  it('etcd3 client: grant, put with the lease, keepaliveOnce, auto keep-alive past the TTL, revoke', async () => {
    const l = e3.lease(60, { autoKeepAlive: false });
    const id = await l.grant();
    await l.put('e3/k').value('v').exec();
    const kv = await e3.get('e3/k').exec();
    assert.equal(kv.kvs[0]?.lease, id);
    const ka = await l.keepaliveOnce();
    assert.equal(ka.TTL, '60');
    await l.revoke();
    assert.equal(await e3.get('e3/k').string(), null);

    const kept = e3.lease(2);
    await kept.put('e3/kept').value('v').exec();
    await new Promise((r) => setTimeout(r, 3500));
    assert.equal(await e3.get('e3/kept').string(), 'v', 'auto keep-alive kept the key past its 2 s TTL');
    await kept.revoke();
    assert.equal(await e3.get('e3/kept').string(), null);
  });

  it("exports etcd's lease metrics", async () => {
    const text = await (await fetch(`${m.metricsUrl}/metrics`)).text();
    const value = (name: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      assert.ok(line !== undefined, `${name} missing`);
      return Number(line.split(' ')[1]);
    };
    assert.ok(value('etcd_debugging_lease_granted_total') >= 5);
    assert.ok(value('etcd_debugging_lease_revoked_total') >= 2);
    assert.ok(value('etcd_debugging_lease_renewed_total') >= 2);
    assert.ok(value('etcd_debugging_lease_ttl_total_count') >= 5);
    assert.ok(value('etcd_debugging_server_lease_expired_total') >= 1);
  });

  it('a restart keeps leases and their keys and gives every lease its full TTL again', async () => {
    const long = await grant(600);
    const short = await grant(10);
    expectOk(await ctl(['put', '--lease', long, 'rs/long', 'v']), 'OK\n');
    expectOk(await ctl(['put', '--lease', short, 'rs/short', 'v']), 'OK\n');
    await new Promise((r) => setTimeout(r, 2000));
    await m.restart();
    const ttl = await ctl(['lease', 'timetolive', '--keys', long]);
    assert.match(
      ttl.stdout,
      /granted with TTL\(600s\), remaining\((599|600|601)s\), attached keys\(\[rs\/long\]\)/,
    );
    // The 10 s lease had at most 8 s left before the restart (which itself takes a while: open streams
    // hold the shutdown for its grace period); after it the lease has its whole TTL again (etcd's Promote).
    const s = await ctl(['lease', 'timetolive', '--keys', short]);
    const rem = /remaining\((\d+)s\), attached keys\(\[rs\/short\]\)/.exec(s.stdout);
    assert.ok(rem !== null && Number(rem[1]) >= 9, s.describe());
    await waitFor(
      'the short lease to expire after the restart',
      async () => (await keys('rs/')).length === 1,
      20_000,
    );
    assert.deepEqual(await keys('rs/'), ['rs/long']);
    expectOk(await ctl(['lease', 'revoke', long]), `lease ${long} revoked\n`);
    assert.deepEqual(await keys('rs/'), []);
  });
});
