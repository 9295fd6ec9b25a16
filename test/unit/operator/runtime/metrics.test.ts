import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { newOperatorMetrics } from '../../../../operator/src/runtime/metrics.js';

describe('newOperatorMetrics', () => {
  it('registers every operator metric on the given registry only', async () => {
    const registry = new Registry();
    const other = new Registry();
    const metrics = newOperatorMetrics(registry);
    newOperatorMetrics(other); // a second operator in the same process must not collide
    metrics.reconcileTotal.inc({ controller: 'kvcluster', result: 'success' });
    metrics.reconcileDuration.observe({ controller: 'kvcluster' }, 0.02);
    metrics.leader.set({ identity: 'op-0' }, 1);
    const text = await registry.metrics();
    for (const name of [
      'cairn_operator_reconcile_total{controller="kvcluster",result="success"} 1',
      'cairn_operator_reconcile_duration_seconds_bucket{le="0.04",controller="kvcluster"} 1',
      'cairn_operator_reconcile_errors_total',
      'cairn_operator_workqueue_depth',
      'cairn_operator_workqueue_adds_total',
      'cairn_operator_workqueue_retries_total',
      'cairn_operator_leader{identity="op-0"} 1',
      'cairn_operator_cluster_members',
      'cairn_operator_cluster_healthy_members',
      'cairn_operator_cluster_available',
    ]) {
      assert.ok(text.includes(name), `missing ${name}`);
    }
    assert.ok(!(await other.metrics()).includes('op-0'));
  });

  it('sets a cluster health in one call and deletes only that cluster’s series', async () => {
    const registry = new Registry();
    const metrics = newOperatorMetrics(registry);
    metrics.setClusterHealth('prod', 'main', { voters: 3, learners: 1, healthy: 4, available: true });
    metrics.setClusterHealth('prod', 'other', { voters: 1, learners: 0, healthy: 0, available: false });
    let text = await registry.metrics();
    assert.match(text, /cairn_operator_cluster_members\{namespace="prod",name="main",kind="voter"\} 3/);
    assert.match(text, /cairn_operator_cluster_members\{namespace="prod",name="main",kind="learner"\} 1/);
    assert.match(text, /cairn_operator_cluster_healthy_members\{namespace="prod",name="main"\} 4/);
    assert.match(text, /cairn_operator_cluster_available\{namespace="prod",name="main"\} 1/);
    assert.match(text, /cairn_operator_cluster_available\{namespace="prod",name="other"\} 0/);
    metrics.deleteCluster('prod', 'main');
    text = await registry.metrics();
    assert.doesNotMatch(text, /name="main"/);
    assert.match(text, /cairn_operator_cluster_members\{namespace="prod",name="other",kind="voter"\} 1/);
  });
});
