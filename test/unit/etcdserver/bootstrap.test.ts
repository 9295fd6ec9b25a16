import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { open } from 'lmdb';
import { Registry } from 'prom-client';
import { newBackendMetrics } from '../../../server/src/backend/metrics.js';
import type { OpenedDataDir } from '../../../server/src/etcdserver/bootstrap.js';
import { DataDirError, openDataDir, STORAGE_VERSION } from '../../../server/src/etcdserver/bootstrap.js';
import { newLogger } from '../../../server/src/util/logger.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cairn-bootstrap-'));
  dirs.push(d);
  return d;
}

function openDir(dataDir: string): Promise<OpenedDataDir> {
  return openDataDir({
    dataDir,
    logger: newLogger('error', true),
    metrics: newBackendMetrics(new Registry()),
    onFatal: (err) => {
      throw err;
    },
  });
}

async function close(d: OpenedDataDir): Promise<void> {
  await d.backend.close();
  d.release();
}

async function refusal(dataDir: string): Promise<string> {
  try {
    const d = await openDir(dataDir);
    await close(d);
  } catch (err) {
    assert.ok(err instanceof DataDirError, `not a DataDirError: ${String(err)}`);
    return err.message;
  }
  assert.fail(`opened ${dataDir}`);
}

const pidFile = (dataDir: string) => join(dataDir, 'member', 'cairn.pid');

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  assert.ok(r.pid !== undefined && r.pid > 0);
  return r.pid;
}

