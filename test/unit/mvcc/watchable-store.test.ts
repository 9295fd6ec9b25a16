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
import { Watcher } from '../../../server/src/mvcc/watcher.js';
import type { WatchEvent, WatchSink, WatcherOptions } from '../../../server/src/mvcc/watcher.js';
import { WatcherGroup } from '../../../server/src/mvcc/watcher-group.js';
import { newLogger } from '../../../server/src/util/logger.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function open(): { store: KVStore; ws: WatchableStore; backend: Backend } {
  const d = mkdtempSync(join(tmpdir(), 'cairn-watch-'));
  dirs.push(d);
  const registry = new Registry();
  const logger = newLogger('error', true);
  const backend = Backend.open(
    { dir: join(d, 'db'), logger, metrics: newBackendMetrics(registry), onFatal: (e) => assert.fail(e) },
    false,
  );
  const store = KVStore.open({ backend, logger, metrics: newMvccMetrics(registry) });
  return { store, backend, ws: new WatchableStore(store, logger) };
}

/** A sink that records what it is sent; `ready` can be switched off to play a full stream. */
class RecordingSink implements WatchSink {
  ready = true;
  readonly events = new Map<bigint, { type: string; key: string; rev: number; prev?: string }[]>();
  readonly responses = new Map<bigint, number>();
  readonly compacted = new Map<bigint, number>();
  readonly synced: bigint[] = [];

  sendEvents(w: Watcher, events: WatchEvent[]): boolean {
    const list = this.events.get(w.id) ?? [];
    for (const e of events) {
      list.push({
        type: e.type,
        key: e.kv.key.toString(),
        rev: e.kv.modRevision,
        ...(e.prevKv ? { prev: e.prevKv.value.toString() } : {}),
      });
    }
    this.events.set(w.id, list);
    this.responses.set(w.id, (this.responses.get(w.id) ?? 0) + 1);
    return this.ready;
  }

  sendCompacted(w: Watcher, compactRev: number): void {
    this.compacted.set(w.id, compactRev);
  }

  onSynced(w: Watcher): void {
    this.synced.push(w.id);
  }
}

const b = (s: string) => Buffer.from(s);

function opts(key: string, startRev = 0, more: Partial<WatcherOptions> = {}): WatcherOptions {
  return { range: { key: b(key) }, startRev, prevKv: false, noPut: false, noDelete: false, ...more };
}

async function put(store: KVStore, key: string, value: string): Promise<number> {
  const w = store.write((t) => t.put(b(key), b(value), 0n));
  await w.durable;
  return w.rev;
}

async function del(store: KVStore, key: string): Promise<number> {
  const w = store.write((t) => t.deleteRange({ key: b(key) }));
  await w.durable;
  return w.rev;
}

/** Waits (bounded) until the store has no watcher left behind. */
async function settle(): Promise<void> {
  for (let i = 0; i < 200; i++) await new Promise((r) => setImmediate(r));
}

