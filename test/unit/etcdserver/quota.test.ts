/**
 * The backend quota (etcd v3rpc/quota.go, storage/quota.go) and the way out of NOSPACE: compact,
 * defragment, disarm. Also Hash/HashKV/Defragment/snapshot copies through EtcdServer.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { parseServerArgs } from '../../../server/src/etcdserver/config.js';
import { EtcdServer, putCost, txnCost } from '../../../server/src/etcdserver/server.js';
import { EtcdError } from '../../../server/src/errors.js';
import {
  AlarmRequest_AlarmAction as AlarmAction,
  AlarmType,
} from '../../../server/src/proto/gen/etcdserverpb/rpc.js';
import { newLogger } from '../../../server/src/util/logger.js';
import { delReq, putOp, putReq, rangeReq, txnOp, txnReq } from '../apply/requests.js';
import { waitFor } from '../../framework/wait.js';

const dirs: string[] = [];
const servers: EtcdServer[] = [];
after(async () => {
  for (const s of servers) await s.stop().catch(() => undefined);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function startServer(...flags: string[]): Promise<EtcdServer> {
  const d = mkdtempSync(join(tmpdir(), 'cairn-quota-'));
  dirs.push(d);
  const r = parseServerArgs(['--data-dir', d, '--listen-metrics-urls', '', ...flags], {});
  assert.equal(r.kind, 'run');
  const server = await EtcdServer.start(r.config, newLogger('error', true), new Registry(), (err) => {
    throw err;
  });
  servers.push(server);
  return server;
}

const SMALL = 64;
const big = 'x'.repeat(64 * 1024);

async function code(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof EtcdError) return err.code;
    throw err;
  }
  return 'ok';
}

describe('quota', () => {
  it('costs requests as etcd does', () => {
    assert.equal(putCost(putReq('abc', 'hello')), 256 + 3 + 5);
    const t = txnReq({
      success: [putOp('a', '1'), putOp('b', '22')],
      failure: [putOp('ccc', '333'), txnOp(txnReq({ success: [putOp('nested', 'x'.repeat(1000))] }))],
    });
    // The larger branch counts; nested txns are not costed (etcd costTxnReq only looks at puts).
    assert.equal(txnCost(t), Math.max(256 * 2 + 1 + 1 + 1 + 2, 256 + 3 + 3));
    assert.equal(txnCost(txnReq({ success: [] })), 0);
  });

  it('fill → NOSPACE → writes refused, reads and deletes work → compact + defrag + disarm → accepted', async () => {
    const quota = 4 * 1024 * 1024;
    const s = await startServer('--quota-backend-bytes', String(quota));
    const acknowledged: string[] = [];
    let refused = 0;
    for (let i = 0; refused === 0 && i < 1000; i++) {
      const key = `fill-${String(i).padStart(4, '0')}`;
      const c = await code(() => s.put(putReq(key, big), SMALL + big.length));
      if (c === 'ok') acknowledged.push(key);
      else {
        assert.equal(c, 'ErrNoSpace');
        refused++;
      }
    }
    assert.ok(refused === 1 && acknowledged.length > 10, `${acknowledged.length} puts accepted`);
    // The alarm is raised through the log just after the refusal (as in etcd).
    await waitFor('NOSPACE alarm applied', () => s.status().errors.length > 0);
    assert.deepEqual(s.status().errors, [`memberID:${s.identity.memberId} alarm:NOSPACE `]);
    const listed = await s.alarm({ action: AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE });
    assert.deepEqual(listed.alarms, [{ memberID: s.identity.memberId, alarm: AlarmType.NOSPACE }]);
    // Even a small put and a txn with a put are refused now; reads and deletes are not.
    assert.equal(await code(() => s.put(putReq('small', 'v'), SMALL)), 'ErrNoSpace');
    assert.equal(await code(() => s.txn(txnReq({ success: [putOp('t', 'v')] }), SMALL)), 'ErrNoSpace');
    assert.equal(
      (await s.range(rangeReq('fill-', 'fill.', { countOnly: true }))).count,
      BigInt(acknowledged.length),
    );
    const keep = acknowledged.slice(0, 5);
    const del = await s.deleteRange(delReq(acknowledged[5]!, 'fill.'), SMALL);
    assert.equal(del.deleted, BigInt(acknowledged.length - 5));
    // Still NOSPACE until disarmed, even though space could be reclaimed.
    assert.equal(await code(() => s.put(putReq('small', 'v'), SMALL)), 'ErrNoSpace');
    await s.compact({ revision: del.header!.revision, physical: true }, SMALL);
    const before = s.status().dbSize;
    await s.defragment();
    const afterDefrag = s.status();
    assert.ok(
      afterDefrag.dbSize < before && afterDefrag.dbSize < BigInt(quota),
      `${before} → ${afterDefrag.dbSize}`,
    );
    await s.alarm({
      action: AlarmAction.DEACTIVATE,
      memberID: s.identity.memberId,
      alarm: AlarmType.NOSPACE,
    });
    assert.deepEqual(s.status().errors, []);
    assert.equal(await code(() => s.put(putReq('small', 'v'), SMALL)), 'ok');
    // Nothing acknowledged was lost: the kept keys hold their values.
    for (const k of keep) assert.equal((await s.range(rangeReq(k))).kvs[0]?.value.toString(), big);
  });

  it('deletes, reads and txns without puts cost nothing and pass under any quota', async () => {
    const s = await startServer('--quota-backend-bytes', '1');
    assert.equal(await code(() => s.put(putReq('a', 'b'), SMALL)), 'ErrNoSpace');
    assert.equal(await code(() => s.deleteRange(delReq('a'), SMALL)), 'ok');
    assert.equal(await code(() => s.txn(txnReq({ success: [] }), SMALL)), 'ok');
  });
});

describe('maintenance through EtcdServer', () => {
  it('HashKV answers with the header revision, compact revision and hash revision', async () => {
    const s = await startServer();
    for (let i = 0; i < 10; i++) await s.put(putReq(`k${i}`, `v${i}`), SMALL);
    const h = await s.hashKV({ revision: 0n });
    assert.equal(h.header?.revision, 11n);
    assert.equal(h.hashRevision, 11n);
    assert.equal(h.compactRevision, -1n);
    await s.compact({ revision: 5n, physical: true }, SMALL);
    const h2 = await s.hashKV({ revision: 0n });
    assert.equal(h2.compactRevision, 5n);
    assert.equal(h2.hash, h.hash, 'compaction of overwritten-free history keeps the hash');
    assert.equal((await s.hashKV({ revision: 7n })).hashRevision, 7n);
    const whole = await s.hash();
    assert.equal(typeof whole.hash, 'number');
  });

  it('a snapshot copy is a consistent, openable lmdb image taken while writes go on', async () => {
    const s = await startServer();
    for (let i = 0; i < 100; i++) await s.put(putReq(`k${i}`, `v${i}`), SMALL);
    const writes = Array.from({ length: 50 }, (_, i) => s.put(putReq(`during${i}`, 'x'), SMALL));
    const copy = await s.snapshotCopy();
    await Promise.all(writes);
    assert.ok(copy.revision >= 101);
    const image = readFileSync(copy.file);
    assert.equal(image.length % 512, 0);
    assert.equal(createHash('sha256').update(image).digest().length, 32);
    copy.remove();
    assert.ok(!existsSync(copy.file));
  });
});
