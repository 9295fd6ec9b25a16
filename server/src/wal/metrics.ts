import { Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

/** The WAL's metrics (etcd's names), registered on the member's own registry (never the global one). */
export interface WalMetrics {
  /** Every fdatasync/fsync the WAL makes: segment data, and the directory after a create or rename. */
  readonly walFsyncDurationSeconds: Histogram;
  /** Bytes written to segment files (etcd keeps this as a gauge that only grows). */
  readonly walWriteBytesTotal: Gauge;
}

export function newWalMetrics(registry: Registry): WalMetrics {
  return {
    walFsyncDurationSeconds: new Histogram({
      name: 'etcd_disk_wal_fsync_duration_seconds',
      help: 'The latency distributions of fsync called by WAL.',
      // etcd: exponential buckets from 1 ms, factor 2, 14 buckets (up to ~8 s).
      buckets: Array.from({ length: 14 }, (_, i) => 0.001 * 2 ** i),
      registers: [registry],
    }),
    walWriteBytesTotal: new Gauge({
      name: 'etcd_disk_wal_write_bytes_total',
      help: 'Total number of bytes written in WAL.',
      registers: [registry],
    }),
  };
}
