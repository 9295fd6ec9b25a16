import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

export type ReconcileOutcome = 'success' | 'error' | 'requeue';
export type MemberKind = 'voter' | 'learner';

/** What the reconciler reports about one KVCluster after a pass. */
export interface ClusterHealth {
  voters: number;
  learners: number;
  healthy: number;
  available: boolean;
}

/**
 * The operator's metrics, all on one injected registry (never prom-client's global one), so two
 * operators — or two tests — can live in one process. Names follow controller-runtime's
 * (`controller_runtime_reconcile_total`, `workqueue_depth`, `leader_election_master_status`) under a
 * `cairn_operator_` prefix.
 */
export interface OperatorMetrics {
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileDuration: Histogram<'controller'>;
  readonly reconcileErrors: Counter<'controller'>;
  readonly workqueueDepth: Gauge<'name'>;
  readonly workqueueAdds: Counter<'name'>;
  readonly workqueueRetries: Counter<'name'>;
  readonly leader: Gauge<'identity'>;
  readonly clusterMembers: Gauge<'namespace' | 'name' | 'kind'>;
  readonly clusterHealthyMembers: Gauge<'namespace' | 'name'>;
  readonly clusterAvailable: Gauge<'namespace' | 'name'>;
  /** Sets every per-cluster gauge of one KVCluster at once, so its series never disagree in label sets. */
  setClusterHealth(namespace: string, name: string, health: ClusterHealth): void;
  /** Drops a deleted KVCluster's series, so a dashboard does not show a cluster that no longer exists. */
  deleteCluster(namespace: string, name: string): void;
}

export const MEMBER_KINDS: readonly MemberKind[] = ['voter', 'learner'];

export function newOperatorMetrics(registry: Registry): OperatorMetrics {
  const registers = [registry];
  const clusterMembers = new Gauge({
    name: 'cairn_operator_cluster_members',
    help: 'Members of a KVCluster as seen in its member list, by kind (voter or learner).',
    labelNames: ['namespace', 'name', 'kind'] as const,
    registers,
  });
  const clusterHealthyMembers = new Gauge({
    name: 'cairn_operator_cluster_healthy_members',
    help: 'Members of a KVCluster that answered the last health check.',
    labelNames: ['namespace', 'name'] as const,
    registers,
  });
  const clusterAvailable = new Gauge({
    name: 'cairn_operator_cluster_available',
    help: '1 while the KVCluster has a quorum of healthy voters and a leader, else 0.',
    labelNames: ['namespace', 'name'] as const,
    registers,
  });
  return {
    reconcileTotal: new Counter({
      name: 'cairn_operator_reconcile_total',
      help: 'Reconciles per controller, by result (success, error, requeue).',
      labelNames: ['controller', 'result'] as const,
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'cairn_operator_reconcile_duration_seconds',
      help: 'Time one reconcile took, per controller.',
      labelNames: ['controller'] as const,
      // 5 ms to ~41 s: a pass is a few API calls plus member RPCs; a snapshot or a stuck member is the tail.
      buckets: Array.from({ length: 14 }, (_, i) => 0.005 * 2 ** i),
      registers,
    }),
    reconcileErrors: new Counter({
      name: 'cairn_operator_reconcile_errors_total',
      help: 'Reconciles that threw, per controller.',
      labelNames: ['controller'] as const,
      registers,
    }),
    workqueueDepth: new Gauge({
      name: 'cairn_operator_workqueue_depth',
      help: 'Keys waiting in a work queue (including those re-added while being processed).',
      labelNames: ['name'] as const,
      registers,
    }),
    workqueueAdds: new Counter({
      name: 'cairn_operator_workqueue_adds_total',
      help: 'Keys added to a work queue (duplicates of a waiting key are not counted).',
      labelNames: ['name'] as const,
      registers,
    }),
    workqueueRetries: new Counter({
      name: 'cairn_operator_workqueue_retries_total',
      help: 'Keys re-added to a work queue with back-off after a failed reconcile.',
      labelNames: ['name'] as const,
      registers,
    }),
    leader: new Gauge({
      name: 'cairn_operator_leader',
      help: '1 while this replica holds the leader-election lease, else 0.',
      labelNames: ['identity'] as const,
      registers,
    }),
    clusterMembers,
    clusterHealthyMembers,
    clusterAvailable,
    setClusterHealth(namespace, name, health) {
      clusterMembers.set({ namespace, name, kind: 'voter' }, health.voters);
      clusterMembers.set({ namespace, name, kind: 'learner' }, health.learners);
      clusterHealthyMembers.set({ namespace, name }, health.healthy);
      clusterAvailable.set({ namespace, name }, health.available ? 1 : 0);
    },
    deleteCluster(namespace, name) {
      for (const kind of MEMBER_KINDS) clusterMembers.remove({ namespace, name, kind });
      clusterHealthyMembers.remove({ namespace, name });
      clusterAvailable.remove({ namespace, name });
    },
  };
}
