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
import { WatchableStore } from '../../../server/src/mvcc/watchable-store.js';
import type { WatchEvent, WatchSink, Watcher } from '../../../server/src/mvcc/watcher.js';
import { newLogger } from '../../../server/src/util/logger.js';
import { waitFor } from '../../framework/wait.js';

const dirs: string[] = [];
const backends: Backend[] = [];
after(async () => {
  for (const be of backends) await be.close().catch(() => undefined);
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const logger = newLogger('error', true);

function open(root: string, name: string): { store: KVStore; backend: Backend } {
  const registry = new Registry();
  const backend = Backend.open(
    {
      dir: join(root, name),
      logger,
      metrics: newBackendMetrics(registry),
      onFatal: (e) => assert.fail(e),
    },
    false,
  );
  backends.push(backend);
  return { backend, store: KVStore.open({ backend, logger, metrics: newMvccMetrics(registry) }) };
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cairn-reload-'));
  dirs.push(d);
  return d;
}

const b = (s: string): Buffer => Buffer.from(s);

async function put(store: KVStore, key: string, value: string): Promise<number> {
  const w = store.write((t) => t.put(b(key), b(value), 0n));
  await w.durable;
  return w.rev;
}

class RecordingSink implements WatchSink {
  ready = true;
  readonly events: { type: string; key: string; value: string; rev: number }[] = [];
  readonly compacted: number[] = [];
  synced = 0;

  sendEvents(_w: Watcher, events: WatchEvent[]): boolean {
    for (const e of events) {
      this.events.push({
        type: e.type,
        key: e.kv.key.toString(),
        value: e.kv.value.toString(),
        rev: e.kv.modRevision,
      });
    }
    return this.ready;
  }

  sendCompacted(_w: Watcher, compactRev: number): void {
    this.compacted.push(compactRev);
  }

  onSynced(): void {
    this.synced++;
  }
}

/** Installs `leader`'s database into `follower` as a snapshot install does (copy, replaceWith). */
async function install(root: string, leader: Backend, follower: { store: KVStore; backend: Backend }) {
  await leader.commit();
  const file = await leader.copyTo(join(root, `copy-${Math.random().toString(36).slice(2)}`));
  await follower.store.reload(() => follower.backend.replaceWith(file));
}

describe('KVStore.reload', () => {
  it('after installing another database, currentRev, readRev and the index reflect it', async () => {
    const root = tempDir();
    const leader = open(root, 'leader');
    for (let i = 0; i < 10; i++) await put(leader.store, `k${i}`, `v${i}`);
    await put(leader.store, 'k0', 'again');
    const leaderRev = leader.store.currentRev;
    assert.equal(leaderRev, 12);

    const follower = open(root, 'follower');
    await put(follower.store, 'only-here', 'x');
    await put(follower.store, 'k5', 'stale');
    assert.equal(follower.store.currentRev, 3);

    let installed = false;
    await follower.store.reload(async () => {
      await leader.backend.commit();
      const file = await leader.backend.copyTo(join(root, 'copy'));
      await follower.backend.replaceWith(file);
      installed = true;
    });
    assert.ok(installed);
    assert.equal(follower.store.currentRev, leaderRev);
    assert.equal(follower.store.readRev, leaderRev);
    assert.equal(follower.store.keysTotal, 10);
    const all = follower.store.read().range({ key: b('\0'), end: Buffer.alloc(0) });
    assert.equal(all.count, 10);
    assert.deepEqual(
      all.kvs.map((kv) => kv.key.toString()),
      Array.from({ length: 10 }, (_, i) => `k${i}`),
    );
    const k0 = follower.store.read().range({ key: b('k0') }).kvs[0];
    assert.equal(k0?.value.toString(), 'again');
    assert.equal(k0?.version, 2);
    assert.equal(k0?.modRevision, 12);
    assert.equal(
      follower.store
        .read()
        .range({ key: b('k5') })
        .kvs[0]?.value.toString(),
      'v5',
    );
    assert.equal(follower.store.read().range({ key: b('only-here') }).count, 0);
    // History at an old revision comes from the new database too.
    assert.equal(
      follower.store
        .read()
        .range({ key: b('k0') }, { rev: 2 })
        .kvs[0]?.value.toString(),
      'v0',
    );

    // Writes continue from the installed revision.
    const rev = await put(follower.store, 'next', 'y');
    assert.equal(rev, leaderRev + 1);
    assert.equal((await follower.store.hashKV(0)).currentRev, leaderRev + 1);
  });

  it('takes the compaction revision of the installed database', async () => {
    const root = tempDir();
    const leader = open(root, 'leader');
    for (let i = 0; i < 5; i++) await put(leader.store, 'k', `v${i}`);
    await (
      await leader.store.compact(4)
    ).physical;
    const follower = open(root, 'follower');
    await put(follower.store, 'k', 'x');
    assert.ok(follower.store.compactRev < 4);
    await install(root, leader.backend, follower);
    assert.equal(follower.store.compactRev, 4);
    assert.equal(follower.store.currentRev, 6);
    assert.throws(() => follower.store.read().range({ key: b('k') }, { rev: 2 }));
  });

  it('a failed install leaves the store as it was', async () => {
    const root = tempDir();
    const follower = open(root, 'follower');
    await put(follower.store, 'a', '1');
    await assert.rejects(
      follower.store.reload(() => Promise.reject(new Error('no snapshot'))),
      /no snapshot/,
    );
    assert.equal(follower.store.currentRev, 2);
    assert.equal(follower.store.read().range({ key: b('a') }).count, 1);
  });
});

describe('WatchableStore.restore', () => {
  it('moves synced watchers to unsynced, and they catch up from the new history', async () => {
    const root = tempDir();
    const leader = open(root, 'leader');
    const follower = open(root, 'follower');
    // The same history on both up to rev 3.
    for (const s of [leader.store, follower.store]) {
      await put(s, 'k', '1');
      await put(s, 'k', '2');
    }
    const ws = new WatchableStore(follower.store, logger);
    const sink = new RecordingSink();
    const other = new RecordingSink();
    ws.watch(1n, { range: { key: b('k') }, startRev: 0, prevKv: false, noPut: false, noDelete: false }, sink);
    ws.watch(
      2n,
      { range: { key: b('z') }, startRev: 0, prevKv: false, noPut: false, noDelete: false },
      other,
    );
    assert.equal(ws.watcherCount, 2);
    assert.equal(ws.unsyncedCount, 0);

    // The leader moves on; the follower misses it and gets a snapshot.
    await put(leader.store, 'k', '3');
    await put(leader.store, 'z', 'zz');
    await put(leader.store, 'k', '4');
    const delivered = follower.store.readRev;
    await install(root, leader.backend, follower);
    ws.restore(delivered);
    assert.equal(ws.watcherCount, 2, 'no watcher is lost');
    assert.equal(ws.unsyncedCount, 2, 'every synced watcher is now unsynced');

    await waitFor('watchers to catch up', () => ws.unsyncedCount === 0, 5_000);
    assert.equal(ws.watcherCount, 2);
    assert.ok(sink.synced >= 1 && other.synced >= 1, 'both were moved back to synced');
    const kRevs = sink.events.map((e) => e.rev);
    assert.ok(kRevs.includes(4) && kRevs.includes(6), `k events: ${JSON.stringify(sink.events)}`);
    assert.deepEqual(
      sink.events.filter((e) => e.rev >= 4).map((e) => [e.rev, e.value]),
      [
        [4, '3'],
        [6, '4'],
      ],
    );
    assert.deepEqual(
      other.events.map((e) => [e.key, e.rev]),
      [['z', 5]],
    );
    assert.deepEqual(sink.compacted, []);

    // Once synced again, new writes are delivered live.
    await put(follower.store, 'k', '5');
    await waitFor('live event', () => sink.events.some((e) => e.rev === 7), 2_000);
  });

  it('restore with no synced watchers changes nothing', () => {
    const root = tempDir();
    const follower = open(root, 'follower');
    const ws = new WatchableStore(follower.store, logger);
    ws.restore(follower.store.readRev);
    assert.equal(ws.watcherCount, 0);
    assert.equal(ws.unsyncedCount, 0);
  });
});
