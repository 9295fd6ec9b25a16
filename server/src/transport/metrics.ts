import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

/**
 * The peer-network metrics of etcd's rafthttp, same names and labels, on the member's own registry
 * (several members live in one test process). Peer ids in labels are hex, as etcd prints them.
 */
export interface TransportMetrics {
  readonly sentBytes: Counter<'To'>;
  readonly receivedBytes: Counter<'From'>;
  readonly sentFailures: Counter<'To'>;
  readonly receivedFailures: Counter<'From'>;
  readonly roundTripSeconds: Histogram<'To'>;
  readonly snapshotSendSuccess: Counter<'To'>;
  readonly snapshotSendFailures: Counter<'To'>;
  readonly snapshotReceiveSuccess: Counter<'From'>;
  readonly snapshotReceiveFailures: Counter<'From'>;
}

/** etcd's buckets: 0.1 ms doubling 16 times (up to 3.2768 s). */
export const RTT_BUCKETS_SECONDS: readonly number[] = Array.from({ length: 16 }, (_, k) => 0.0001 * 2 ** k);

export function newTransportMetrics(registry: Registry): TransportMetrics {
  const to = <T extends 'To' | 'From'>(name: string, help: string, label: T) =>
    new Counter<T>({ name, help, labelNames: [label], registers: [registry] });
  return {
    sentBytes: to('etcd_network_peer_sent_bytes_total', 'The total number of bytes sent to peers.', 'To'),
    receivedBytes: to(
      'etcd_network_peer_received_bytes_total',
      'The total number of bytes received from peers.',
      'From',
    ),
    sentFailures: to(
      'etcd_network_peer_sent_failures_total',
      'The total number of send failures from peers.',
      'To',
    ),
    receivedFailures: to(
      'etcd_network_peer_received_failures_total',
      'The total number of receive failures from peers.',
      'From',
    ),
    roundTripSeconds: new Histogram<'To'>({
      name: 'etcd_network_peer_round_trip_time_seconds',
      help: 'Round-Trip-Time histogram between peers.',
      labelNames: ['To'],
      buckets: [...RTT_BUCKETS_SECONDS],
      registers: [registry],
    }),
    snapshotSendSuccess: to(
      'etcd_network_snapshot_send_success',
      'Total number of successful snapshot sends',
      'To',
    ),
    snapshotSendFailures: to(
      'etcd_network_snapshot_send_failures',
      'Total number of snapshot send failures',
      'To',
    ),
    snapshotReceiveSuccess: to(
      'etcd_network_snapshot_receive_success',
      'Total number of successful snapshot receives',
      'From',
    ),
    snapshotReceiveFailures: to(
      'etcd_network_snapshot_receive_failures',
      'Total number of snapshot receive failures',
      'From',
    ),
  };
}