describe('WatchableStore', () => {
  it('sends live events of a durable write to matching synced watchers only, with filters and prev_kv', async () => {
    const { store, ws, backend } = open();
    const sink = new RecordingSink();
    ws.watch(1n, opts('a', 0, { prevKv: true }), sink);
    ws.watch(2n, { ...opts('p/'), range: { key: b('p/'), end: b('p0') } }, sink);
    ws.watch(3n, opts('a', 0, { noPut: true }), sink);
    ws.watch(4n, opts('zzz'), sink);
    await put(store, 'a', '1'); // 2
    await put(store, 'a', '2'); // 3
    await put(store, 'p/x', 'x'); // 4
    await del(store, 'a'); // 5
    assert.deepEqual(sink.events.get(1n), [
      { type: 'PUT', key: 'a', rev: 2 },
      { type: 'PUT', key: 'a', rev: 3, prev: '1' },
      { type: 'DELETE', key: 'a', rev: 5, prev: '2' },
    ]);
    assert.deepEqual(sink.events.get(2n), [{ type: 'PUT', key: 'p/x', rev: 4 }]);
    assert.deepEqual(sink.events.get(3n), [{ type: 'DELETE', key: 'a', rev: 5 }]);
    assert.equal(sink.events.get(4n), undefined);
    await backend.close();
  });

  it('replays history for a start in the past, then continues live with no gap and no duplicate', async () => {
    const { store, ws, backend } = open();
    for (let i = 0; i < 2500; i++) await put(store, 'k', String(i)); // revisions 2..2501
    const sink = new RecordingSink();
    const w = ws.watch(1n, opts('k', 2), sink);
    assert.equal(w.synced, false);
    await settle();
    assert.equal(w.synced, true);
    assert.ok(sink.responses.get(1n)! >= 3, 'replayed in batches of at most 1000 revisions');
    await put(store, 'k', 'live'); // 2502
    const revs = sink.events.get(1n)!.map((e) => e.rev);
    assert.deepEqual(
      revs,
      Array.from({ length: 2501 }, (_, i) => i + 2),
    );
    await backend.close();
  });

  it('sends nothing for a future start until the store reaches it', async () => {
    const { store, ws, backend } = open();
    const sink = new RecordingSink();
    const w = ws.watch(1n, opts('k', 4), sink);
    assert.equal(ws.isSynced(w), false, 'a future watcher is not caught up: no progress for it');
    await put(store, 'k', 'a'); // 2
    await put(store, 'k', 'b'); // 3
    assert.equal(sink.events.get(1n), undefined);
    await put(store, 'k', 'c'); // 4
    assert.deepEqual(sink.events.get(1n), [{ type: 'PUT', key: 'k', rev: 4 }]);
    assert.equal(ws.isSynced(w), true);
    await backend.close();
  });

  it('cancels a watcher whose start was compacted, but not one starting at the compaction revision', async () => {
    const { store, ws, backend } = open();
    await put(store, 'k', 'a'); // 2
    await put(store, 'k', 'b'); // 3
    await del(store, 'k'); // 4
    await (
      await store.compact(4)
    ).physical;
    const sink = new RecordingSink();
    ws.watch(1n, opts('k', 3), sink);
    ws.watch(2n, opts('k', 4), sink);
    await settle();
    assert.equal(sink.compacted.get(1n), 4);
    assert.equal(sink.compacted.has(2n), false);
    assert.deepEqual(
      sink.events.get(2n),
      [{ type: 'DELETE', key: 'k', rev: 4 }],
      'the tombstone at the compaction revision',
    );
    await backend.close();
  });

  it('moves a watcher whose stream is full to the unsynced group and catches it up without a gap', async () => {
    const { store, ws, backend } = open();
    const sink = new RecordingSink();
    const w = ws.watch(1n, opts('k'), sink);
    sink.ready = false;
    for (let i = 0; i < 3000; i++) await put(store, 'k', String(i)); // 2..3001
    assert.equal(w.synced, false, 'not dropped: moved to unsynced');
    const before = sink.events.get(1n)?.length ?? 0;
    assert.ok(before <= 1, 'nothing is sent while the stream is full');
    sink.ready = true;
    ws.scheduleSync();
    await settle();
    const revs = sink.events.get(1n)!.map((e) => e.rev);
    assert.deepEqual(
      revs,
      Array.from({ length: 3000 }, (_, i) => i + 2),
      'every revision once, in order',
    );
    assert.equal(w.synced, true);
    await backend.close();
  });

  it('feeds 1,000 watchers on one stream', async () => {
    const { store, ws, backend } = open();
    const sink = new RecordingSink();
    for (let i = 0; i < 1000; i++) ws.watch(BigInt(i), opts(i % 2 === 0 ? 'even' : 'odd'), sink);
    await put(store, 'even', 'x');
    await put(store, 'odd', 'y');
    assert.equal(sink.events.size, 1000);
    for (const [id, evs] of sink.events) assert.equal(evs[0]!.key, id % 2n === 0n ? 'even' : 'odd');
    await backend.close();
  });
});

describe('WatcherGroup', () => {
  it('visits only the watchers of the changed key, however many others there are', () => {
    const g = new WatcherGroup();
    const sink = new RecordingSink();
    const mk = (id: number, o: WatcherOptions) => new Watcher(BigInt(id), o, sink);
    for (let i = 0; i < 20_000; i++) g.add(mk(i, opts(`other/${i}`)));
    const prefix = { ...opts('x'), range: { key: b('a/'), end: b('a0') } };
    for (let i = 0; i < 100; i++) g.add(mk(100_000 + i, prefix));
    g.add(mk(200_000, opts('a/1')));
    let visited = 0;
    g.forKey(b('a/1'), () => visited++);
    assert.equal(visited, 101);
    visited = 0;
    g.forKey(b('nothing'), () => visited++);
    assert.equal(visited, 0);
    assert.equal(g.size, 20_101);
  });
});
