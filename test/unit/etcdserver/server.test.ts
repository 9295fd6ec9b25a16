/**
 * EtcdServer in-process, on a temp data dir: round trips with their header revisions, preflight limits,
 * alarms (etcd's capped and corrupt appliers), Status, and what survives a restart. Alarm behaviour was
 * checked against a real etcd 3.4.23.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { ServerConfig } from '../../../server/src/etcdserver/config.js';
import { parseServerArgs } from '../../../server/src/etcdserver/config.js';
import { EtcdServer } from '../../../server/src/etcdserver/server.js';
import { EtcdError } from '../../../server/src/errors.js';
import { MvccError } from '../../../server/src/mvcc/errors.js';
import type { AlarmMember, ResponseOp } from '../../../server/src/proto/gen/etcdserverpb/rpc.js';
import {
  AlarmRequest_AlarmAction as AlarmAction,
  AlarmType,
} from '../../../server/src/proto/gen/etcdserverpb/rpc.js';
import { newLogger } from '../../../server/src/util/logger.js';
import {
  cmp,
  delOp,
  delReq,
  keys,
  putOp,
  putReq,
  rangeOp,
  rangeReq,
  txnOp,
  txnReq,
} from '../apply/requests.js';

const dirs: string[] = [];
const servers: EtcdServer[] = [];
after(async () => {
  for (const s of servers) await s.stop().catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function config(dataDir: string, ...flags: string[]): ServerConfig {
  const r = parseServerArgs(['--data-dir', dataDir, '--listen-metrics-urls', '', ...flags], {});
  assert.equal(r.kind, 'run');
  return r.config;
}

async function startServer(
  dataDir?: string,
  ...flags: string[]
): Promise<{ server: EtcdServer; dataDir: string }> {
  const d = dataDir ?? mkdtempSync(join(tmpdir(), 'cairn-server-'));
  if (dataDir === undefined) dirs.push(d);
  const server = await EtcdServer.start(
    config(d, ...flags),
    newLogger('error', true),
    new Registry(),
    (err) => {
      throw err;
    },
  );
  servers.push(server);
  return { server, dataDir: d };
}

/** A plausible encoded size for small requests (the API layer measures the real one). */
const SMALL = 64;

async function code(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof EtcdError || err instanceof MvccError) return err.code;
    throw err;
  }
  return 'ok';
}

const put = (s: EtcdServer, k: string, v: string) => s.put(putReq(k, v), SMALL);
const rev = (h: { header?: { revision: bigint } | undefined }) => Number(h.header?.revision);
const alarm = (s: EtcdServer, action: AlarmAction, type: AlarmType, memberID = s.identity.memberId) =>
  s.alarm({ action, alarm: type, memberID });
const alarmsOf = (ms: AlarmMember[]) => ms.map((m) => `${m.memberID}:${AlarmType[m.alarm]}`);
const opRev = (r: ResponseOp | undefined): number => {
  const u = r?.response;
  assert.ok(u !== undefined && u.$case !== 'responseTxn');
  return Number(u.value.header?.revision);
};

