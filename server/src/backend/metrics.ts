import { Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

/** The backend's metrics, registered on the member's own registry (never the global one). */
export interface BackendMetrics {
  readonly commitDurationSeconds: Histogram;
}

export function newBackendMetrics(registry: Registry): BackendMetrics {
  return {
    commitDurationSeconds: new Histogram({
      name: 'etcd_disk_backend_commit_duration_seconds',
      help: 'The latency distributions of commit called by backend.',
      // etcd: exponential buckets from 1 ms, factor 2, 14 buckets (up to ~8 s).
      buckets: Array.from({ length: 14 }, (_, i) => 0.001 * 2 ** i),
      registers: [registry],
    }),
  };
}
