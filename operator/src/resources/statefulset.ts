// The members' StatefulSet. The operator, not the StatefulSet controller, decides which pod changes when:
//   - updateStrategy OnDelete: a new template (version, config) is rolled out by the operator deleting one
//     pod at a time (unhealthy first, followers, the leader last after MoveLeader);
//   - podManagementPolicy Parallel: the operator grows `replicas` by one only after it has added the
//     member, so the StatefulSet never has to gate on readiness (a learner is not "ready" for clients);
//   - the claim retention policy follows spec.storage.retentionPolicy.
// Without scheduling constraints the members spread over nodes and zones (soft, so a one-node cluster
// still runs).
import type {
  V1PodSpec,
  V1ResourceRequirements,
  V1StatefulSet,
  V1TopologySpreadConstraint,
} from '@kubernetes/client-node';
import { DEFAULT_IMAGE_REPOSITORY, type KVCluster, type ResolvedSpec } from '../api/v1alpha1/index.js';
import { KEY_INITIAL_CLUSTER, KEY_INITIAL_CLUSTER_STATE } from './bootstrap-config.js';
import {
  CLIENT_PORT,
  DATA_MOUNT,
  IMAGE_UID,
  METRICS_PORT,
  PEER_PORT,
  bootstrapConfigMapName,
  clusterLabels,
  peerServiceName,
  selectorLabels,
  type ClusterRef,
} from './names.js';
import { ownedMeta } from './owner.js';
import { restoreStep, type RestorePlan } from './restore-step.js';
import { ENV_INITIAL_CLUSTER, ENV_INITIAL_CLUSTER_STATE, ENV_POD_NAME, serverArgs } from './server-flags.js';

export const DATA_VOLUME = 'data';
const GRACE_PERIOD_S = 30;

export function memberImage(spec: ResolvedSpec): string {
  return spec.image ?? `${DEFAULT_IMAGE_REPOSITORY}:${spec.version}`;
}

/** Each cluster's own token, so members of two clusters can never join each other. */
export function clusterToken(kv: Pick<KVCluster, 'metadata'>): string {
  return `${kv.metadata.name}-${(kv.metadata.uid ?? '').slice(0, 8)}`;
}

/** `restore`: the snapshot a restored cluster starts from (its template then has the restore init step). */
export function statefulSet(
  kv: KVCluster,
  spec: ResolvedSpec,
  c: ClusterRef,
  replicas: number,
  restore?: RestorePlan,
): V1StatefulSet {
  const selector = selectorLabels(c);
  const storage = spec.storage;
  const claimSpec = storage.volumeClaimTemplate ?? {
    accessModes: ['ReadWriteOnce'],
    resources: { requests: { storage: String(storage.size) } },
    ...(storage.storageClassName !== undefined ? { storageClassName: storage.storageClassName } : {}),
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: ownedMeta(kv, c, c.name),
    spec: {
      serviceName: peerServiceName(c),
      replicas,
      selector: { matchLabels: selector },
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'OnDelete' },
      persistentVolumeClaimRetentionPolicy: {
        whenDeleted: storage.retentionPolicy.whenDeleted,
        whenScaled: storage.retentionPolicy.whenScaled,
      },
      template: {
        metadata: {
          labels: { ...(spec.podTemplate?.labels ?? {}), ...clusterLabels(c) },
          ...(spec.podTemplate?.annotations !== undefined
            ? { annotations: spec.podTemplate.annotations }
            : {}),
        },
        spec: podSpec(kv, spec, c, restore),
      },
      volumeClaimTemplates: [
        {
          metadata: { name: DATA_VOLUME, labels: clusterLabels(c) },
          spec: claimSpec,
        },
      ],
    },
  };
}

