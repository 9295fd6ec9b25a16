import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

export interface ServerMetrics {
  readonly rangeTotal: Counter;
  readonly putTotal: Counter;
  readonly deleteTotal: Counter;
  readonly txnTotal: Counter;
  readonly leaderChanges: Counter;
  readonly proposalsFailed: Counter;
  readonly slowApplies: Counter;
  readonly snapshotSaveSeconds: Histogram;
  readonly snapshotApplySeconds: Histogram;
}

export interface ServerGauges {
  readonly dbSizeBytes: () => number;
  readonly dbSizeInUseBytes: () => number;
  readonly keysTotal: () => number;
  readonly appliedIndex: () => number;
  readonly watchers: () => number;
  readonly slowWatchers: () => number;
  readonly hasLeader: () => boolean;
  readonly isLeader: () => boolean;
  readonly committedIndex: () => number;
  readonly pendingProposals: () => number;
  readonly isLearner: () => boolean;
  /** --quota-backend-bytes: alert rules divide the db size by it (seed 003's EtcdDatabaseQuotaLowSpace). */
  readonly quotaBackendBytes: () => number;
}

/** Server-level metrics with etcd's names, on the member's own registry. */
export function newServerMetrics(registry: Registry, g: ServerGauges): ServerMetrics {
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  gauge(
    'etcd_mvcc_db_total_size_in_bytes',
    'Total size of the underlying database physically allocated in bytes.',
    g.dbSizeBytes,
  );
  gauge(
    'etcd_mvcc_db_total_size_in_use_in_bytes',
    'Total size of the underlying database logically in use in bytes.',
    g.dbSizeInUseBytes,
  );
  gauge(
    'etcd_server_quota_backend_bytes',
    'Current backend storage quota size in bytes.',
    g.quotaBackendBytes,
  );
  gauge('etcd_debugging_mvcc_keys_total', 'Total number of keys.', g.keysTotal);
  gauge('etcd_debugging_mvcc_watcher_total', 'Total number of watchers.', g.watchers);
  gauge('etcd_debugging_mvcc_slow_watcher_total', 'Total number of unsynced slow watchers.', g.slowWatchers);
  gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.', () =>
    g.hasLeader() ? 1 : 0,
  );
  gauge('etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.', () =>
    g.isLeader() ? 1 : 0,
  );
  gauge('etcd_server_is_learner', 'Whether or not this member is a learner. 1 if is, 0 otherwise.', () =>
    g.isLearner() ? 1 : 0,
  );
  gauge(
    'etcd_server_proposals_committed_total',
    'The total number of consensus proposals committed.',
    g.committedIndex,
  );
  gauge(
    'etcd_server_proposals_pending',
    'The current number of pending proposals to commit.',
    g.pendingProposals,
  );
  gauge(
    'etcd_server_proposals_applied_total',
    'The total number of consensus proposals applied.',
    g.appliedIndex,
  );
  const counter = (name: string, help: string) => new Counter({ name, help, registers: [registry] });
  return {
    rangeTotal: counter('etcd_mvcc_range_total', 'Total number of ranges seen by this member.'),
    putTotal: counter('etcd_mvcc_put_total', 'Total number of puts seen by this member.'),
    deleteTotal: counter('etcd_mvcc_delete_total', 'Total number of deletes seen by this member.'),
    txnTotal: counter('etcd_mvcc_txn_total', 'Total number of txns seen by this member.'),
    leaderChanges: counter('etcd_server_leader_changes_seen_total', 'The number of leader changes seen.'),
    proposalsFailed: counter(
      'etcd_server_proposals_failed_total',
      'The total number of failed proposals seen.',
    ),
    slowApplies: counter(
      'etcd_server_slow_apply_total',
      'The total number of slow apply requests (likely overloaded from slow disk).',
    ),
    snapshotSaveSeconds: new Histogram({
      name: 'etcd_debugging_snap_save_total_duration_seconds',
      help: 'The total latency distributions of save called by snapshot.',
      buckets: [
        0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192,
      ],
      registers: [registry],
    }),
    snapshotApplySeconds: new Histogram({
      name: 'cairn_server_snapshot_install_duration_seconds',
      help: 'Latency of installing a snapshot received from the leader.',
      buckets: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48],
      registers: [registry],
    }),
  };
}
