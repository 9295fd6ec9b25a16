// The operator as the e2e suite files that need it deploy it (hack/e2e/manifests/operator.yaml, two
// replicas), and the KVCluster status they wait on.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getJson, kubectl, waitFor } from './kube.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const OPERATOR_MANIFEST = join(REPO, 'hack/e2e/manifests/operator.yaml');
export const OPERATOR_NAMESPACE = 'cairn-system';

export interface MemberJson {
  name: string;
  id?: string;
  isLearner: boolean;
  isLeader: boolean;
  healthy: boolean;
  revision?: number;
  dbSize?: number;
}

export interface ConditionJson {
  type: string;
  status: string;
  reason: string;
  message: string;
}

export interface KVClusterJson {
  metadata: { name: string; uid: string; annotations?: Record<string, string> };
  status?: {
    phase?: string;
    readyReplicas?: number;
    leader?: string;
    currentVersion?: string;
    clusterID?: string;
    restore?: { phase?: string; revision?: number; message?: string; requestedBy?: string };
    conditions?: ConditionJson[];
    members?: MemberJson[];
    replacements?: { name: string; attempts: number }[];
  };
}

/** The CRDs, then the operator Deployment, rolled out. */
export async function deployOperator(): Promise<void> {
  await kubectl(['apply', '-f', join(REPO, 'crds')]);
  await kubectl(['wait', '--for=condition=Established', 'crd/kvclusters.cairn.dev', '--timeout=60s']);
  await kubectl(['apply', '-f', OPERATOR_MANIFEST]);
  await operatorRolledOut();
}

export async function operatorRolledOut(): Promise<void> {
  await kubectl(
    ['rollout', 'status', 'deployment/cairn-operator', '-n', OPERATOR_NAMESPACE, '--timeout=120s'],
    { timeoutMs: 130_000 },
  );
}

export async function removeOperator(): Promise<void> {
  await kubectl(['delete', '-f', OPERATOR_MANIFEST, '--wait=true', '--timeout=120s'], { timeoutMs: 130_000 });
}

export function getCluster(namespace: string, name: string): Promise<KVClusterJson> {
  return getJson<KVClusterJson>(['get', 'kvcluster', name, '-n', namespace]);
}

export function condition(kv: KVClusterJson, type: string): ConditionJson | undefined {
  return kv.status?.conditions?.find((c) => c.type === type);
}

export function available(kv: KVClusterJson): boolean {
  return condition(kv, 'Available')?.status === 'True';
}

/** Waits until the cluster has `voters` healthy voting members and no learner; returns every learner seen. */
export async function settle(
  namespace: string,
  name: string,
  voters: number,
  timeoutMs: number,
): Promise<{ kv: KVClusterJson; learnersSeen: Set<string> }> {
  const learnersSeen = new Set<string>();
  const kv = await waitFor(
    `${namespace}/${name}: ${voters} healthy voters, no learner`,
    async () => {
      const got = await getCluster(namespace, name);
      const members = got.status?.members ?? [];
      for (const m of members) if (m.isLearner) learnersSeen.add(m.name);
      const settled =
        available(got) &&
        members.length === voters &&
        members.every((m) => !m.isLearner && m.healthy) &&
        got.status?.readyReplicas === voters;
      return settled ? got : undefined;
    },
    timeoutMs,
    500,
  );
  return { kv, learnersSeen };
}

/** A KVCluster manifest: `spec` on top of the name. */
export function kvClusterManifest(name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: 'cairn.dev/v1alpha1', kind: 'KVCluster', metadata: { name }, spec });
}

/** A KVCluster's client Service address (its ClusterIP), as a client in the environment dials it. */
export async function clientEndpoint(namespace: string, cluster: string): Promise<string> {
  const ip = (
    await kubectl([
      'get',
      'service',
      `${cluster}-client`,
      '-n',
      namespace,
      '-o',
      'jsonpath={.spec.clusterIP}',
    ])
  ).trim();
  return `http://${ip}:2379`;
}
