// operator/src/rbac.ts: how per-controller grants become the ClusterRole and the leader-election Role
// (what hack/gen-chart.mjs writes), and the least-privilege properties the generated rules must keep.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CLUSTER_GRANTS,
  clusterRules,
  leaderElectionRules,
  mergeGrants,
  VERB_ORDER,
  type Rule,
} from '../../../operator/src/rbac.js';

const find = (rules: Rule[], group: string, resource: string): Rule | undefined =>
  rules.find((r) => r.apiGroups[0] === group && r.resources[0] === resource);

describe('rbac', () => {
  it('merges grants into one rule per resource, verbs in order, each use a comment line', () => {
    const rules = mergeGrants({
      a: [
        { apiGroup: 'batch', resource: 'jobs', verbs: ['delete', 'get'], usedBy: 'x' },
        { apiGroup: '', resource: 'pods', verbs: ['list'], usedBy: 'y' },
      ],
      b: [{ apiGroup: 'batch', resource: 'jobs', verbs: ['get', 'watch', 'list'], usedBy: 'z' }],
    });
    assert.deepEqual(rules, [
      {
        apiGroups: ['batch'],
        resources: ['jobs'],
        verbs: ['get', 'list', 'watch', 'delete'],
        comments: ['get, delete — a: x', 'get, list, watch — b: z'],
      },
      { apiGroups: [''], resources: ['pods'], verbs: ['list'], comments: ['list — a: y'] },
    ]);
  });

  it('the ClusterRole grants nothing broad: no wildcard, no Secrets, no Lease, status only patched', () => {
    const rules = clusterRules();
    const keys = rules.map((r) => `${r.apiGroups[0]}/${r.resources[0]}`);
    assert.equal(new Set(keys).size, keys.length, 'one rule per resource');
    for (const r of rules) {
      assert.ok(!r.verbs.some((v) => !VERB_ORDER.includes(v)));
      assert.ok(!r.resources[0].includes('*') && !r.apiGroups[0].includes('*'));
      assert.ok(r.comments.length > 0, `${r.resources[0]}: says who uses it`);
      if (r.resources[0].endsWith('/status')) assert.deepEqual(r.verbs, ['patch']);
      if (r.resources[0].endsWith('/finalizers')) assert.deepEqual(r.verbs, ['update']);
    }
    for (const absent of ['secrets', 'leases', 'nodes', 'namespaces'])
      assert.ok(!keys.some((k) => k.endsWith(`/${absent}`)), `no rule for ${absent}`);
    // The operator's own objects are never replaced whole (merge patches and server-side apply only).
    assert.ok(!find(rules, 'cairn.dev', 'kvclusters')?.verbs.includes('update'));
    assert.ok(!find(rules, 'cairn.dev', 'kvclusters')?.verbs.includes('delete'));
    // Pods are made by StatefulSets and Jobs, never by the operator.
    assert.ok(!find(rules, '', 'pods')?.verbs.includes('create'));
  });

  it('every applied kind has create and patch: server-side apply is authorized as both', () => {
    const rules = clusterRules();
    for (const [group, resource] of [
      ['apps', 'statefulsets'],
      ['', 'services'],
      ['', 'configmaps'],
      ['policy', 'poddisruptionbudgets'],
      ['batch', 'jobs'],
      ['batch', 'cronjobs'],
    ] as const) {
      const verbs = find(rules, group, resource)?.verbs ?? [];
      assert.ok(verbs.includes('create') && verbs.includes('patch'), `${resource}: ${verbs.join(',')}`);
    }
  });

  it('the leader-election Role: create any Lease, get and update only its own', () => {
    assert.deepEqual(
      leaderElectionRules('my-lease').map(({ comments: _, ...r }) => r),
      [
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
        {
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          verbs: ['get', 'update'],
          resourceNames: ['my-lease'],
        },
      ],
    );
  });

  it('lists every controller the operator runs, and the runtime', () => {
    assert.deepEqual(Object.keys(CLUSTER_GRANTS), [
      'kvcluster',
      'kvbackup',
      'kvbackupschedule',
      'kvrestore',
      'maintenance',
      'events',
    ]);
  });
});
