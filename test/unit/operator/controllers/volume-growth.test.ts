// Growing members' volumes with spec.storage.size: which claims are asked for more (quantities compared
// as bytes, binary and decimal suffixes alike), and how the reconciler asks and reports a refusal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveSpec } from '../../../../operator/src/api/v1alpha1/index.js';
import { claimsToGrow } from '../../../../operator/src/controllers/kvcluster/volume-growth.js';
import { newOperatorLogger } from '../../../../operator/src/runtime/logger.js';
import { claim, cluster, harness, withStatefulSet } from './fakes.js';

const log = newOperatorLogger({ level: 'error' });
const claims = [claim(0, 'c-0', undefined, '2Gi'), claim(1, 'c-1', undefined, '2Gi')];

describe('volume growth', () => {
  it('picks the claims below spec.storage.size, comparing quantities as bytes', () => {
    const grow = (size: string) =>
      claimsToGrow(resolveSpec({ version: '0.1.0', storage: { size } }), claims).map((g) => g.claim);
    assert.deepEqual(grow('3Gi'), ['data-kv-0', 'data-kv-1']);
    assert.deepEqual(grow('2048Mi'), [], '2048Mi is 2Gi');
    assert.deepEqual(grow('2G'), [], '2G (decimal) is less than 2Gi');
    assert.deepEqual(grow('3G'), ['data-kv-0', 'data-kv-1'], '3G is more than 2Gi');
    assert.deepEqual(
      claimsToGrow(resolveSpec({ version: '0.1.0', storage: { size: '3Gi' } }), [claim(0, 'c-0')]),
      [],
      'a claim without a request is left alone',
    );
  });

  it('leaves a custom volumeClaimTemplate to its owner', () => {
    const spec = resolveSpec({
      version: '0.1.0',
      storage: { size: '8Gi', volumeClaimTemplate: { resources: { requests: { storage: '1Gi' } } } },
    });
    assert.deepEqual(claimsToGrow(spec, claims), []);
  });

  it('asks each smaller claim for the new size, with an Event', async () => {
    const { kube, reconciler, events } = harness(
      cluster({ version: '0.1.0', replicas: 3, storage: { size: '4Gi' } }),
      [{ ordinal: 0 }, { ordinal: 1 }, { ordinal: 2 }],
      [0, 1, 2],
    );
    kube.claims = structuredClone(claims);
    await withStatefulSet(kube, 3);
    await reconciler.reconcile('ns/kv', log);
    assert.deepEqual(kube.resized, ['data-kv-0 4Gi', 'data-kv-1 4Gi']);
    assert.ok(events.includes('VolumeExpanding: data-kv-0: 2Gi → 4Gi'), events.join('\n'));
    await reconciler.reconcile('ns/kv', log);
    assert.equal(kube.resized.length, 2, 'asked once');
  });

  it('reports a refused expansion in Degraded and goes on', async () => {
    const { kube, reconciler } = harness(
      cluster({ version: '0.1.0', replicas: 3, storage: { size: '4Gi' } }),
      [{ ordinal: 0 }, { ordinal: 1 }, { ordinal: 2 }],
      [0, 1, 2],
    );
    kube.claims = structuredClone(claims);
    kube.resizeRefusal =
      'only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize';
    await withStatefulSet(kube, 3);
    await reconciler.reconcile('ns/kv', log);
    const degraded = kube.statuses.at(-1)?.conditions?.find((c) => c.type === 'Degraded');
    assert.equal(degraded?.status, 'True');
    assert.equal(degraded?.reason, 'VolumeExpansionRefused');
    assert.match(
      degraded?.message ?? '',
      /data-kv-0 cannot grow from 2Gi to 4Gi: only dynamically provisioned/,
    );
  });
});
