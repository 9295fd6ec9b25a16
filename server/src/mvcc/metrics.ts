import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

export interface MvccMetrics {
  readonly compactionDurationMs: Histogram;
  readonly compactionKeysTotal: Counter;
}

export function newMvccMetrics(registry: Registry): MvccMetrics {
  return {
    compactionDurationMs: new Histogram({
      name: 'etcd_debugging_mvcc_db_compaction_total_duration_milliseconds',
      help: 'Bucketed histogram of db compaction total duration.',
      buckets: Array.from({ length: 20 }, (_, i) => 100 * 2 ** i),
      registers: [registry],
    }),
    compactionKeysTotal: new Counter({
      name: 'etcd_debugging_mvcc_db_compaction_keys_total',
      help: 'Total number of db keys compacted.',
      registers: [registry],
    }),
  };
}