describe('openDataDir', () => {
  it('initialises a missing dir, then reopens it with the same cluster and member ids', async () => {
    const dataDir = join(tempDir(), 'new', 'nested');
    const first = await openDir(dataDir);
    assert.equal(first.fresh, true);
    assert.notEqual(first.identity.clusterId, 0n);
    assert.notEqual(first.identity.memberId, 0n);
    assert.ok(first.identity.clusterId < 1n << 64n);
    assert.ok(existsSync(join(dataDir, 'member', 'db', 'data.mdb')));
    assert.equal(readFileSync(pidFile(dataDir), 'utf8').trim(), String(process.pid));
    assert.equal(first.backend.get('meta', Buffer.from('storageVersion'))?.toString(), STORAGE_VERSION);
    await close(first);
    assert.equal(existsSync(pidFile(dataDir)), false, 'release removes the pid file');

    const second = await openDir(dataDir);
    assert.equal(second.fresh, false);
    assert.deepEqual(second.identity, first.identity);
    await close(second);
  });

  it('initialises an existing empty dir; two new members get different ids', async () => {
    const a = await openDir(tempDir());
    const b = await openDir(tempDir());
    assert.equal(a.fresh, true);
    assert.notEqual(a.identity.memberId, b.identity.memberId);
    assert.notEqual(a.identity.clusterId, b.identity.clusterId);
    await close(a);
    await close(b);
  });

  it('refuses a non-empty dir that is not a Cairn data dir, and leaves it alone', async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'notes.txt'), 'hello');
    mkdirSync(join(dataDir, 'photos'));
    const msg = await refusal(dataDir);
    assert.match(msg, /not a Cairn data dir/);
    assert.ok(msg.includes(dataDir), msg);
    assert.doesNotMatch(msg, /etcd/);
    assert.equal(existsSync(join(dataDir, 'member')), false, 'nothing was created');
  });

  it('treats a dir holding only lost+found (an ext4 mount point) as empty, as etcd does', async () => {
    // The image declares VOLUME /var/lib/cairn (CAIRN_DATA_DIR): a freshly formatted ext4 volume mounted
    // there has lost+found at its root. etcd 3.4.23 logs "found invalid file/dir lost+found under data
    // dir" and starts a new member.
    const dataDir = tempDir();
    mkdirSync(join(dataDir, 'lost+found'));
    const d = await openDir(dataDir);
    assert.equal(d.fresh, true);
    await close(d);
  });

  it('says so when the dir looks like an etcd data dir (member/snap or member/wal)', async () => {
    for (const sub of ['snap', 'wal']) {
      const dataDir = tempDir();
      mkdirSync(join(dataDir, 'member', sub), { recursive: true });
      writeFileSync(
        join(dataDir, 'member', sub, sub === 'wal' ? '0000000000000000-0000000000000000.wal' : 'db'),
        'x',
      );
      const msg = await refusal(dataDir);
      assert.match(msg, /not a Cairn data dir/, sub);
      assert.match(msg, /looks like an etcd data dir/, sub);
      assert.equal(existsSync(join(dataDir, 'member', 'db')), false, 'nothing was created');
    }
  });

  it('refuses a garbage member/db/data.mdb as corrupt instead of starting empty', async () => {
    for (const content of [Buffer.from('not an lmdb file'), Buffer.alloc(64 * 1024, 0xab), Buffer.alloc(0)]) {
      const dataDir = tempDir();
      mkdirSync(join(dataDir, 'member', 'db'), { recursive: true });
      writeFileSync(join(dataDir, 'member', 'db', 'data.mdb'), content);
      const msg = await refusal(dataDir);
      assert.match(msg, /corrupt/, msg);
      assert.equal(existsSync(pidFile(dataDir)), false, 'the lock is released on failure');
      assert.equal(
        readFileSync(join(dataDir, 'member', 'db', 'data.mdb')).length,
        content.length,
        'left untouched',
      );
    }
  });

  it('refuses an lmdb environment with Cairn buckets but no storage marker', async () => {
    const dataDir = tempDir();
    const env = open({ path: join(dataDir, 'member', 'db'), maxDbs: 16 });
    for (const name of ['key', 'meta', 'alarm']) {
      const db = env.openDB<Buffer, Buffer>(name, { encoding: 'binary', keyEncoding: 'binary' });
      await db.put(Buffer.from('k'), Buffer.from('v'));
    }
    await env.close();
    const msg = await refusal(dataDir);
    assert.match(msg, /not a Cairn data dir \(no storage marker/);
    assert.equal(existsSync(pidFile(dataDir)), false);
  });

  it("refuses another program's lmdb environment as not Cairn's", async () => {
    const dataDir = tempDir();
    const env = open({ path: join(dataDir, 'member', 'db'), maxDbs: 4 });
    await env.put('some', 'thing');
    await env.openDB({ name: 'other-app' }).put('x', 'y');
    await env.close();
    const msg = await refusal(dataDir);
    // The operator should learn that the dir is not Cairn's, not a JavaScript TypeError.
    assert.match(msg, /not a Cairn data dir/, msg);
  });

  it('refuses a Cairn dir whose storage marker is of another format', async () => {
    const dataDir = tempDir();
    const d = await openDir(dataDir);
    d.backend.put('meta', Buffer.from('storageVersion'), Buffer.from('cairn-storage-v999'));
    await d.backend.commit();
    await close(d);
    const msg = await refusal(dataDir);
    assert.match(msg, /cairn-storage-v999/);
    assert.ok(msg.includes(STORAGE_VERSION));
  });

  it('refuses a Cairn dir whose identity is missing', async () => {
    const dataDir = tempDir();
    const d = await openDir(dataDir);
    d.backend.delete('meta', Buffer.from('memberID'));
    await d.backend.commit();
    await close(d);
    assert.match(await refusal(dataDir), /corrupt: member identity missing/);
  });

  it('refuses a Cairn dir whose database file vanished', async () => {
    const dataDir = tempDir();
    await close(await openDir(dataDir));
    rmSync(join(dataDir, 'member', 'db', 'data.mdb'));
    assert.match(await refusal(dataDir), /not a Cairn data dir \(member\/db\/data\.mdb not found\)/);
  });

  it('the pid lock refuses a live foreign process', async () => {
    const dataDir = tempDir();
    await close(await openDir(dataDir));
    writeFileSync(pidFile(dataDir), `${process.ppid}\n`);
    const msg = await refusal(dataDir);
    assert.match(msg, new RegExp(`in use by process ${process.ppid}`));
    assert.equal(
      readFileSync(pidFile(dataDir), 'utf8').trim(),
      String(process.ppid),
      'the lock is not stolen',
    );
  });

  it('the pid lock takes over a stale pid file, and one with garbage in it', async () => {
    for (const content of [`${deadPid()}\n`, 'garbage', '', '-5']) {
      const dataDir = tempDir();
      await close(await openDir(dataDir));
      writeFileSync(pidFile(dataDir), content);
      const d = await openDir(dataDir);
      assert.equal(
        readFileSync(pidFile(dataDir), 'utf8').trim(),
        String(process.pid),
        JSON.stringify(content),
      );
      await close(d);
    }
  });

  it('a pid file with our own pid (a previous run of this process) is taken over', async () => {
    const dataDir = tempDir();
    await close(await openDir(dataDir));
    writeFileSync(pidFile(dataDir), `${process.pid}\n`);
    await close(await openDir(dataDir));
  });
});