function podSpec(kv: KVCluster, spec: ResolvedSpec, c: ClusterRef, restore?: RestorePlan): V1PodSpec {
  const scheduling = spec.scheduling ?? {};
  const constrained = scheduling.affinity !== undefined || scheduling.topologySpreadConstraints !== undefined;
  const configMap = bootstrapConfigMapName(c);
  const memberEnv = [
    { name: ENV_POD_NAME, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    {
      name: ENV_INITIAL_CLUSTER,
      valueFrom: { configMapKeyRef: { name: configMap, key: KEY_INITIAL_CLUSTER } },
    },
    {
      name: ENV_INITIAL_CLUSTER_STATE,
      valueFrom: { configMapKeyRef: { name: configMap, key: KEY_INITIAL_CLUSTER_STATE } },
    },
  ];
  const restoring =
    restore === undefined
      ? undefined
      : restoreStep(restore, c, clusterToken(kv), memberImage(spec), memberEnv);
  return {
    enableServiceLinks: false,
    terminationGracePeriodSeconds: GRACE_PERIOD_S,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: IMAGE_UID,
      runAsGroup: IMAGE_UID,
      fsGroup: IMAGE_UID,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    ...(spec.imagePullSecrets !== undefined ? { imagePullSecrets: spec.imagePullSecrets } : {}),
    ...(scheduling.nodeSelector !== undefined ? { nodeSelector: scheduling.nodeSelector } : {}),
    ...(scheduling.affinity !== undefined ? { affinity: scheduling.affinity } : {}),
    ...(scheduling.tolerations !== undefined ? { tolerations: scheduling.tolerations } : {}),
    ...(scheduling.priorityClassName !== undefined
      ? { priorityClassName: scheduling.priorityClassName }
      : {}),
    topologySpreadConstraints: constrained
      ? (scheduling.topologySpreadConstraints as V1TopologySpreadConstraint[] | undefined)
      : defaultSpread(selectorLabels(c)),
    ...(restoring !== undefined
      ? {
          initContainers: [
            {
              ...restoring.container,
              volumeMounts: [
                { name: DATA_VOLUME, mountPath: DATA_MOUNT },
                ...(restoring.container.volumeMounts ?? []),
              ],
            },
          ],
          ...(restoring.volumes.length > 0 ? { volumes: restoring.volumes } : {}),
        }
      : {}),
    containers: [
      {
        name: 'cairn',
        image: memberImage(spec),
        ...(spec.imagePullPolicy !== undefined ? { imagePullPolicy: spec.imagePullPolicy } : {}),
        command: ['cairn'],
        args: serverArgs(spec, c, clusterToken(kv)),
        env: memberEnv,
        ports: [
          { name: 'client', containerPort: CLIENT_PORT },
          { name: 'peer', containerPort: PEER_PORT },
          { name: 'metrics', containerPort: METRICS_PORT },
        ],
        // Ready = the member has a leader (/health): the client Service sends requests only to members that
        // can serve them. No liveness probe: restarting members that lost their leader would turn a
        // partition into an outage.
        readinessProbe: {
          httpGet: { path: '/health', port: 'metrics' },
          periodSeconds: 5,
          timeoutSeconds: 2,
          failureThreshold: 3,
        },
        volumeMounts: [{ name: DATA_VOLUME, mountPath: DATA_MOUNT }],
        // A member that fails to start (a corrupt data dir, a removed member's data) says why in its pod's
        // status: the operator reads it there to decide on a replacement.
        terminationMessagePolicy: 'FallbackToLogsOnError',
        ...(spec.resources !== undefined ? { resources: resourceRequirements(spec.resources) } : {}),
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        },
      },
    ],
  };
}

function defaultSpread(selector: Record<string, string>): V1TopologySpreadConstraint[] {
  return ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'].map((topologyKey) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: 'ScheduleAnyway',
    labelSelector: { matchLabels: selector },
  }));
}

/** Quantities as the API's strings (the schema lets users write `cpu: 1`). */
function resourceRequirements(r: NonNullable<ResolvedSpec['resources']>): V1ResourceRequirements {
  const strings = (m: Record<string, string | number> | undefined): Record<string, string> | undefined =>
    m === undefined ? undefined : Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)]));
  return {
    ...(r.requests !== undefined ? { requests: strings(r.requests) } : {}),
    ...(r.limits !== undefined ? { limits: strings(r.limits) } : {}),
  };
}
