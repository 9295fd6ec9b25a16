import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

export interface ServerMetrics {
  readonly rangeTotal: Counter;
  readonly putTotal: Counter;
  readonly deleteTotal: Counter;
  readonly txnTotal: Counter;
}

export interface ServerGauges {
  readonly dbSizeBytes: () => number;
  readonly dbSizeInUseBytes: () => number;
  readonly keysTotal: () => number;
  readonly appliedIndex: () => number;
  readonly watchers: () => number;
  readonly slowWatchers: () => number;
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
  gauge('etcd_debugging_mvcc_keys_total', 'Total number of keys.', g.keysTotal);
  gauge('etcd_debugging_mvcc_watcher_total', 'Total number of watchers.', g.watchers);
  gauge('etcd_debugging_mvcc_slow_watcher_total', 'Total number of unsynced slow watchers.', g.slowWatchers);
  gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.', () => 1);
  gauge('etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.', () => 1);
  gauge(
    'etcd_server_proposals_committed_total',
    'The total number of consensus proposals committed.',
    g.appliedIndex,
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
  };
}
