import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

export interface LeaseMetrics {
  readonly granted: Counter;
  readonly revoked: Counter;
  readonly renewed: Counter;
  readonly ttl: Histogram;
  readonly expired: Counter;
}

/** The lessor's metrics with etcd's names (lease/metrics.go, etcdserver/metrics.go), on one registry. */
export function newLeaseMetrics(registry: Registry): LeaseMetrics {
  const counter = (name: string, help: string) => new Counter({ name, help, registers: [registry] });
  return {
    granted: counter('etcd_debugging_lease_granted_total', 'The total number of granted leases.'),
    revoked: counter('etcd_debugging_lease_revoked_total', 'The total number of revoked leases.'),
    renewed: counter(
      'etcd_debugging_lease_renewed_total',
      'The number of renewed leases seen by the leader.',
    ),
    ttl: new Histogram({
      name: 'etcd_debugging_lease_ttl_total',
      help: 'Bucketed histogram of lease TTLs.',
      // prometheus.ExponentialBuckets(1, 2, 24): 1 second to 3 months
      buckets: Array.from({ length: 24 }, (_, i) => 2 ** i),
      registers: [registry],
    }),
    expired: counter('etcd_debugging_server_lease_expired_total', 'The total number of expired leases.'),
  };
}
