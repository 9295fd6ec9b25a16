// The KVCluster API's one source: defaults resolve as the API server applies them, and the generated CRD
// schema stays within what Kubernetes accepts as a structural schema.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kvClusterCRD, resolveSpec } from '../../../../operator/src/api/v1alpha1/index.js';

describe('KVCluster defaults', () => {
  it('fills every default from the schema', () => {
    const spec = resolveSpec({ version: '0.1.0' });
    assert.equal(spec.replicas, 3);
    assert.equal(spec.paused, false);
    assert.equal(spec.storage.size, '2Gi');
    assert.deepEqual(spec.storage.retentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Delete' });
    assert.deepEqual(
      {
        heartbeatIntervalMs: spec.config.heartbeatIntervalMs,
        electionTimeoutMs: spec.config.electionTimeoutMs,
        snapshotCount: spec.config.snapshotCount,
        maxRequestBytes: spec.config.maxRequestBytes,
        quotaBackendBytes: spec.config.quotaBackendBytes,
      },
      {
        heartbeatIntervalMs: 100,
        electionTimeoutMs: 1000,
        snapshotCount: 10000,
        maxRequestBytes: 1572864,
        quotaBackendBytes: 2147483648,
      },
    );
  });

  it('keeps what the user set and does not touch the input', () => {
    const input = {
      version: '0.2.0',
      replicas: 5,
      config: { heartbeatIntervalMs: 200 },
      storage: { size: '8Gi' },
    };
    const spec = resolveSpec(input);
    assert.equal(spec.replicas, 5);
    assert.equal(spec.config.heartbeatIntervalMs, 200);
    assert.equal(spec.config.electionTimeoutMs, 1000);
    assert.equal(spec.storage.size, '8Gi');
    assert.deepEqual(input, {
      version: '0.2.0',
      replicas: 5,
      config: { heartbeatIntervalMs: 200 },
      storage: { size: '8Gi' },
    });
  });
});

type Node = Record<string, unknown>;

/** Walks every schema node below the root, with its path. */
function walk(node: Node, path: string, visit: (n: Node, p: string) => void): void {
  visit(node, path);
  for (const [key, child] of Object.entries((node['properties'] as Record<string, Node> | undefined) ?? {})) {
    walk(child, `${path}.${key}`, visit);
  }
  const items = node['items'] as Node | undefined;
  if (items !== undefined) walk(items, `${path}[]`, visit);
  const extra = node['additionalProperties'];
  if (typeof extra === 'object' && extra !== null) walk(extra as Node, `${path}{}`, visit);
}

describe('the KVCluster CRD', () => {
  const crd = kvClusterCRD() as { spec: { versions: { schema: { openAPIV3Schema: Node } }[] } };
  const root = crd.spec.versions[0]?.schema.openAPIV3Schema;

  it('is a structural schema: every node typed, no JSON Schema Kubernetes refuses', () => {
    assert.ok(root !== undefined);
    walk(root, 'root', (n, p) => {
      const typed = n['type'] !== undefined || n['x-kubernetes-int-or-string'] === true;
      assert.ok(typed, `${p} has a type`);
      for (const refused of ['patternProperties', 'const', '$id', '$ref', 'oneOf']) {
        assert.equal(n[refused], undefined, `${p} has no ${refused}`);
      }
      if (n['properties'] !== undefined)
        assert.equal(n['additionalProperties'], undefined, `${p}: properties or additionalProperties`);
    });
  });

  it('describes every spec field (kubectl explain)', () => {
    const spec = (root?.['properties'] as Record<string, Node>)['spec'];
    assert.ok(spec !== undefined);
    walk(spec, 'spec', (n, p) => {
      if (p.endsWith('{}') || p.endsWith('[]')) return;
      assert.equal(typeof n['description'], 'string', `${p} has a description`);
    });
  });

  it('defaults no field the schema requires', () => {
    walk(root ?? {}, 'root', (n, p) => {
      const required = (n['required'] as string[] | undefined) ?? [];
      const props = (n['properties'] as Record<string, Node> | undefined) ?? {};
      for (const name of required)
        assert.equal(props[name]?.['default'], undefined, `${p}.${name} is required and defaulted`);
    });
  });
});
