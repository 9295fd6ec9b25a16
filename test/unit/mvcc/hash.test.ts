import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { Backend } from '../../../server/src/backend/backend.js';
import { newBackendMetrics } from '../../../server/src/backend/metrics.js';
import { KVStore } from '../../../server/src/mvcc/kvstore.js';
import { newMvccMetrics } from '../../../server/src/mvcc/metrics.js';
import { MvccError } from '../../../server/src/mvcc/errors.js';
import { hashKeyBucket } from '../../../server/src/mvcc/hash.js';
import { revisionToBytes } from '../../../server/src/mvcc/revision.js';
import { crc32c } from '../../../server/src/util/crc32c.js';
import { newLogger } from '../../../server/src/util/logger.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function openStore(opts: { dir?: string; batchOpsMax?: number; compactionBatchLimit?: number } = {}) {
  const d = opts.dir ?? mkdtempSync(join(tmpdir(), 'cairn-hash-'));
  if (opts.dir === undefined) dirs.push(d);
  const registry = new Registry();
  const logger = newLogger('error', true);
  const backend = Backend.open(
    {
      dir: join(d, 'db'),
      logger,
      metrics: newBackendMetrics(registry),
      batchOpsMax: opts.batchOpsMax,
      onFatal: (err) => {
        throw err;
      },
    },
    false,
  );
  const store = KVStore.open({
    backend,
    logger,
    metrics: newMvccMetrics(registry),
    compactionBatchLimit: opts.compactionBatchLimit,
  });
  return { store, backend, dir: d };
}

const b = (s: string) => Buffer.from(s);

type Op = { put: [string, string] } | { del: string };

/** A history with overwrites, deletes and re-creations over a few keys. */
function history(n: number): Op[] {
  const ops: Op[] = [];
  for (let i = 0; i < n; i++) {
    const key = `k${i % 7}`;
    ops.push(i % 5 === 4 ? { del: key } : { put: [key, `v${i}`] });
  }
  return ops;
}

function apply(store: KVStore, op: Op): Promise<void> {
  const w = store.write((txn) => {
    if ('put' in op) txn.put(b(op.put[0]), b(op.put[1]), 0n);
    else txn.deleteRange({ key: b(op.del) });
  });
  return w.durable;
}

describe('HashKV', () => {
  it('hashes the bucket name, then each entry key and value, as etcd kvHasher does', () => {
    const k1 = revisionToBytes({ main: 2, sub: 0 });
    const k2 = revisionToBytes({ main: 3, sub: 0 });
    const entries: [Buffer, Buffer][] = [
      [k1, b('one')],
      [k2, b('two')],
    ];
    const expected = crc32c(b('two'), crc32c(k2, crc32c(b('one'), crc32c(k1, crc32c(b('key'))))));
    assert.equal(hashKeyBucket(entries, -1, 3, new Set()).hash, expected);
    // Entries above the hash revision are not counted.
    assert.equal(
      hashKeyBucket(entries, -1, 2, new Set()).hash,
      crc32c(b('one'), crc32c(k1, crc32c(b('key')))),
    );
    // At or below the compaction revision only kept revisions count.
    assert.equal(
      hashKeyBucket(entries, 2, 3, new Set(['9_0'])).hash,
      crc32c(b('two'), crc32c(k2, crc32c(b('key')))),
    );
  });

  it('equal histories give equal hashes whatever their commit batching', async () => {
    const ops = history(200);
    const a = openStore();
    for (const op of ops) await apply(a.store, op);
    // One write per turn of the event loop in a, all writes in one turn (few large commits) in c.
    const c = openStore({ batchOpsMax: 7 });
    await Promise.all(ops.map((op) => apply(c.store, op)));
    assert.equal(a.store.currentRev, c.store.currentRev);
    for (const rev of [0, 1, 2, 50, 120, a.store.currentRev]) {
      const ha = await a.store.hashKV(rev);
      const hc = await c.store.hashKV(rev);
      assert.equal(ha.hash, hc.hash, `rev ${rev}`);
      assert.equal(ha.revision, rev === 0 ? a.store.currentRev : rev);
      assert.equal(ha.compactRevision, -1);
    }
    assert.notEqual((await a.store.hashKV(50)).hash, (await a.store.hashKV(51)).hash);
    await a.backend.close();
    await c.backend.close();
  });

  it('hashes alike before, during and after physical compaction, and after a restart', async () => {
    const ops = history(300);
    const a = openStore();
    const c = openStore({ compactionBatchLimit: 3 });
    for (const op of ops) {
      await apply(a.store, op);
      await apply(c.store, op);
    }
    const head = a.store.currentRev;
    const r1 = await a.store.compact(150);
    await r1.physical;
    const r2 = await c.store.compact(150); // physical compaction of c proceeds in batches of 3 while we hash
    const during = await c.store.hashKV(0);
    const done = await a.store.hashKV(0);
    assert.equal(during.hash, done.hash);
    assert.equal(done.compactRevision, 150);
    assert.equal(done.revision, head);
    assert.equal((await c.store.hashKV(200)).hash, (await a.store.hashKV(200)).hash);
    assert.equal((await c.store.hashKV(150)).hash, (await a.store.hashKV(150)).hash);
    await a.backend.close();
    const reopened = openStore({ dir: a.dir });
    assert.equal((await reopened.store.hashKV(0)).hash, done.hash);
    await reopened.backend.close();
    await r2.physical;
    await c.backend.close();
  });

  it('fails like etcd for compacted and future revisions', async () => {
    const s = openStore();
    for (const op of history(20)) await apply(s.store, op);
    await (
      await s.store.compact(10)
    ).physical;
    await assert.rejects(
      s.store.hashKV(9),
      (e: unknown) => e instanceof MvccError && e.code === 'ERR_MVCC_COMPACTED',
    );
    await assert.rejects(
      s.store.hashKV(s.store.currentRev + 1),
      (e: unknown) => e instanceof MvccError && e.code === 'ERR_MVCC_FUTURE_REV',
    );
    assert.equal((await s.store.hashKV(10)).revision, 10);
    await s.backend.close();
  });
});

describe('Hash (whole backend)', () => {
  it('is equal for equal contents and changes with any bucket', async () => {
    const a = openStore();
    const c = openStore();
    for (const op of history(30)) {
      await apply(a.store, op);
      await apply(c.store, op);
    }
    assert.equal(await a.backend.hash(), await c.backend.hash());
    a.backend.put('alarm', b('x'), b(''));
    assert.notEqual(await a.backend.hash(), await c.backend.hash());
    await a.backend.close();
    await c.backend.close();
  });
});