describe('EtcdServer: KV round trips', () => {
  it('put / range / txn / delete / compact with header revisions', async () => {
    const { server: s } = await startServer();
    const id = s.identity;

    const empty = await s.range(rangeReq('a'));
    assert.equal(rev(empty), 1, 'a fresh store is at revision 1');
    assert.deepEqual(empty.kvs, []);
    assert.equal(empty.count, 0n);
    assert.deepEqual(
      [empty.header?.clusterId, empty.header?.memberId],
      [id.clusterId, id.memberId],
      'headers carry the member identity',
    );
    assert.ok((empty.header?.raftTerm ?? 0n) > 0n);

    const p1 = await put(s, 'a', '1');
    assert.equal(rev(p1), 2);
    assert.equal(p1.prevKv, undefined);
    const p2 = await s.put(putReq('a', '2', { prevKv: true }), SMALL);
    assert.equal(rev(p2), 3);
    assert.equal(p2.prevKv?.value.toString(), '1');
    assert.equal(p2.prevKv?.modRevision, 2n);

    const r = await s.range(rangeReq('a'));
    assert.equal(rev(r), 3);
    const kv = r.kvs[0]!;
    assert.deepEqual(
      [kv.key.toString(), kv.value.toString(), kv.createRevision, kv.modRevision, kv.version, kv.lease],
      ['a', '2', 2n, 3n, 2n, 0n],
    );
    assert.equal(r.count, 1n);
    assert.equal(r.more, false);

    // A writing txn: one new revision; op headers carry only a revision, a nested txn's header is empty.
    const t = await s.txn(
      txnReq({
        compare: [cmp('a', 'VALUE', 'EQUAL', '2')],
        success: [rangeOp('a'), putOp('b', 'x'), rangeOp('a', 'c'), txnOp({ success: [rangeOp('b')] })],
      }),
      SMALL,
    );
    assert.equal(t.succeeded, true);
    assert.equal(rev(t), 4);
    assert.deepEqual([t.header?.clusterId, t.header?.memberId], [id.clusterId, id.memberId]);
    assert.deepEqual(t.responses.slice(0, 3).map(opRev), [3, 4, 4]);
    const op0 = t.responses[0]?.response;
    assert.ok(op0?.$case === 'responseRange');
    assert.deepEqual(op0.value.header, { clusterId: 0n, memberId: 0n, revision: 3n, raftTerm: 0n });
    const nested = t.responses[3]?.response;
    assert.ok(nested?.$case === 'responseTxn');
    assert.deepEqual(nested.value.header, { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n });
    assert.equal(opRev(nested.value.responses[0]), 4);

    // A read-only txn is answered at the current revision and adds none.
    const ro = await s.txn(txnReq({ success: [rangeOp('a', 'c')] }), SMALL);
    assert.equal(rev(ro), 4);
    assert.equal(opRev(ro.responses[0]), 4);

    // A failed compare with an empty else branch writes nothing.
    const no = await s.txn(
      txnReq({ compare: [cmp('a', 'VALUE', 'EQUAL', 'x')], success: [putOp('c', '1')] }),
      SMALL,
    );
    assert.equal(no.succeeded, false);
    assert.equal(rev(no), 4);

    const d = await s.deleteRange(delReq('b', '', { prevKv: true }), SMALL);
    assert.equal(rev(d), 5);
    assert.equal(d.deleted, 1n);
    assert.deepEqual(keys(d.prevKvs), ['b']);
    const d0 = await s.deleteRange(delReq('nothing'), SMALL);
    assert.equal(rev(d0), 5, 'deleting nothing adds no revision');
    assert.equal(d0.deleted, 0n);

    await put(s, 'a', '3'); // rev 6
    const c = await s.compact({ revision: 5n, physical: true }, SMALL);
    assert.equal(rev(c), 6, 'compaction answers with the current revision');
    assert.equal(await code(() => s.range(rangeReq('a', '', { revision: 4n }))), 'ERR_MVCC_COMPACTED');
    assert.equal((await s.range(rangeReq('a', '', { revision: 5n }))).kvs[0]?.value.toString(), '2');
    assert.equal(rev(await s.range(rangeReq('a', '', { revision: 5n }))), 6);
    assert.equal(await code(() => s.range(rangeReq('a', '', { revision: 7n }))), 'ERR_MVCC_FUTURE_REV');
    assert.equal(await code(() => s.compact({ revision: 5n, physical: false }, SMALL)), 'ERR_MVCC_COMPACTED');
    assert.equal(await code(() => s.compact({ revision: 3n, physical: false }, SMALL)), 'ERR_MVCC_COMPACTED');
    assert.equal(
      await code(() => s.compact({ revision: 7n, physical: false }, SMALL)),
      'ERR_MVCC_FUTURE_REV',
    );
    assert.equal(
      rev(await s.compact({ revision: 6n, physical: false }, SMALL)),
      6,
      'compacting at the current rev',
    );
  });

  it('apply-time errors: missing key for ignore_value, unknown lease; nothing is written', async () => {
    const { server: s } = await startServer();
    await put(s, 'a', '1');
    assert.equal(await code(() => s.put(putReq('zz', '', { ignoreValue: true }), SMALL)), 'ErrKeyNotFound');
    assert.equal(await code(() => s.put(putReq('zz', 'v', { lease: 5n }), SMALL)), 'ErrLeaseNotFound');
    assert.equal(
      await code(() =>
        s.txn(txnReq({ success: [putOp('b', '1'), putOp('zz', '', { ignoreLease: true })] }), SMALL),
      ),
      'ErrKeyNotFound',
    );
    assert.equal(
      await code(() => s.txn(txnReq({ success: [putOp('b', '1'), putOp('c', '1', { lease: 7n })] }), SMALL)),
      'ErrLeaseNotFound',
    );
    assert.equal(rev(await s.range(rangeReq('a'))), 2);
    assert.equal((await s.range(rangeReq('b'))).count, 0n);
    // ignore_value on an existing key keeps its value.
    const p = await s.put(putReq('a', '', { ignoreValue: true, prevKv: true }), SMALL);
    assert.equal(rev(p), 3);
    assert.equal((await s.range(rangeReq('a'))).kvs[0]?.value.toString(), '1');
  });

  it('refuses writes larger than --max-request-bytes with ErrRequestTooLarge', async () => {
    const { server: s } = await startServer(undefined, '--max-request-bytes', '1000');
    const big = 2000;
    assert.equal(await code(() => s.put(putReq('a', '1'), big)), 'ErrRequestTooLarge');
    assert.equal(await code(() => s.deleteRange(delReq('a'), big)), 'ErrRequestTooLarge');
    assert.equal(await code(() => s.txn(txnReq({ success: [putOp('a', '1')] }), big)), 'ErrRequestTooLarge');
    assert.equal(await code(() => s.compact({ revision: 1n, physical: false }, big)), 'ErrRequestTooLarge');
    assert.equal(rev(await s.range(rangeReq('a'))), 1, 'nothing was written');
    assert.equal(rev(await s.put(putReq('a', '1'), 100)), 2);
    // Reads do not go through the write path's size check (etcd serves read-only txns without Raft).
    assert.equal(rev(await s.txn(txnReq({ success: [rangeOp('a')] }), big)), 2);
  });

  it('a stopped server answers ErrStopped', async () => {
    const { server: s } = await startServer();
    await s.stop();
    assert.equal(await code(() => s.range(rangeReq('a'))), 'ErrStopped');
    assert.equal(await code(() => put(s, 'a', '1')), 'ErrStopped');
    assert.equal(await code(() => s.status()), 'ErrStopped');
    await s.stop();
  });
});

