/**
 * Leases through EtcdServer in-process (fake clock): grant/revoke/renew/timetolive/list responses and
 * headers, puts and txns attaching keys, what NOSPACE allows, expiry through the write path, and a
 * restart reloading leases with their keys.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { parseServerArgs } from '../../../server/src/etcdserver/config.js';
import { EtcdServer, type EtcdServerOptions } from '../../../server/src/etcdserver/server.js';
import { EtcdError } from '../../../server/src/errors.js';
import {
  AlarmRequest_AlarmAction as AlarmAction,
  AlarmType,
} from '../../../server/src/proto/gen/etcdserverpb/rpc.js';
import { newLogger } from '../../../server/src/util/logger.js';
import { delReq, keys, putOp, putReq, rangeReq, txnReq } from '../apply/requests.js';
import { FakeClock } from '../lease/fake-clock.js';
import { waitFor } from '../../framework/wait.js';

const dirs: string[] = [];
const servers: EtcdServer[] = [];
after(async () => {
  for (const s of servers) await s.stop().catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const SMALL = 64;

async function start(
  options: EtcdServerOptions,
  dataDir?: string,
  ...flags: string[]
): Promise<{ s: EtcdServer; dir: string }> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'cairn-lease-server-'));
  if (dataDir === undefined) dirs.push(dir);
  const r = parseServerArgs(['--data-dir', dir, '--listen-metrics-urls', '', ...flags], {});
  assert.equal(r.kind, 'run');
  const s = await EtcdServer.start(
    r.config,
    newLogger('error', true),
    new Registry(),
    (err) => {
      throw err;
    },
    options,
  );
  servers.push(s);
  return { s, dir };
}

async function code(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof EtcdError) return err.code;
    throw err;
  }
  return 'ok';
}

const liveKeys = async (s: EtcdServer, prefix: string): Promise<string[]> =>
  keys(
    (
      await s.range(
        rangeReq(prefix, prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)),
      )
    ).kvs,
  );

describe('EtcdServer leases', () => {
  it('grant answers with the id, the raised TTL and a header; put and txn attach keys; revoke deletes them in one revision', async () => {
    const { s } = await start({ clock: new FakeClock() });
    const g = await s.leaseGrant({ ID: 0n, TTL: 1n }, SMALL);
    assert.ok(g.ID > 0n);
    assert.equal(g.TTL, 2n);
    assert.equal(g.error, '');
    assert.equal(g.header?.memberId, s.identity.memberId);
    const id = (await s.leaseGrant({ ID: 0x55n, TTL: 100n }, SMALL)).ID;
    assert.equal(id, 0x55n);
    await s.put(putReq('a/2', 'v', { lease: id }), SMALL);
    await s.txn(txnReq({ success: [putOp('a/1', 'v', { lease: id })] }), SMALL);
    await s.put(putReq('a/3', 'v'), SMALL);
    const ttl = await s.leaseTimeToLive({ ID: id, keys: true });
    assert.deepEqual(
      ttl.keys.map((k) => k.toString()),
      ['a/1', 'a/2'],
    );
    assert.equal(ttl.TTL, 100n);
    assert.equal(ttl.grantedTTL, 100n);
    assert.deepEqual((await s.leaseTimeToLive({ ID: id, keys: false })).keys, []);
    const before = (await s.range(rangeReq('x'))).header!.revision;
    const r = await s.leaseRevoke({ ID: id }, SMALL);
    assert.equal(r.header?.revision, before + 1n);
    assert.deepEqual(await liveKeys(s, 'a/'), ['a/3']);
    assert.equal(await code(() => s.leaseRevoke({ ID: id }, SMALL)), 'ErrLeaseNotFound');
    assert.equal(await code(() => s.leaseGrant({ ID: g.ID, TTL: 5n }, SMALL)), 'ErrLeaseExists');
    assert.equal(
      await code(() => s.leaseGrant({ ID: 0n, TTL: 9_000_000_001n }, SMALL)),
      'ErrLeaseTTLTooLarge',
    );
  });

  it('a put or txn naming an unknown lease fails with ErrLeaseNotFound and writes nothing', async () => {
    const { s } = await start({ clock: new FakeClock() });
    const rev = (await s.range(rangeReq('x'))).header!.revision;
    assert.equal(await code(() => s.put(putReq('k', 'v', { lease: 99n }), SMALL)), 'ErrLeaseNotFound');
    assert.equal(
      await code(() => s.txn(txnReq({ success: [putOp('k', 'v', { lease: 99n })] }), SMALL)),
      'ErrLeaseNotFound',
    );
    assert.equal((await s.range(rangeReq('x'))).header!.revision, rev);
  });

  it('moving a key to another lease or deleting it detaches it', async () => {
    const { s } = await start({ clock: new FakeClock() });
    await s.leaseGrant({ ID: 1n, TTL: 60n }, SMALL);
    await s.leaseGrant({ ID: 2n, TTL: 60n }, SMALL);
    await s.put(putReq('k', 'v', { lease: 1n }), SMALL);
    await s.put(putReq('j', 'v', { lease: 1n }), SMALL);
    await s.put(putReq('k', 'v', { lease: 2n }), SMALL);
    await s.deleteRange(delReq('j'), SMALL);
    assert.deepEqual((await s.leaseTimeToLive({ ID: 1n, keys: true })).keys, []);
    assert.deepEqual(
      (await s.leaseTimeToLive({ ID: 2n, keys: true })).keys.map((k) => k.toString()),
      ['k'],
    );
    // Revoking lease 1 must not touch k, which moved to lease 2.
    await s.leaseRevoke({ ID: 1n }, SMALL);
    assert.deepEqual(await liveKeys(s, 'k'), ['k']);
  });

  it('renew, timetolive and list: unknown leases are TTL 0 / TTL -1, not errors', async () => {
    const clock = new FakeClock();
    const { s } = await start({ clock });
    await s.leaseGrant({ ID: 7n, TTL: 10n }, SMALL);
    await s.leaseGrant({ ID: 8n, TTL: 5n }, SMALL);
    clock.advance(4000);
    assert.equal((await s.leaseTimeToLive({ ID: 7n, keys: false })).TTL, 6n);
    const ka = await s.leaseRenew(7n);
    assert.equal(ka.TTL, 10n);
    assert.equal(ka.ID, 7n);
    assert.ok(ka.header !== undefined);
    assert.equal((await s.leaseTimeToLive({ ID: 7n, keys: false })).TTL, 10n);
    assert.equal((await s.leaseRenew(1234n)).TTL, 0n);
    const gone = await s.leaseTimeToLive({ ID: 1234n, keys: true });
    assert.deepEqual([gone.ID, gone.TTL, gone.grantedTTL, gone.keys], [1234n, -1n, 0n, []]);
    assert.deepEqual(
      s.leaseLeases().leases.map((l) => l.ID),
      [8n, 7n],
    );
  });

  it('under NOSPACE a grant is refused while revoke still works', async () => {
    const { s } = await start({ clock: new FakeClock() });
    await s.leaseGrant({ ID: 1n, TTL: 60n }, SMALL);
    await s.alarm({ action: AlarmAction.ACTIVATE, memberID: s.identity.memberId, alarm: AlarmType.NOSPACE });
    assert.equal(await code(() => s.leaseGrant({ ID: 2n, TTL: 60n }, SMALL)), 'ErrNoSpace');
    assert.equal(await code(() => s.leaseRevoke({ ID: 1n }, SMALL)), 'ok');
  });

  it('a grant that would pass the backend quota raises NOSPACE and fails (etcd leaseOverhead)', async () => {
    const { s } = await start({ clock: new FakeClock() }, undefined, '--quota-backend-bytes', '1');
    assert.equal(await code(() => s.leaseGrant({ ID: 1n, TTL: 60n }, SMALL)), 'ErrNoSpace');
    // The alarm is raised through the log, after the refusal (etcd does the same).
    await waitFor('NOSPACE alarm applied', async () => {
      const r = await s.alarm({ action: AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE });
      return r.alarms.length > 0;
    });
    const alarms = await s.alarm({ action: AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE });
    assert.deepEqual(
      alarms.alarms.map((a) => a.alarm),
      [AlarmType.NOSPACE],
    );
    assert.equal(s.leaseLeases().leases.length, 0);
  });

  it('expiry revokes through the write path: keys deleted in one revision', async () => {
    const clock = new FakeClock();
    const { s } = await start({ clock });
    await s.leaseGrant({ ID: 3n, TTL: 2n }, SMALL);
    await s.put(putReq('e/a', 'v', { lease: 3n }), SMALL);
    const last = (await s.put(putReq('e/b', 'v', { lease: 3n }), SMALL)).header!.revision;
    clock.advance(1999);
    assert.equal(s.leaseLeases().leases.length, 1);
    clock.advance(1);
    // The leader proposes the revoke; it is gone once applied.
    await waitFor('expired lease revoked', () => s.leaseLeases().leases.length === 0);
    // The next write's answer means everything before it is durable.
    const after = (await s.put(putReq('probe', 'v'), SMALL)).header!.revision;
    assert.equal(after, last + 2n, 'one revision for the revoke, one for the probe');
    assert.deepEqual(await liveKeys(s, 'e/'), []);
  });

  it('a restart reloads leases and keys; the lessor is promoted with full TTLs again', async () => {
    const clock = new FakeClock();
    const { s, dir } = await start({ clock });
    await s.leaseGrant({ ID: 9n, TTL: 30n }, SMALL);
    await s.put(putReq('r/k', 'v', { lease: 9n }), SMALL);
    clock.advance(25_000);
    await s.stop();
    const clock2 = new FakeClock();
    const { s: s2 } = await start({ clock: clock2, lessor: { promoteExtendMs: 0 } }, dir);
    const ttl = await s2.leaseTimeToLive({ ID: 9n, keys: true });
    assert.equal(ttl.TTL, 30n);
    assert.deepEqual(
      ttl.keys.map((k) => k.toString()),
      ['r/k'],
    );
    await s2.leaseRevoke({ ID: 9n }, SMALL);
    assert.deepEqual(await liveKeys(s2, 'r/'), []);
  });
});
