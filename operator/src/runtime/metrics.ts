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
  readonly backupsTotal: Counter<'namespace' | 'cluster' | 'result'>;
  readonly backupLastSuccess: Gauge<'namespace' | 'cluster'>;
  readonly backupLastDuration: Gauge<'namespace' | 'cluster'>;
  readonly backupLastSize: Gauge<'namespace' | 'cluster'>;
  readonly restoresTotal: Counter<'namespace' | 'cluster' | 'target' | 'result'>;
}

export const MEMBER_KINDS: readonly MemberKind[] = ['voter', 'learner'];

export function newOperatorMetrics(registry: Registry): OperatorMetrics {
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers });
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Gauge<L>({ name, help, labelNames, registers });

  const clusterMembers = gauge(
    'cairn_operator_cluster_members',
    'Members of a KVCluster as seen in its member list, by kind (voter or learner).',
    ['namespace', 'name', 'kind'],
  );
  const clusterHealthyMembers = gauge(
    'cairn_operator_cluster_healthy_members',
    'Members of a KVCluster that answered the last health check.',
    ['namespace', 'name'],
  );
  const clusterAvailable = gauge(
    'cairn_operator_cluster_available',
    '1 while the KVCluster has a quorum of healthy voters and a leader, else 0.',
    ['namespace', 'name'],
  );
  return {
    reconcileTotal: counter(
      'cairn_operator_reconcile_total',
      'Reconciles per controller, by result (success, error, requeue).',
      ['controller', 'result'],
    ),
    reconcileDuration: new Histogram({
      name: 'cairn_operator_reconcile_duration_seconds',
      help: 'Time one reconcile took, per controller.',
      labelNames: ['controller'] as const,
      // 5 ms to ~41 s: a pass is a few API calls plus member RPCs; a snapshot or a stuck member is the tail.
      buckets: Array.from({ length: 14 }, (_, i) => 0.005 * 2 ** i),
      registers,
    }),
    reconcileErrors: counter(
      'cairn_operator_reconcile_errors_total',
      'Reconciles that threw, per controller.',
      ['controller'],
    ),
    workqueueDepth: gauge(
      'cairn_operator_workqueue_depth',
      'Keys waiting in a work queue (including those re-added while being processed).',
      ['name'],
    ),
    workqueueAdds: counter(
      'cairn_operator_workqueue_adds_total',
      'Keys added to a work queue (duplicates of a waiting key are not counted).',
      ['name'],
    ),
    workqueueRetries: counter(
      'cairn_operator_workqueue_retries_total',
      'Keys re-added to a work queue with back-off after a failed reconcile.',
      ['name'],
    ),
    leader: gauge('cairn_operator_leader', '1 while this replica holds the leader-election lease, else 0.', [
      'identity',
    ]),
    clusterMembers,
    clusterHealthyMembers,
    clusterAvailable,
    backupsTotal: counter(
      'cairn_operator_backups_total',
      'Backups that finished, per cluster, by result (succeeded, failed).',
      ['namespace', 'cluster', 'result'],
    ),
    backupLastSuccess: gauge(
      'cairn_operator_backup_last_success_timestamp_seconds',
      'When the last successful backup of a cluster completed (Unix time).',
      ['namespace', 'cluster'],
    ),
    backupLastDuration: gauge(
      'cairn_operator_backup_last_duration_seconds',
      'How long the last successful backup of a cluster took, from its start to its completion.',
      ['namespace', 'cluster'],
    ),
    backupLastSize: gauge(
      'cairn_operator_backup_last_size_bytes',
      'Size of the last successful backup of a cluster.',
      ['namespace', 'cluster'],
    ),
    restoresTotal: counter(
      'cairn_operator_restores_total',
      'KVRestores that finished, per cluster restored into, by target (newCluster, inPlace) and result.',
      ['namespace', 'cluster', 'target', 'result'],
    ),
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