describe('EtcdServer: alarms', () => {
  it('NOSPACE: puts and writing txns fail, deletes / reads / compaction work; DEACTIVATE restores', async () => {
    const { server: s } = await startServer();
    const me = s.identity.memberId;
    await put(s, 'a', '1');
    await put(s, 'b', '1');
    await put(s, 'c', '1'); // rev 4

    const act = await alarm(s, AlarmAction.ACTIVATE, AlarmType.NOSPACE);
    assert.deepEqual(alarmsOf(act.alarms), [`${me}:NOSPACE`]);
    assert.deepEqual(alarmsOf((await alarm(s, AlarmAction.GET, AlarmType.NONE, 0n)).alarms), [
      `${me}:NOSPACE`,
    ]);
    assert.deepEqual(alarmsOf((await alarm(s, AlarmAction.GET, AlarmType.NOSPACE, 0n)).alarms), [
      `${me}:NOSPACE`,
    ]);
    assert.deepEqual((await alarm(s, AlarmAction.GET, AlarmType.CORRUPT, 0n)).alarms, []);
    assert.deepEqual(s.status().errors, [`memberID:${me} alarm:NOSPACE `]);

    assert.equal(await code(() => put(s, 'a', '2')), 'ErrNoSpace');
    assert.equal(await code(() => s.txn(txnReq({ success: [putOp('x', '1')] }), SMALL)), 'ErrNoSpace');
    assert.equal(
      await code(() =>
        s.txn(txnReq({ compare: [cmp('zz', 'VALUE', 'EQUAL', 'x')], success: [putOp('x', '1')] }), SMALL),
      ),
      'ErrNoSpace',
      'a txn that could put is refused whichever branch would run',
    );
    assert.equal((await s.range(rangeReq('a'))).kvs[0]?.value.toString(), '1');
    assert.equal((await s.txn(txnReq({ success: [rangeOp('a')] }), SMALL)).succeeded, true);
    const d = await s.deleteRange(delReq('c'), SMALL);
    assert.equal(d.deleted, 1n);
    assert.equal(rev(d), 5);
    assert.equal(rev(await s.compact({ revision: 4n, physical: false }, SMALL)), 5);

    const deact = await alarm(s, AlarmAction.DEACTIVATE, AlarmType.NOSPACE);
    assert.deepEqual(alarmsOf(deact.alarms), [`${me}:NOSPACE`]);
    assert.deepEqual((await alarm(s, AlarmAction.DEACTIVATE, AlarmType.NOSPACE)).alarms, [], 'already clear');
    assert.deepEqual(s.status().errors, []);
    assert.equal(rev(await put(s, 'a', '2')), 6);
  });

  it("NOSPACE: a txn that only deletes is allowed (etcd's capped applier charges only puts)", async () => {
    // etcd's applierV3Capped.Txn refuses a txn only when quota Cost(txn) > 0, and costTxn counts the
    // puts of the larger branch; etcd 3.4.23 runs a delete-only txn under NOSPACE.
    const { server: s } = await startServer();
    await put(s, 'a', '1');
    await put(s, 'b', '1');
    await alarm(s, AlarmAction.ACTIVATE, AlarmType.NOSPACE);
    const t = await s.txn(txnReq({ success: [delOp('a'), rangeOp('b')] }), SMALL);
    assert.equal(rev(t), 4);
    assert.equal((await s.range(rangeReq('a'))).count, 0n);
    const t2 = await s.txn(txnReq({ success: [delOp('nothing')] }), SMALL);
    assert.equal(rev(t2), 4);
  });

  it('a NOSPACE alarm of any member blocks puts', async () => {
    const { server: s } = await startServer();
    await alarm(s, AlarmAction.ACTIVATE, AlarmType.NOSPACE, 42n);
    assert.equal(await code(() => put(s, 'a', '1')), 'ErrNoSpace');
    assert.deepEqual(s.status().errors, ['memberID:42 alarm:NOSPACE ']);
    await alarm(s, AlarmAction.DEACTIVATE, AlarmType.NOSPACE, 42n);
    assert.equal(rev(await put(s, 'a', '1')), 2);
  });

  it('activating an alarm that is already active answers with that alarm (as etcd does)', async () => {
    // etcd's AlarmStore.Activate returns the existing AlarmMember; etcd 3.4.23 lists it in the response.
    const { server: s } = await startServer();
    const me = s.identity.memberId;
    await alarm(s, AlarmAction.ACTIVATE, AlarmType.NOSPACE);
    const again = await alarm(s, AlarmAction.ACTIVATE, AlarmType.NOSPACE);
    assert.deepEqual(alarmsOf(again.alarms), [`${me}:NOSPACE`]);
    assert.deepEqual(s.status().errors, [`memberID:${me} alarm:NOSPACE `], 'still listed once');
  });

  it('CORRUPT: every write fails with ErrCorrupt; ranges and read-only txns are still served', async () => {
    const { server: s } = await startServer();
    const me = s.identity.memberId;
    await put(s, 'a', '1'); // rev 2
    await alarm(s, AlarmAction.ACTIVATE, AlarmType.CORRUPT);
    assert.deepEqual(s.status().errors, [`memberID:${me} alarm:CORRUPT `]);
    assert.equal(await code(() => put(s, 'a', '2')), 'ErrCorrupt');
    assert.equal(await code(() => s.deleteRange(delReq('a'), SMALL)), 'ErrCorrupt');
    assert.equal(await code(() => s.txn(txnReq({ success: [delOp('a')] }), SMALL)), 'ErrCorrupt');
    assert.equal(await code(() => s.txn(txnReq({ success: [delOp('nothing')] }), SMALL)), 'ErrCorrupt');
    assert.equal(await code(() => s.compact({ revision: 2n, physical: false }, SMALL)), 'ErrCorrupt');
    assert.equal((await s.range(rangeReq('a'))).kvs[0]?.value.toString(), '1');
    assert.equal((await s.txn(txnReq({ success: [rangeOp('a')] }), SMALL)).succeeded, true);
    await alarm(s, AlarmAction.DEACTIVATE, AlarmType.CORRUPT);
    assert.deepEqual(s.status().errors, []);
    assert.equal(rev(await put(s, 'a', '2')), 3);
  });

  it('CORRUPT: a txn holding a nested txn goes through the write path, as in etcd', async () => {
    // etcd's isTxnReadonly looks only at the top-level ops: a RequestOp_RequestTxn is not a range, so
    // the txn is proposed through Raft and the corrupt applier refuses it (etcd 3.4.23: "corrupt cluster").
    const { server: s } = await startServer();
    await put(s, 'a', '1');
    await alarm(s, AlarmAction.ACTIVATE, AlarmType.CORRUPT);
    assert.equal(
      await code(() => s.txn(txnReq({ success: [txnOp({ success: [rangeOp('a')] })] }), SMALL)),
      'ErrCorrupt',
    );
  });

  it('both alarms at once: status lists both; clearing one leaves the other in force', async () => {
    // Deliberately not etcd 3.4.23's behaviour: there, clearing CORRUPT installs a fresh applier and a
    // still-listed NOSPACE stops blocking puts until the next restart (restoreAlarms). That is a bug.

    const { server: s } = await startServer();
    const me = s.identity.memberId;
    await alarm(s, AlarmAction.ACTIVATE, AlarmType.NOSPACE);
    await alarm(s, AlarmAction.ACTIVATE, AlarmType.CORRUPT);
    assert.deepEqual([...s.status().errors].sort(), [
      `memberID:${me} alarm:CORRUPT `,
      `memberID:${me} alarm:NOSPACE `,
    ]);
    await alarm(s, AlarmAction.DEACTIVATE, AlarmType.CORRUPT);
    assert.equal(await code(() => put(s, 'a', '1')), 'ErrNoSpace');
    assert.equal((await s.deleteRange(delReq('a'), SMALL)).deleted, 0n);
  });
});

