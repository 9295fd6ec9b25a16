import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { parseServerArgs } from '../../../server/src/etcdserver/config.js';
import { EtcdServer } from '../../../server/src/etcdserver/server.js';
import {
  SnapshotFileError,
  restoreSnapshot,
  snapshotStatus,
  verifySnapshotFile,
} from '../../../server/src/etcdserver/snapshot-file.js';
import { newLogger } from '../../../server/src/util/logger.js';
import { putReq, rangeReq } from '../apply/requests.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'cairn-snapfile-'));
  dirs.push(d);
  return d;
}

async function start(dataDir: string): Promise<EtcdServer> {
  const r = parseServerArgs(['--data-dir', dataDir, '--listen-metrics-urls', ''], {});
  assert.equal(r.kind, 'run');
  return EtcdServer.start(r.config, newLogger('error', true), new Registry(), (err) => {
    throw err;
  });
}

/** What the Snapshot stream sends, written to a file as etcdctl saves it: image, padding, SHA-256. */
async function saveSnapshot(s: EtcdServer, file: string): Promise<void> {
  const copy = await s.snapshotCopy();
  const image = readFileSync(copy.file);
  copy.remove();
  const padded = Buffer.concat([image, Buffer.alloc((512 - (image.length % 512)) % 512)]);
  writeFileSync(file, Buffer.concat([padded, createHash('sha256').update(padded).digest()]));
}

describe('snapshot files', () => {
  it('status, hash check and restore into a data dir a new member starts on with the same keys and HashKV', async () => {
    const d = tmp();
    const s = await start(join(d, 'src'));
    for (let i = 0; i < 200; i++) await s.put(putReq(`key${i}`, `value${i}`), 64);
    await s.compact({ revision: 100n, physical: true }, 64);
    const hashKV = await s.hashKV({ revision: 0n });
    const file = join(d, 'snap.db');
    await saveSnapshot(s, file);
    await s.stop();

    const st = await snapshotStatus(file);
    assert.equal(st.revision, 201);
    assert.equal(st.totalSize % 512, 0);
    assert.ok(st.totalKey >= 200);

    // A flipped byte fails the hash check, unless skipped.
    const bad = join(d, 'bad.db');
    const bytes = readFileSync(file);
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(bad, bytes);
    assert.throws(() => verifySnapshotFile(bad, false), /expected sha256/);
    // A file without the hash needs --skip-hash-check.
    const bare = join(d, 'bare.db');
    writeFileSync(bare, readFileSync(file).subarray(0, st.totalSize + 5));
    assert.throws(() => verifySnapshotFile(bare, false), /snapshot missing hash/);
    // Not a Cairn database at all.
    const junk = join(d, 'junk.db');
    writeFileSync(junk, Buffer.alloc(512 * 8 + 32));
    await assert.rejects(
      snapshotStatus(junk),
      (e: unknown) => e instanceof SnapshotFileError && e.message === 'invalid database',
    );

    const restored = join(d, 'restored');
    const m = await restoreSnapshot({
      file,
      dataDir: restored,
      name: 'r1',
      initialCluster: 'r1=http://127.0.0.1:23802',
      initialClusterToken: 'etcd-cluster',
      initialAdvertisePeerUrls: ['http://127.0.0.1:23802'],
      skipHashCheck: false,
    });
    assert.equal(m.memberId.toString(16), '2943212f5e2cf73');
    await assert.rejects(
      restoreSnapshot({
        file,
        dataDir: restored,
        name: 'r1',
        initialCluster: 'r1=http://127.0.0.1:23802',
        initialClusterToken: 'etcd-cluster',
        initialAdvertisePeerUrls: ['http://127.0.0.1:23802'],
        skipHashCheck: false,
      }),
      /data-dir ".*" exists/,
    );
    const r = await start(restored);
    assert.equal(r.identity.memberId, m.memberId);
    assert.equal(r.identity.clusterId, m.clusterId);
    assert.equal((await r.range(rangeReq('key', 'kez', { countOnly: true }))).count, 200n);
    assert.equal((await r.range(rangeReq('key7'))).kvs[0]?.value.toString(), 'value7');
    const h = await r.hashKV({ revision: 0n });
    assert.equal(h.hash, hashKV.hash);
    assert.equal(h.compactRevision, 100n);
    await r.stop();
    assert.ok(!existsSync(join(restored, 'member', 'db-snapshot-1')));
  });

  it('refuses a name missing from --initial-cluster and leaves no data dir behind', async () => {
    const d = tmp();
    await assert.rejects(
      restoreSnapshot({
        file: join(d, 'none.db'),
        dataDir: join(d, 'x'),
        name: 'other',
        initialCluster: 'r1=http://127.0.0.1:23802',
        initialClusterToken: 'etcd-cluster',
        initialAdvertisePeerUrls: ['http://127.0.0.1:23802'],
        skipHashCheck: false,
      }),
      /couldn't find local name "other"/,
    );
    assert.ok(!existsSync(join(d, 'x')));
  });
});
