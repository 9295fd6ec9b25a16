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
import type { KeyRange } from '../../../server/src/mvcc/kv.js';
import { newLogger } from '../../../server/src/util/logger.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function openStore(
  dir?: string,
  compactionBatchLimit?: number,
): { store: KVStore; backend: Backend; dir: string } {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'cairn-kvstore-'));
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
  const store = KVStore.open({ backend, logger, metrics: newMvccMetrics(registry), compactionBatchLimit });
  return { store, backend, dir: d };
}

const b = (s: string) => Buffer.from(s);
const all: KeyRange = { key: b('\0'), end: Buffer.alloc(0) };

async function put(store: KVStore, key: string, value: string): Promise<number> {
  const w = store.write((txn) => txn.put(b(key), b(value), 0n));
  await w.durable;
  return w.rev;
}

async function del(store: KVStore, range: KeyRange): Promise<number> {
  const w = store.write((txn) => txn.deleteRange(range));
  await w.durable;
  return w.rev;
}

function get(store: KVStore, key: string, rev = 0) {
  return store.read().range({ key: b(key) }, { rev }).kvs[0];
}

describe('KVStore on lmdb', () => {
  it('starts at revision 1 and adds one main revision per write transaction', async () => {
    const { store, backend } = openStore();
    assert.equal(store.currentRev, 1);
    assert.equal(await put(store, 'foo', 'bar'), 2);
    assert.equal(await put(store, 'foo', 'baz'), 3);
    const kv = get(store, 'foo')!;
    assert.equal(kv.value.toString(), 'baz');
    assert.deepEqual([kv.createRevision, kv.modRevision, kv.version], [2, 3, 2]);
    const multi = store.write((txn) => {
      txn.put(b('a'), b('1'), 0n);
      txn.put(b('b'), b('2'), 0n);
      return txn.range({ key: b('a'), end: b('c') }).kvs.map((k) => k.key.toString());
    });
    assert.deepEqual(multi.result, ['a', 'b'], 'a transaction reads its own writes');
    assert.equal(multi.rev, 4, 'two puts, one revision');
    await multi.durable;
    await backend.close();
  });

  it('adds no revision for a delete that matches nothing, and resets version on re-create', async () => {
    const { store, backend } = openStore();
    assert.equal(await del(store, { key: b('nothing') }), 1);
    await put(store, 'k', 'v1'); // 2
    await put(store, 'k', 'v2'); // 3
    assert.equal(await del(store, { key: b('k') }), 4);
    assert.equal(get(store, 'k'), undefined);
    assert.equal(get(store, 'k', 3)?.value.toString(), 'v2', 'history is readable');
    await put(store, 'k', 'v3'); // 5
    const kv = get(store, 'k')!;
    assert.deepEqual([kv.createRevision, kv.modRevision, kv.version], [5, 5, 1]);
    await backend.close();
  });

  it('reads the past, refuses the future and compacted revisions, counts regardless of limit', async () => {
    const { store, backend } = openStore();
    for (let i = 0; i < 5; i++) await put(store, `key${i}`, `v${i}`); // revs 2..6
    const view = store.read();
    assert.equal(view.rev, 6);
    const r = view.range(all, { limit: 2 });
    assert.deepEqual(
      r.kvs.map((k) => k.key.toString()),
      ['key0', 'key1'],
    );
    assert.equal(r.count, 5);
    assert.equal(view.range(all, { rev: 3 }).count, 2);
    assert.equal(view.range(all, { countOnly: true }).kvs.length, 0);
    assert.deepEqual(
      view.range(all, { limit: 2, descending: true }).kvs.map((k) => k.key.toString()),
      ['key4', 'key3'],
    );
    assert.throws(() => view.range(all, { rev: 7 }), { code: 'ERR_MVCC_FUTURE_REV' });
    const c = await store.compact(4);
    await c.physical;
    assert.throws(() => store.read().range(all, { rev: 3 }), { code: 'ERR_MVCC_COMPACTED' });
    assert.equal(
      store.read().range(all, { rev: 4 }).count,
      3,
      'the compaction revision itself stays readable',
    );
    await assert.rejects(store.compact(4), { code: 'ERR_MVCC_COMPACTED' });
    await assert.rejects(store.compact(99), { code: 'ERR_MVCC_FUTURE_REV' });
    await backend.close();
  });

  it('physically removes compacted revisions in batches and keeps the newest of each key', async () => {
    const { store, backend } = openStore(undefined, 3);
    for (let i = 0; i < 10; i++) await put(store, 'hot', `v${i}`); // 2..11
    await put(store, 'cold', 'x'); // 12
    await del(store, { key: b('hot') }); // 13
    assert.equal(backend.entryCount('key'), 12);
    await (
      await store.compact(12)
    ).physical;
    // Left: hot@11 (newest <= 12), cold@12, tombstone hot@13.
    assert.equal(backend.entryCount('key'), 3);
    await (
      await store.compact(13)
    ).physical;
    assert.equal(backend.entryCount('key'), 2, 'hot is gone: cold@12 and the tombstone at 13');
    assert.equal(get(store, 'cold')?.value.toString(), 'x');
    await backend.close();
  });

  it('rebuilds the index from lmdb on restart, with revisions, versions and compaction intact', async () => {
    const first = openStore();
    await put(first.store, 'a', '1'); // 2
    await put(first.store, 'a', '2'); // 3
    await put(first.store, 'b', '1'); // 4
    await del(first.store, { key: b('b') }); // 5
    await put(first.store, 'b', '2'); // 6
    await (
      await first.store.compact(3)
    ).physical;
    await first.backend.close();

    const second = openStore(first.dir);
    assert.equal(second.store.currentRev, 6);
    assert.equal(second.store.compactRev, 3);
    const a = get(second.store, 'a')!;
    assert.deepEqual([a.createRevision, a.modRevision, a.version, a.value.toString()], [2, 3, 2, '2']);
    const bb = get(second.store, 'b')!;
    assert.deepEqual([bb.createRevision, bb.modRevision, bb.version], [6, 6, 1]);
    assert.equal(get(second.store, 'b', 4)?.value.toString(), '1');
    assert.equal(get(second.store, 'b', 5), undefined);
    assert.throws(() => second.store.read().range(all, { rev: 2 }), { code: 'ERR_MVCC_COMPACTED' });
    assert.equal(await put(second.store, 'a', '3'), 7);
    assert.equal(get(second.store, 'a')!.version, 3);
    await second.backend.close();
  });

  it('never lets the revision go backwards when the newest revisions were compacted away', async () => {
    const first = openStore();
    await put(first.store, 'x', '1'); // 2
    await del(first.store, { key: b('x') }); // 3
    await put(first.store, 'y', '1'); // 4
    await del(first.store, { key: b('y') }); // 5
    await (
      await first.store.compact(5)
    ).physical;
    await (
      await first.store.compact(5).catch(() => ({ physical: Promise.resolve() }))
    ).physical;
    await first.backend.close();
    const second = openStore(first.dir);
    assert.equal(second.store.currentRev, 5);
    await second.backend.close();
  });

  it('serves plain reads only from durable revisions while writers see pending ones', async () => {
    const { store, backend } = openStore();
    await put(store, 'k', 'durable'); // 2
    const w = store.write((txn) => txn.put(b('k'), b('pending'), 0n));
    assert.equal(store.currentRev, 3);
    assert.equal(store.readRev, 2, 'not yet durable');
    assert.equal(get(store, 'k')?.value.toString(), 'durable');
    const inTxn = store.write((txn) => txn.range({ key: b('k') }).kvs[0]?.value.toString());
    assert.equal(inTxn.result, 'pending', 'writers are ordered after pending writes');
    await w.durable;
    assert.equal(get(store, 'k')?.value.toString(), 'pending');
    await backend.close();
  });

  it('shares commits between concurrent writers (group commit)', async () => {
    const { store, backend } = openStore();
    const writes = Array.from({ length: 200 }, (_, i) =>
      store.write((txn) => txn.put(b(`k${i}`), b('v'), 0n)),
    );
    await Promise.all(writes.map((w) => w.durable));
    assert.equal(store.readRev, 201);
    assert.equal(store.read().range(all, { countOnly: true }).count, 200);
    await backend.close();
  });
});
