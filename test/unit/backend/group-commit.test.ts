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
import { newLogger } from '../../../server/src/util/logger.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function commits(registry: Registry): Promise<number> {
  const m = await registry.getSingleMetric('etcd_disk_backend_commit_duration_seconds')!.get();
  const count = m.values.find(
    (v) => (v as { metricName?: string }).metricName === 'etcd_disk_backend_commit_duration_seconds_count',
  );
  return count!.value;
}

describe('group commit', () => {
  it('never splits one write transaction over two lmdb commits, however large', async () => {
    const d = mkdtempSync(join(tmpdir(), 'cairn-group-'));
    dirs.push(d);
    const registry = new Registry();
    const logger = newLogger('error', true);
    const backend = Backend.open(
      {
        dir: join(d, 'db'),
        logger,
        metrics: newBackendMetrics(registry),
        batchOpsMax: 3,
        onFatal: (e) => assert.fail(e),
      },
      false,
    );
    const store = KVStore.open({ backend, logger, metrics: newMvccMetrics(registry) });
    const w = store.write((t) => {
      for (let i = 0; i < 10; i++) t.put(Buffer.from(`k${i}`), Buffer.from('v'), 0n);
    });
    await w.durable;
    assert.equal(await commits(registry), 1, 'ten puts of one revision, one commit');

    // Many small transactions: a full batch commits at the end of the transaction that filled it.
    const ws = Array.from({ length: 6 }, (_, i) =>
      store.write((t) => t.put(Buffer.from(`s${i}`), Buffer.from('v'), 0n)),
    );
    await Promise.all(ws.map((x) => x.durable));
    assert.ok((await commits(registry)) >= 2);
    assert.equal(store.read().range({ key: Buffer.from('\0'), end: Buffer.alloc(0) }).count, 16);
    await backend.close();
  });
});
