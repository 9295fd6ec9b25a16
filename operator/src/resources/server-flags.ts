// A member's command line. The operator manages identity, addresses and bootstrap; spec.config supplies
// the tuning flags. Per-member values come from the pod (POD_NAME) and from the bootstrap ConfigMap
// (initial cluster and state), expanded by the kubelet from $(VAR) references — one pod template serves
// every member, and the ConfigMap can change between member additions without touching the template.
import type { ResolvedSpec } from '../api/v1alpha1/index.js';
import { CLIENT_PORT, DATA_DIR, METRICS_PORT, PEER_PORT, memberHost, type ClusterRef } from './names.js';

export const ENV_POD_NAME = 'POD_NAME';
export const ENV_INITIAL_CLUSTER = 'CAIRN_INITIAL_CLUSTER';
export const ENV_INITIAL_CLUSTER_STATE = 'CAIRN_INITIAL_CLUSTER_STATE';

export function serverArgs(spec: ResolvedSpec, c: ClusterRef, clusterToken: string): string[] {
  const host = memberHost(c, `$(${ENV_POD_NAME})`);
  const cfg = spec.config;
  const args = [
    `--name=$(${ENV_POD_NAME})`,
    `--data-dir=${DATA_DIR}`,
    `--listen-client-urls=http://0.0.0.0:${CLIENT_PORT}`,
    `--advertise-client-urls=http://${host}:${CLIENT_PORT}`,
    `--listen-peer-urls=http://0.0.0.0:${PEER_PORT}`,
    `--initial-advertise-peer-urls=http://${host}:${PEER_PORT}`,
    `--listen-metrics-urls=http://0.0.0.0:${METRICS_PORT}`,
    `--initial-cluster=$(${ENV_INITIAL_CLUSTER})`,
    `--initial-cluster-state=$(${ENV_INITIAL_CLUSTER_STATE})`,
    `--initial-cluster-token=${clusterToken}`,
    `--heartbeat-interval=${cfg.heartbeatIntervalMs}`,
    `--election-timeout=${cfg.electionTimeoutMs}`,
    `--quota-backend-bytes=${cfg.quotaBackendBytes}`,
    `--snapshot-count=${cfg.snapshotCount}`,
    `--max-request-bytes=${cfg.maxRequestBytes}`,
  ];
  if (cfg.autoCompaction !== undefined) {
    args.push(`--auto-compaction-mode=${cfg.autoCompaction.mode ?? 'periodic'}`);
    args.push(`--auto-compaction-retention=${cfg.autoCompaction.retention ?? '1h'}`);
  }
  for (const [name, value] of Object.entries(cfg.extraArgs ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    args.push(`--${name}=${value}`);
  }
  return args;
}
