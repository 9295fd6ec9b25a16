// The names, labels and addresses of everything the operator creates for a KVCluster `<name>`:
//   StatefulSet <name>, members <name>-0 … <name>-8 (pods, and the member names cairn reports),
//   headless peer Service <name> (stable DNS: <member>.<name>.<namespace>.svc.<domain>),
//   client Service <name>-client, PodDisruptionBudget <name>, ConfigMap <name>-bootstrap.
import type { KVCluster } from '../api/v1alpha1/index.js';

export const CLIENT_PORT = 2379;
export const PEER_PORT = 2380;
export const METRICS_PORT = 2381;
/** Where each member's volume is mounted, and its data dir inside it. */
export const DATA_MOUNT = '/var/lib/cairn';
export const DATA_DIR = `${DATA_MOUNT}/data`;
/** The unprivileged user of the cairn image. */
export const IMAGE_UID = 65532;

export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
/** Set by the operator on each member pod: `voter` or `learner` (the PDB counts voters only). */
export const LABEL_ROLE = 'cairn.dev/role';
export const OPERATOR_NAME = 'cairn-operator';

export interface ClusterRef {
  name: string;
  namespace: string;
  /** The cluster DNS domain (the operator's --cluster-domain). */
  domain: string;
}

export function clusterRef(kv: Pick<KVCluster, 'metadata'>, domain: string): ClusterRef {
  return { name: kv.metadata.name, namespace: kv.metadata.namespace, domain };
}

/** Labels that select a cluster's member pods. */
export function selectorLabels(c: ClusterRef): Record<string, string> {
  return { [LABEL_NAME]: 'cairn', [LABEL_INSTANCE]: c.name };
}

/** Labels on every object of a cluster. */
export function clusterLabels(c: ClusterRef): Record<string, string> {
  return { ...selectorLabels(c), [LABEL_MANAGED_BY]: OPERATOR_NAME };
}

export function selectorString(c: ClusterRef): string {
  return Object.entries(selectorLabels(c))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export const peerServiceName = (c: ClusterRef): string => c.name;
export const clientServiceName = (c: ClusterRef): string => `${c.name}-client`;
export const bootstrapConfigMapName = (c: ClusterRef): string => `${c.name}-bootstrap`;
export const memberName = (c: ClusterRef, ordinal: number): string => `${c.name}-${ordinal}`;

/** The ordinal of a member or pod name of this cluster, or undefined for another name. */
export function memberOrdinal(c: ClusterRef, member: string): number | undefined {
  const m = new RegExp(`^${escape(c.name)}-(\\d+)$`).exec(member);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** The member name a peer URL of this cluster was made for (the inverse of peerURL), or undefined. */
export function memberOfPeerURL(c: ClusterRef, url: string): string | undefined {
  const m = /^http:\/\/([^.]+)\./.exec(url);
  const name = m?.[1];
  return name !== undefined && memberOrdinal(c, name) !== undefined && peerURL(c, name) === url
    ? name
    : undefined;
}

export function memberHost(c: ClusterRef, member: string): string {
  return `${member}.${peerServiceName(c)}.${c.namespace}.svc.${c.domain}`;
}

export const peerURL = (c: ClusterRef, member: string): string =>
  `http://${memberHost(c, member)}:${PEER_PORT}`;
export const clientURL = (c: ClusterRef, member: string): string =>
  `http://${memberHost(c, member)}:${CLIENT_PORT}`;

/** The client Service's address, for talking to the cluster as a whole. */
export function serviceClientURL(c: ClusterRef): string {
  return `http://${clientServiceName(c)}.${c.namespace}.svc.${c.domain}:${CLIENT_PORT}`;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
