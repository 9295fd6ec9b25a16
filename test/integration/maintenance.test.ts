// Maintenance on real cairn processes: Debian etcdctl 3.4's `snapshot save` from cairn, `cairnctl
// snapshot restore` into a new data dir and a new cairn on it (same keys, same HashKV), defrag shrinking
// the file, the quota → NOSPACE → compact + defrag + disarm cycle, and cairnctl's output for defrag,
// alarm and endpoint hashkv compared with etcdctl's against the same server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT, cairnTarget, etcdctl, startCairn, stopAll } from '../framework/index.js';
import type { EtcdctlResult, Member } from '../framework/index.js';

const CAIRNCTL_JS = process.env['CAIRNCTL_BIN'] ?? join(REPO_ROOT, 'dist/server/src/cmd/cairnctl.js');

function cairnctl(endpoint: string, args: readonly string[]): Promise<EtcdctlResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CAIRNCTL_JS, `--endpoints=${endpoint}`, ...args],
      { timeout: 60_000, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const ep = (m: Member): string => m.clientUrl.replace(/^http:\/\//, '');

async function ok(r: Promise<EtcdctlResult>, what: string): Promise<string> {
  const res = await r;
  assert.equal(res.code, 0, `${what}: exit ${res.code}\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

async function status(m: Member): Promise<{ dbSize: number; dbSizeInUse: number }> {
  const out = await ok(etcdctl(ep(m), ['endpoint', 'status', '-w', 'json']), 'endpoint status');
  const s = (JSON.parse(out) as { Status: { dbSize: number; dbSizeInUse?: number } }[])[0]!.Status;
  return { dbSize: s.dbSize, dbSizeInUse: s.dbSizeInUse ?? 0 };
}

async function revisionOf(m: Member): Promise<number> {
  const out = await ok(etcdctl(ep(m), ['get', 'x', '-w', 'json']), 'get');
  return (JSON.parse(out) as { header: { revision: number } }).header.revision;
}

async function putMany(m: Member, prefix: string, n: number, valueBytes: number): Promise<void> {
  // One txn per 100 puts keeps the process count down.
  const value = 'v'.repeat(valueBytes);
  for (let i = 0; i < n; i += 100) {
    const ops = [];
    for (let j = i; j < Math.min(n, i + 100); j++)
      ops.push(`put ${prefix}${String(j).padStart(5, '0')} ${value}`);
    await ok(etcdctl(ep(m), ['txn'], { stdin: `\n${ops.join('\n')}\n\n\n` }), 'txn');
  }
}

describe('maintenance on cairn processes', { skip: cairnTarget() !== 'cairn' ? 'cairn only' : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-maint-'));
  after(async () => {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('etcdctl snapshot save from cairn → cairnctl restore → a new cairn has the same keys and HashKV', async () => {
    const src = await startCairn();
    await putMany(src, 'k', 300, 100);
    await ok(etcdctl(ep(src), ['del', 'k00010']), 'del');
    await ok(etcdctl(ep(src), ['compaction', '3']), 'compaction');
    const revBefore = await revisionOf(src);
    // Writes keep flowing while the snapshot streams.
    let stop = false;
    let acknowledged = 0;
    const writer = (async () => {
      while (!stop) {
        const r = await etcdctl(ep(src), ['put', `during${acknowledged}`, 'x']);
        assert.equal(r.code, 0, r.stderr);
        acknowledged++;
      }
    })();
    const file = join(dir, 'snap.db');
    const saved = await etcdctl(ep(src), ['snapshot', 'save', file]);
    stop = true;
    await writer;
    assert.equal(saved.code, 0, saved.stderr);
    assert.equal(saved.stdout, `Snapshot saved at ${file}\n`);
    assert.equal(statSync(file).size % 512, 32, 'image padded to 512 bytes, then the SHA-256');
    // etcdctl 3.4 opens the file as bbolt for status, which an lmdb image is not.
    const etcdStatus = await etcdctl(ep(src), ['snapshot', 'status', file]);
    assert.equal(etcdStatus.code, 1);
    assert.equal(etcdStatus.stderr, 'Error: invalid database\n');
    const st = await ok(cairnctl(ep(src), ['snapshot', 'status', file, '-w', 'json']), 'status');
    const parsed = JSON.parse(st) as { revision: number; totalKey: number; totalSize: number };
    assert.ok(parsed.revision >= revBefore, `${parsed.revision} < ${revBefore}`);
    assert.equal(parsed.totalSize, statSync(file).size - 32);

    // The snapshot's revision: HashKV at it on the source must equal HashKV on the restored member.
    const snapRev = parsed.revision;
    const srcHash = await ok(etcdctl(ep(src), ['endpoint', 'hashkv', '--rev', String(snapRev)]), 'hashkv');
    const srcKeys = await ok(
      etcdctl(ep(src), ['get', 'k', '--prefix', '--rev', String(snapRev), '--keys-only']),
      'get',
    );

    const dataDir = join(dir, 'restored');
    const restore = await cairnctl(ep(src), [
      'snapshot',
      'restore',
      file,
      '--name',
      'r1',
      '--data-dir',
      dataDir,
      '--initial-cluster',
      'r1=http://127.0.0.1:2380',
      '--initial-advertise-peer-urls',
      'http://127.0.0.1:2380',
      '--initial-cluster-token',
      'tok',
    ]);
    assert.equal(restore.code, 0, restore.stderr);
    assert.match(restore.stderr, /"msg":"restored snapshot"/);
    const again = await cairnctl(ep(src), ['snapshot', 'restore', file, '--data-dir', dataDir]);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `Error: data-dir "${dataDir}" exists\n`);

    const restored = await startCairn({ name: 'r1', dataDir });
    const rHash = await ok(etcdctl(ep(restored), ['endpoint', 'hashkv']), 'hashkv');
    assert.equal(rHash.split(', ')[1], srcHash.split(', ')[1]);
    assert.equal(await ok(etcdctl(ep(restored), ['get', 'k', '--prefix', '--keys-only']), 'get'), srcKeys);
    assert.equal(await revisionOf(restored), snapRev);
    await restored.stop();
    await src.stop();
  });

  it('defrag shrinks the file after most keys are deleted and compacted', async () => {
    const m = await startCairn();
    await putMany(m, 'big', 2000, 2000);
    await ok(etcdctl(ep(m), ['del', 'big', '--prefix']), 'del');
    await ok(etcdctl(ep(m), ['compaction', '--physical', String(await revisionOf(m))]), 'compaction');
    const before = await status(m);
    const out = await ok(cairnctl(ep(m), ['defrag']), 'defrag');
    assert.equal(out, `Finished defragmenting etcd member[${ep(m)}]\n`);
    const afterDefrag = await status(m);
    assert.ok(afterDefrag.dbSize < before.dbSize / 10, `dbSize ${before.dbSize} → ${afterDefrag.dbSize}`);
    assert.ok(afterDefrag.dbSize <= afterDefrag.dbSizeInUse + 64 * 1024, JSON.stringify(afterDefrag));
    // etcdctl's defrag against cairn prints the same.
    assert.equal(await ok(etcdctl(ep(m), ['defrag']), 'etcdctl defrag'), out);
    // The member restarts on the defragmented file.
    await ok(etcdctl(ep(m), ['put', 'after', 'defrag']), 'put');
    await m.restart();
    assert.equal(await ok(etcdctl(ep(m), ['get', 'after', '--print-value-only']), 'get'), 'defrag\n');
    assert.ok(!existsSync(join(m.dataDir, 'member', 'db-defrag-1')));
    await m.stop();
  });

  it('quota: fill → NOSPACE → refused with etcd error → compact + defrag + disarm → accepted, nothing lost', async () => {
    const m = await startCairn({ extraArgs: ['--quota-backend-bytes', String(8 * 1024 * 1024)] });
    const value = 'q'.repeat(100 * 1024);
    const acknowledged: string[] = [];
    let refused: EtcdctlResult | undefined;
    for (let i = 0; i < 200 && refused === undefined; i++) {
      const r = await etcdctl(ep(m), ['put', `fill${i}`, value]);
      if (r.code === 0) acknowledged.push(`fill${i}`);
      else refused = r;
    }
    assert.ok(refused !== undefined, 'the quota was reached');
    assert.ok(
      refused.stderr.endsWith('\nError: etcdserver: mvcc: database space exceeded\n'),
      refused.stderr,
    );
    const alarms = await ok(etcdctl(ep(m), ['alarm', 'list']), 'alarm list');
    assert.match(alarms, /^memberID:\d+ alarm:NOSPACE \n$/);
    assert.equal(await ok(cairnctl(ep(m), ['alarm', 'list']), 'cairnctl alarm list'), alarms);
    const small = await etcdctl(ep(m), ['put', 'small', 'v']);
    assert.ok(small.stderr.endsWith('\nError: etcdserver: mvcc: database space exceeded\n'), small.stderr);
    // Reads and deletes still work.
    const listed = await ok(etcdctl(ep(m), ['get', 'fill', '--prefix', '--keys-only']), 'get');
    assert.equal(listed.split('\n').filter((l) => l !== '').length, acknowledged.length);
    const keep = acknowledged.slice(0, 3);
    for (const k of acknowledged.slice(3)) await ok(etcdctl(ep(m), ['del', k]), 'del');
    await ok(etcdctl(ep(m), ['compaction', '--physical', String(await revisionOf(m))]), 'compaction');
    await ok(cairnctl(ep(m), ['defrag']), 'defrag');
    assert.equal(await ok(cairnctl(ep(m), ['alarm', 'disarm']), 'disarm'), alarms);
    assert.equal(await ok(etcdctl(ep(m), ['alarm', 'list']), 'alarm list'), '');
    await ok(etcdctl(ep(m), ['put', 'small', 'v']), 'put after disarm');
    for (const k of keep) {
      assert.equal(await ok(etcdctl(ep(m), ['get', k, '--print-value-only']), 'get'), `${value}\n`);
    }
    await m.stop();
  });

  it('endpoint hashkv, defrag and alarm list print as etcdctl 3.4 prints them', async () => {
    const m = await startCairn();
    await ok(etcdctl(ep(m), ['put', 'a', '1']), 'put');
    await ok(etcdctl(ep(m), ['put', 'b', '2']), 'put');
    for (const args of [
      ['endpoint', 'hashkv'],
      ['endpoint', 'hashkv', '-w', 'json'],
      ['endpoint', 'hashkv', '-w', 'table'],
      ['endpoint', 'hashkv', '--rev', '2'],
      ['alarm', 'list'],
      ['alarm', 'list', '-w', 'json'],
      ['alarm', 'disarm'],
      ['alarm', 'list', 'extra'],
      ['snapshot', 'save'],
      ['snapshot', 'status'],
    ]) {
      const e = await etcdctl(ep(m), args);
      const c = await cairnctl(ep(m), args);
      assert.deepEqual(
        { code: c.code, stdout: c.stdout, stderr: c.stderr },
        { code: e.code, stdout: e.stdout, stderr: e.stderr },
        args.join(' '),
      );
    }
    // The same history as an etcd member gives the same HashKV (checked against etcd 3.4.23).
    assert.equal(await ok(cairnctl(ep(m), ['endpoint', 'hashkv']), 'hashkv'), `${ep(m)}, 1827592406\n`);
    await m.stop();
  });
});