describe('EtcdServer: status and restart', () => {
  it('status reports the member, the revision, the applied index and the quota', async () => {
    const { server: s } = await startServer(undefined, '--quota-backend-bytes', '8388608');
    const st0 = s.status();
    assert.equal(rev(st0), 1);
    assert.equal(st0.leader, s.identity.memberId, 'a single member leads');
    assert.equal(st0.header?.memberId, s.identity.memberId);
    assert.equal(st0.header?.clusterId, s.identity.clusterId);
    assert.match(st0.version, /^3\.\d+\.\d+$/, 'kube-apiserver parses an etcd version');
    assert.equal(st0.raftIndex, st0.raftAppliedIndex);
    assert.ok(st0.raftTerm > 0n);
    assert.ok(st0.dbSize > 0n);
    assert.ok(st0.dbSizeInUse > 0n && st0.dbSizeInUse <= st0.dbSize);
    assert.equal(st0.dbSizeQuota, 8388608n);
    assert.equal(st0.isLearner, false);
    assert.deepEqual(st0.errors, []);

    // Every write request is one applied entry; reads are none.
    await put(s, 'a', '1');
    await s.txn(txnReq({ success: [putOp('b', '1'), putOp('c', '1')] }), SMALL);
    await s.deleteRange(delReq('c'), SMALL);
    await s.range(rangeReq('a'));
    await s.txn(txnReq({ success: [rangeOp('a')] }), SMALL);
    const st1 = s.status();
    assert.equal(rev(st1), 4);
    assert.equal(st1.raftIndex - st0.raftIndex, 3n);
    assert.equal(st1.raftAppliedIndex, st1.raftIndex);
  });

  it('a restart on the same dir keeps identity, revision, compaction, applied index and alarms', async () => {
    const first = await startServer();
    const s1 = first.server;
    await put(s1, 'a', '1');
    await put(s1, 'a', '2');
    await put(s1, 'b', '1');
    await s1.compact({ revision: 3n, physical: true }, SMALL);
    await alarm(s1, AlarmAction.ACTIVATE, AlarmType.NOSPACE);
    const before = s1.status();
    await s1.stop();

    const { server: s2 } = await startServer(first.dataDir);
    assert.deepEqual(s2.identity, s1.identity);
    const after = s2.status();
    assert.equal(rev(after), 4);
    // Nothing was lost or applied twice; the one new entry is the empty entry of the new leader's term.
    assert.equal(after.raftIndex, before.raftIndex + 1n);
    assert.equal(after.raftAppliedIndex, before.raftAppliedIndex + 1n);
    assert.ok(after.raftTerm > before.raftTerm);
    assert.deepEqual(after.errors, before.errors);
    assert.deepEqual(after.errors, [`memberID:${s1.identity.memberId} alarm:NOSPACE `]);
    assert.equal(await code(() => put(s2, 'c', '1')), 'ErrNoSpace');
    assert.equal(await code(() => s2.range(rangeReq('a', '', { revision: 2n }))), 'ERR_MVCC_COMPACTED');
    assert.equal((await s2.range(rangeReq('a', '', { revision: 3n }))).kvs[0]?.value.toString(), '2');
    const a = (await s2.range(rangeReq('a'))).kvs[0]!;
    assert.deepEqual([a.createRevision, a.modRevision, a.version], [2n, 3n, 2n]);
    assert.equal(
      await code(() => s2.compact({ revision: 3n, physical: false }, SMALL)),
      'ERR_MVCC_COMPACTED',
    );

    await alarm(s2, AlarmAction.DEACTIVATE, AlarmType.NOSPACE);
    assert.equal(rev(await put(s2, 'c', '1')), 5);
    const st = s2.status();
    await s2.stop();
    const { server: s3 } = await startServer(first.dataDir);
    assert.deepEqual(s3.status().errors, []);
    assert.equal(s3.status().raftIndex, st.raftIndex + 1n, "the new term's empty entry only");
    assert.equal(rev(s3.status()), 5);
    await s3.stop();
  });
});
