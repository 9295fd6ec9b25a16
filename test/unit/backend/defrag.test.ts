import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { Backend } from '../../../server/src/backend/backend.js';
import { newBackendMetrics } from '../../../server/src/backend/metrics.js';
import { KVStore } from '../../../server/src/mvcc/kvstore.js';
import { newMvccMetrics } from '../../../server/src/mvcc/metrics.js';
import { newLogger } from '../../../server/src/util/logger.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function openStore(dir?: string) {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'cairn-defrag-'));
  if (dir === undefined) dirs.push(d);
  const registry = new Registry();
  const logger = newLogger('error', true);
  const backend = Backend.open(
    {
      dir: join(d, 'db'),
      logger,
      metrics: newBackendMetrics(registry),
      onFatal: (err) => {
        throw err;
      },
    },
    false,
  );
  const store = KVStore.open({ backend, logger, metrics: newMvccMetrics(registry) });
  return { store, backend, dir: d };
}

const b = (s: string) => Buffer.from(s);
const value = Buffer.alloc(1000, 0x61);

async function fill(store: KVStore, n: number, prefix: string): Promise<void> {
  const pending: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    pending.push(
      store.write((txn) => txn.put(b(`${prefix}${String(i).padStart(6, '0')}`), value, 0n)).durable,
    );
  }
  await Promise.all(pending);
}

describe('Backend.defragment', () => {
  it('shrinks the file after most keys are deleted and compacted, and keeps every key and the hash', async () => {
    const s = openStore();
    await fill(s.store, 5000, 'k');
    const del = s.store.write((txn) => txn.deleteRange({ key: b('k000100'), end: b('l') }));
    await del.durable;
    await (
      await s.store.compact(s.store.currentRev)
    ).physical;
    const before = s.backend.sizeBytes();
    const hashBefore = await s.store.hashKV(0);
    const wholeBefore = await s.backend.hash();
    await s.backend.defragment();
    const afterSize = s.backend.sizeBytes();
    const inUse = s.backend.sizeInUseBytes();
    assert.ok(afterSize < before / 4, `file ${before} → ${afterSize} bytes`);
    assert.ok(afterSize <= inUse + 64 * 1024, `file ${afterSize} bytes, in use ${inUse}`);
    assert.equal((await s.store.hashKV(0)).hash, hashBefore.hash);
    assert.equal(await s.backend.hash(), wholeBefore);
    assert.equal(s.store.read().range({ key: b('k'), end: b('l') }).count, 100);
    assert.deepEqual(readdirSync(s.dir).sort(), ['db', 'db-defrag-1']);
    // Writes go on into the new file and survive a restart.
    await fill(s.store, 50, 'after');
    await s.backend.close();
    const r = openStore(s.dir);
    assert.equal(r.store.read().range({ key: b('after'), end: b('aftes') }).count, 50);
    assert.equal(r.store.read().range({ key: b('k'), end: b('l') }).count, 100);
    assert.deepEqual(
      readdirSync(s.dir),
      ['db'],
      'the lock directory of the defragmented environment is removed',
    );
    await r.backend.close();
  });

  it('acknowledges writes made during the defragment only once they are in the new file', async () => {
    const s = openStore();
    await fill(s.store, 2000, 'k');
    const defrag = s.backend.defragment();
    const during = s.store.write((txn) => txn.put(b('during'), b('x'), 0n));
    let acknowledged = false;
    const ack = during.durable.then(() => {
      acknowledged = true;
    });
    // Reads keep working while the copy is made.
    assert.equal(s.store.read().range({ key: b('k000001') }).count, 1);
    await defrag;
    await ack;
    assert.ok(acknowledged);
    assert.equal(
      s.store
        .read()
        .range({ key: b('during') })
        .kvs[0]?.value.toString(),
      'x',
    );
    // Twice in a row: the first one's lock directory goes with the second.
    await s.backend.defragment();
    assert.deepEqual(readdirSync(s.dir).sort(), ['db', 'db-defrag-2']);
    await s.backend.close();
    const r = openStore(s.dir);
    assert.equal(r.store.read().range({ key: b('during') }).count, 1);
    assert.equal(r.store.read().range({ key: b('k'), end: b('l') }).count, 2000);
    await r.backend.close();
  });

  it('opening removes what an interrupted defragment or snapshot left', async () => {
    const s = openStore();
    await fill(s.store, 10, 'k');
    await s.backend.close();
    mkdirSync(join(s.dir, 'db-defrag-7'));
    writeFileSync(join(s.dir, 'db-defrag-7', 'data.mdb'), 'partial copy');
    mkdirSync(join(s.dir, 'db-snapshot-3'));
    writeFileSync(join(s.dir, 'db-snapshot-3', 'data.mdb'), 'partial snapshot');
    const r = openStore(s.dir);
    assert.ok(!existsSync(join(s.dir, 'db-defrag-7')));
    assert.ok(!existsSync(join(s.dir, 'db-snapshot-3')));
    assert.equal(r.store.read().range({ key: b('k'), end: b('l') }).count, 10);
    await r.backend.close();
  });
});
