// A watcher moved back to unsynced by a snapshot install (WatchableStore.restore) resumes right after what
// it was sent while synced: no revision twice, none missed, and no compacted cancel while it was current.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { Registry } from 'prom-client';
import { Backend } from '../../../server/src/backend/backend.js';
import { newBackendMetrics } from '../../../server/src/backend/metrics.js';
import { KVStore } from '../../../server/src/mvcc/kvstore.js';
import { newMvccMetrics } from '../../../server/src/mvcc/metrics.js';
import { WatchableStore } from '../../../server/src/mvcc/watchable-store.js';
import type { WatchEvent, WatchSink, Watcher } from '../../../server/src/mvcc/watcher.js';
import { newLogger } from '../../../server/src/util/logger.js';
import { waitFor } from '../../framework/wait.js';

const root = mkdtempSync(join(tmpdir(), 'cairn-restore-dup-'));
const backends: Backend[] = [];
after(async () => {
  for (const be of backends) await be.close().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});
const logger = newLogger('error', true);
function open(name: string): { store: KVStore; backend: Backend } {
  const registry = new Registry();
  const backend = Backend.open(
    { dir: join(root, name), logger, metrics: newBackendMetrics(registry), onFatal: (e) => assert.fail(e) },
    false,
  );
  backends.push(backend);
  return { backend, store: KVStore.open({ backend, logger, metrics: newMvccMetrics(registry) }) };
}
const b = (s: string): Buffer => Buffer.from(s);
async function put(store: KVStore, key: string, value: string): Promise<void> {
  await store.write((t) => t.put(b(key), b(value), 0n)).durable;
}
class Sink implements WatchSink {
  ready = true;
  readonly revs: number[] = [];
  readonly compacted: number[] = [];
  sendEvents(_w: Watcher, events: WatchEvent[]): boolean {
    for (const e of events) this.revs.push(e.kv.modRevision);
    return true;
  }
  sendCompacted(_w: Watcher, rev: number): void {
    this.compacted.push(rev);
  }
  onSynced(): void {}
}

it('after a restore a watcher gets the revisions it missed, and none it already had', async () => {
  const leader = open('leader');
  const follower = open('follower');
  const ws = new WatchableStore(follower.store, logger);
  const sink = new Sink();
  ws.watch(1n, { range: { key: b('k') }, startRev: 0, prevKv: false, noPut: false, noDelete: false }, sink);
  for (const s of [leader.store, follower.store]) {
    await put(s, 'k', '1'); // rev 2
    await put(s, 'k', '2'); // rev 3
  }
  assert.deepEqual(sink.revs, [2, 3]); // delivered live while synced
  await put(leader.store, 'k', '3'); // rev 4, missed by the follower
  await leader.backend.commit();
  const file = await leader.backend.copyTo(join(root, 'copy'));
  const delivered = follower.store.readRev;
  await follower.store.reload(() => follower.backend.replaceWith(file));
  ws.restore(delivered);
  await waitFor('catch up', () => ws.unsyncedCount === 0, 5_000);
  assert.deepEqual(sink.revs, [2, 3, 4], 'each revision exactly once');
});

it('after a restore onto a compacted snapshot, a watcher that was current is not canceled', async () => {
  const leader = open('leader2');
  const follower = open('follower2');
  const ws = new WatchableStore(follower.store, logger);
  const sink = new Sink();
  ws.watch(1n, { range: { key: b('k') }, startRev: 0, prevKv: false, noPut: false, noDelete: false }, sink);
  for (const s of [leader.store, follower.store]) {
    await put(s, 'k', '1'); // rev 2
    await put(s, 'k', '2'); // rev 3
  }
  await put(leader.store, 'k', '3'); // rev 4
  await put(leader.store, 'k', '4'); // rev 5
  await (
    await leader.store.compact(4)
  ).physical;
  await leader.backend.commit();
  const file = await leader.backend.copyTo(join(root, 'copy2'));
  const delivered = follower.store.readRev;
  await follower.store.reload(() => follower.backend.replaceWith(file));
  ws.restore(delivered);
  await waitFor('catch up', () => ws.unsyncedCount === 0, 5_000);
  // The watcher had everything below rev 4 and revision 4 is still readable: nothing it needs is lost.
  assert.deepEqual(sink.compacted, []);
  assert.deepEqual(sink.revs, [2, 3, 4, 5]);
});
