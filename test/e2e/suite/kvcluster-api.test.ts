// The KVCluster CRD as the API server serves it: generated crds/ applies, defaults are filled in, invalid
// specs are refused with the messages of our validation rules, `kubectl explain` documents the fields and
// `kubectl scale` works through the /scale subresource.
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { apply, createNamespace, deleteNamespace, getJson, kubectl, waitFor } from '../framework/kube.js';

const NS = 'e2e-kvcluster-api';
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

function cluster(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: 'cairn.dev/v1alpha1', kind: 'KVCluster', metadata: { name }, spec });
}

describe('the KVCluster API', () => {
  before(async () => {
    await kubectl(['apply', '-f', join(REPO, 'crds')]);
    await kubectl(['wait', '--for=condition=Established', 'crd/kvclusters.cairn.dev', '--timeout=60s']);
    await createNamespace(NS);
  });
  after(() => deleteNamespace(NS));

  it('fills in the defaults', async () => {
    await apply(NS, cluster('defaults', { version: '0.1.0' }));
    const got = await getJson<{ spec: Record<string, unknown> }>(['get', 'kvcluster', 'defaults', '-n', NS]);
    assert.deepEqual(got.spec, {
      version: '0.1.0',
      replicas: 3,
      paused: false,
      storage: { size: '2Gi', retentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' } },
      config: {
        heartbeatIntervalMs: 100,
        electionTimeoutMs: 1000,
        quotaBackendBytes: 2147483648,
        snapshotCount: 10000,
        maxRequestBytes: 1572864,
      },
    });
  });

  it('refuses invalid specs with clear messages', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ version: '0.1.0', replicas: 0 }, /spec\.replicas.*greater than or equal to 1/],
      [{ version: '0.1.0', replicas: 10 }, /spec\.replicas.*less than or equal to 9/],
      [{ replicas: 3 }, /spec\.version: Required value/],
      [{ version: 'latest' }, /spec\.version.*should match/],
      [
        { version: '0.1.0', config: { heartbeatIntervalMs: 300, electionTimeoutMs: 1000 } },
        /electionTimeoutMs must be at least 5 times config\.heartbeatIntervalMs/,
      ],
      [
        { version: '0.1.0', config: { extraArgs: { 'data-dir': '/x' } } },
        /extraArgs may not set a flag the operator manages/,
      ],
    ];
    for (const [spec, message] of cases) {
      await assert.rejects(apply(NS, cluster('invalid', spec)), message, JSON.stringify(spec));
    }
  });

  it('refuses shrinking the volumes or changing their class', async () => {
    await apply(
      NS,
      cluster('storage', { version: '0.1.0', storage: { size: '4Gi', storageClassName: 'standard' } }),
    );
    const patch = (p: unknown): Promise<string> =>
      kubectl([
        'patch',
        'kvcluster',
        'storage',
        '-n',
        NS,
        '--type=merge',
        '-p',
        JSON.stringify({ spec: { storage: p } }),
      ]);
    await assert.rejects(patch({ size: '1Gi' }), /storage\.size may grow but not shrink/);
    await assert.rejects(patch({ storageClassName: 'fast' }), /storage\.storageClassName is immutable/);
    await patch({ size: '8Gi' });
  });

  it('documents its fields for kubectl explain', async () => {
    const text = await kubectl(['explain', 'kvcluster.spec']);
    for (const field of ['replicas', 'version', 'storage', 'config', 'scheduling', 'paused']) {
      assert.match(text, new RegExp(`^  ${field}\\s`, 'm'), `explain lists ${field}`);
    }
    assert.match(text, /Number of voting members, 1 to 9/);
  });

  it('scales through the /scale subresource', async () => {
    await apply(NS, cluster('scaled', { version: '0.1.0' }));
    await kubectl(['scale', 'kvcluster', 'scaled', '-n', NS, '--replicas=5']);
    const replicas = await waitFor(
      'spec.replicas 5',
      async () => {
        const got = await getJson<{ spec: { replicas: number } }>(['get', 'kvcluster', 'scaled', '-n', NS]);
        return got.spec.replicas === 5 ? got.spec.replicas : undefined;
      },
      10_000,
    );
    assert.equal(replicas, 5);
  });
});
