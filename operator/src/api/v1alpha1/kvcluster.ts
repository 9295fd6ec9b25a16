// KVCluster (cairn.dev/v1alpha1): a cairn cluster the operator runs. The TypeBox schemas below are the one
// source of both the TypeScript types (`KVClusterSpec`, `KVClusterStatus`) and the CRD's OpenAPI schema
// (crd.ts → crds/cairn.dev_kvclusters.yaml, checked for drift by `npm test`). Every field has a description:
// it is what `kubectl explain kvcluster.spec` shows.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import Type, { type Static } from 'typebox';
import { MaintenanceSchema, MaintenanceStatusSchema } from './maintenance.js';
import { CredentialsSecretSchema, RestoreSourceSchema } from './object-store.js';
import { Embedded, Quantity, QuantityMap, StringEnum, StringMap, withRules } from './schema-helpers.js';

export const GROUP = 'cairn.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'KVCluster';
export const PLURAL = 'kvclusters';

/** The image repository the operator runs when `spec.image` is not given: `<repository>:<version>`. */
export const DEFAULT_IMAGE_REPOSITORY = 'ghcr.io/cairn-dev/cairn';
export const REPLICAS_MIN = 1;
export const REPLICAS_MAX = 9;

const Storage = withRules(
  Type.Object(
    {
      size: Type.Optional(
        Quantity({
          description:
            'Size of each member\'s volume, e.g. "8Gi". It may grow (when the storage class allows expansion) ' +
            'but never shrink. Ignored when volumeClaimTemplate is given.',
          default: '2Gi',
        }),
      ),
      storageClassName: Type.Optional(
        Type.String({
          description: "StorageClass of the members' volumes; the cluster default when empty. Immutable.",
        }),
      ),
      volumeClaimTemplate: Type.Optional(
        Embedded({
          description:
            "A full PersistentVolumeClaim spec for each member's volume, instead of size and " +
            'storageClassName. Immutable.',
        }),
      ),
      retentionPolicy: Type.Optional(
        Type.Object(
          {
            whenDeleted: Type.Optional(
              StringEnum(['Retain', 'Delete'], {
                description: "What happens to the members' volumes when the KVCluster is deleted.",
                default: 'Retain',
              }),
            ),
            whenScaled: Type.Optional(
              StringEnum(['Retain', 'Delete'], {
                description:
                  "What happens to a member's volume when the cluster is scaled down and the member removed. " +
                  "A removed member's data can never rejoin the cluster, so Delete is the default.",
                default: 'Delete',
              }),
            ),
          },
          {
            description: 'Whether volumes outlive their members (the StatefulSet retention policy).',
            default: {},
          },
        ),
      ),
    },
    { description: "Persistent storage for each member's data directory.", default: {} },
  ),
  [
    {
      rule: '!has(oldSelf.storageClassName) ? !has(self.storageClassName) : (has(self.storageClassName) && self.storageClassName == oldSelf.storageClassName)',
      message: 'storage.storageClassName is immutable',
    },
    {
      rule: '!has(oldSelf.volumeClaimTemplate) ? !has(self.volumeClaimTemplate) : (has(self.volumeClaimTemplate) && self.volumeClaimTemplate == oldSelf.volumeClaimTemplate)',
      message: 'storage.volumeClaimTemplate is immutable',
    },
    {
      rule: '!has(self.size) || !has(oldSelf.size) || quantity(string(self.size)).compareTo(quantity(string(oldSelf.size))) >= 0',
      message: 'storage.size may grow but not shrink',
    },
  ],
);

const AutoCompaction = Type.Object(
  {
    mode: Type.Optional(
      StringEnum(['periodic', 'revision'], {
        description:
          'periodic: keep the history of the last `retention` (a duration such as "1h"); revision: keep the last `retention` revisions.',
        default: 'periodic',
      }),
    ),
    retention: Type.Optional(
      Type.String({
        description:
          'For periodic, a duration ("30m", "1h", or hours as a number); for revision, a revision count. "0" turns auto-compaction off.',
        default: '1h',
      }),
    ),
  },
  {
    description: 'Server-side automatic compaction (--auto-compaction-mode and --auto-compaction-retention).',
  },
);

const Config = withRules(
  Type.Object(
    {
      heartbeatIntervalMs: Type.Optional(
        Type.Integer({
          description: 'Raft heartbeat interval in milliseconds (--heartbeat-interval).',
          minimum: 10,
          maximum: 10_000,
          default: 100,
        }),
      ),
      electionTimeoutMs: Type.Optional(
        Type.Integer({
          description:
            'Raft election timeout in milliseconds (--election-timeout); at least 5 heartbeat intervals.',
          minimum: 50,
          maximum: 50_000,
          default: 1000,
        }),
      ),
      quotaBackendBytes: Type.Optional(
        Type.Integer({
          description:
            'Size at which a member raises the NOSPACE alarm and refuses writes (--quota-backend-bytes).',
          minimum: 0,
          default: 2147483648,
        }),
      ),
      autoCompaction: Type.Optional(AutoCompaction),
      snapshotCount: Type.Optional(
        Type.Integer({
          description: 'Applied entries between Raft snapshots (--snapshot-count).',
          minimum: 1,
          default: 10000,
        }),
      ),
      maxRequestBytes: Type.Optional(
        Type.Integer({
          description: 'Largest client request a member accepts (--max-request-bytes).',
          minimum: 1,
          maximum: 67108864,
          default: 1572864,
        }),
      ),
      extraArgs: Type.Optional(
        StringMap({
          description:
            'Further server flags, name (without "--") to value. Flags the operator manages (name, data dir, ' +
            'URLs, initial cluster) are refused.',
          // Bounds the CEL cost of the rule below, which looks at every key.
          maxProperties: 64,
        }),
      ),
    },
    {
      description:
        "Server configuration, rendered into the members' flags. A change rolls the members one at a time.",
      default: {},
    },
  ),
  [
    {
      rule: '!has(self.electionTimeoutMs) || !has(self.heartbeatIntervalMs) || self.electionTimeoutMs >= 5 * self.heartbeatIntervalMs',
      message: 'config.electionTimeoutMs must be at least 5 times config.heartbeatIntervalMs',
    },
    {
      rule: "!has(self.extraArgs) || self.extraArgs.all(k, !(k in ['name', 'data-dir', 'wal-dir', 'listen-client-urls', 'advertise-client-urls', 'listen-peer-urls', 'initial-advertise-peer-urls', 'initial-cluster', 'initial-cluster-state', 'initial-cluster-token', 'listen-metrics-urls']))",
      message:
        'config.extraArgs may not set a flag the operator manages (name, data-dir, wal-dir, URLs, initial-cluster*)',
    },
  ],
);

const Scheduling = Type.Object(
  {
    nodeSelector: Type.Optional(StringMap({ description: "Node labels a member's node must have." })),
    affinity: Type.Optional(
      Embedded({ description: 'Pod affinity and anti-affinity for the members (a core/v1 Affinity).' }),
    ),
    tolerations: Type.Optional(
      Type.Array(Embedded({ description: 'A core/v1 Toleration.' }), {
        description: 'Taints the members tolerate.',
      }),
    ),
    topologySpreadConstraints: Type.Optional(
      Type.Array(Embedded({ description: 'A core/v1 TopologySpreadConstraint.' }), {
        description:
          'How members spread over the topology. Without affinity or constraints the operator spreads the members ' +
          'over nodes and zones (maxSkew 1, ScheduleAnyway).',
      }),
    ),
    priorityClassName: Type.Optional(Type.String({ description: 'PriorityClass of the member pods.' })),
  },
  { description: 'Where the member pods may run.' },
);

const PodTemplate = Type.Object(
  {
    labels: Type.Optional(StringMap({ description: 'Extra labels on every member pod.' })),
    annotations: Type.Optional(StringMap({ description: 'Extra annotations on every member pod.' })),
  },
  { description: 'Metadata added to the member pods.' },
);

export const KVClusterSpecSchema = Type.Object(
  {
    replicas: Type.Optional(
      Type.Integer({
        description:
          'Number of voting members, 1 to 9. Odd sizes are recommended: an even size tolerates no more failures ' +
          'than the odd size below it (the operator accepts it with a warning).',
        minimum: REPLICAS_MIN,
        maximum: REPLICAS_MAX,
        default: 3,
      }),
    ),
    version: Type.String({
      description:
        'Cairn version of the members, e.g. "0.1.0". Upgrades move one minor version at a time; downgrades across minors are refused.',
      pattern: '^v?[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?$',
    }),
    image: Type.Optional(
      Type.String({
        description: `Container image of the members; default ${DEFAULT_IMAGE_REPOSITORY}:<version>.`,
        minLength: 1,
      }),
    ),
    imagePullPolicy: Type.Optional(
      StringEnum(['Always', 'IfNotPresent', 'Never'], { description: 'Pull policy of the member image.' }),
    ),
    imagePullSecrets: Type.Optional(
      Type.Array(
        Type.Object(
          { name: Type.String({ description: 'Secret name.' }) },
          { description: 'A Secret reference.' },
        ),
        {
          description: 'Secrets for pulling the member image from a private registry.',
        },
      ),
    ),
    storage: Type.Optional(Storage),
    resources: Type.Optional(
      Type.Object(
        {
          requests: Type.Optional(
            QuantityMap({ description: 'Minimum resources, e.g. {cpu: 500m, memory: 1Gi}.' }),
          ),
          limits: Type.Optional(QuantityMap({ description: 'Maximum resources.' })),
        },
        { description: 'CPU and memory of each member container.' },
      ),
    ),
    scheduling: Type.Optional(Scheduling),
    config: Type.Optional(Config),
    podTemplate: Type.Optional(PodTemplate),
    paused: Type.Optional(
      Type.Boolean({
        description: 'Stops the operator from changing the cluster (status is still reported).',
        default: false,
      }),
    ),
    maintenance: Type.Optional(MaintenanceSchema),
    bootstrap: Type.Optional(
      withRules(
        Type.Object(
          {
            restore: Type.Optional(
              withRules(RestoreSourceSchema, [
                { rule: 'self == oldSelf', message: 'bootstrap.restore is immutable' },
              ]),
            ),
          },
          {
            description:
              'How the cluster starts. With restore, every member starts from the snapshot (verified against ' +
              'its SHA-256), together, as a new cluster with its own id.',
          },
        ),
        [{ rule: 'has(self.restore) == has(oldSelf.restore)', message: 'bootstrap.restore is immutable' }],
      ),
    ),
  },
  { description: 'The desired cairn cluster.' },
);

export const MemberStatusSchema = Type.Object(
  {
    name: Type.String({ description: 'Member (and pod) name.' }),
    id: Type.Optional(Type.String({ description: 'Member id, 16 hex digits.' })),
    peerURL: Type.Optional(Type.String({ description: "The member's peer URL." })),
    clientURL: Type.Optional(Type.String({ description: "The member's client URL." })),
    isLearner: Type.Boolean({ description: 'A non-voting member catching up.' }),
    isLeader: Type.Boolean({ description: 'The current Raft leader.' }),
    healthy: Type.Boolean({ description: 'The member answered Status and has a leader.' }),
    version: Type.Optional(Type.String({ description: 'Server version the member reports.' })),
    dbSize: Type.Optional(Type.Integer({ description: 'Backend database size in bytes.' })),
    revision: Type.Optional(Type.Integer({ description: 'Newest revision the member has applied.' })),
    raftIndex: Type.Optional(Type.Integer({ description: "The member's Raft applied index." })),
    errors: Type.Optional(
      Type.Array(Type.String(), { description: 'Errors the member or the operator reported.' }),
    ),
    dataClaimUID: Type.Optional(
      Type.String({
        description:
          "UID of the PersistentVolumeClaim that held the member's data when it was first seen healthy. A " +
          'different claim later means the data was lost, and the member is replaced.',
      }),
    ),
  },
  { description: 'One member as the operator last saw it.' },
);

export const ConditionSchema = Type.Object(
  {
    type: Type.String({ description: 'Available, Progressing or Degraded.' }),
    status: StringEnum(['True', 'False', 'Unknown'], { description: 'Condition status.' }),
    reason: Type.String({ description: 'Machine-readable reason (CamelCase).' }),
    message: Type.String({
      description: 'Human-readable detail, with numbers ("2/3 voting members healthy").',
    }),
    lastTransitionTime: Type.String({ description: 'When the status last changed.', format: 'date-time' }),
    observedGeneration: Type.Optional(
      Type.Integer({ description: 'The spec generation the condition describes.' }),
    ),
  },
  { description: 'A standard condition.' },
);

export const KVClusterStatusSchema = Type.Object(
  {
    phase: Type.Optional(
      StringEnum(
        [
          'Pending',
          'Bootstrapping',
          'Running',
          'Scaling',
          'Upgrading',
          'Replacing',
          'Restoring',
          'Degraded',
          'QuorumLost',
          'Paused',
        ],
        {
          description: 'A one-word summary of what the cluster is doing.',
        },
      ),
    ),
    observedGeneration: Type.Optional(
      Type.Integer({ description: 'The spec generation the status reflects.' }),
    ),
    conditions: Type.Optional(
      Type.Array(ConditionSchema, { description: 'Available, Progressing and Degraded.' }),
    ),
    clusterID: Type.Optional(Type.String({ description: 'The Raft cluster id, 16 hex digits.' })),
    leader: Type.Optional(Type.String({ description: 'Name of the leading member.' })),
    members: Type.Optional(Type.Array(MemberStatusSchema, { description: 'Every member of the cluster.' })),
    replicas: Type.Optional(
      Type.Integer({ description: "Member pods that exist (the /scale subresource's status)." }),
    ),
    readyReplicas: Type.Optional(Type.Integer({ description: 'Members that are healthy voters.' })),
    selector: Type.Optional(Type.String({ description: 'Label selector of the member pods (for /scale).' })),
    currentVersion: Type.Optional(
      Type.String({ description: 'The version every member runs, once they agree.' }),
    ),
    restore: Type.Optional(
      Type.Object(
        {
          phase: StringEnum(['Stopping', 'Restoring', 'Restored', 'Failed'], {
            description:
              'Stopping (an in-place restore waits for the old members to stop), Restoring (members ' +
              'starting from the snapshot), Restored, or Failed.',
          }),
          objectURL: Type.String({ description: 'The snapshot the cluster starts from.' }),
          sha256: Type.Optional(Type.String({ description: 'Its expected SHA-256.' })),
          revision: Type.Optional(Type.Integer({ description: 'The revision the snapshot holds.' })),
          s3Args: Type.Optional(
            Type.Array(Type.String(), {
              description: 'How the restore step reaches the store (no secrets).',
            }),
          ),
          credentialsSecret: Type.Optional(CredentialsSecretSchema),
          claimName: Type.Optional(Type.String({ description: 'The claim a file:// snapshot is on.' })),
          message: Type.Optional(Type.String({ description: 'Why it failed.' })),
          requestedBy: Type.Optional(
            Type.String({ description: 'The KVRestore restoring this cluster in place, if one does.' }),
          ),
          token: Type.Optional(
            Type.String({
              description: 'The cluster token the members are restored with (in place: a new one).',
            }),
          ),
        },
        {
          description:
            'The last restore: the snapshot the cluster started from (spec.bootstrap.restore) or was ' +
            'restored to in place (a KVRestore), resolved once.',
        },
      ),
    ),
    maintenance: Type.Optional(MaintenanceStatusSchema),
    replacements: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ description: 'Member name.' }),
            attempts: Type.Integer({ description: 'Replacements of this member so far.' }),
            lastAttemptTime: Type.String({ description: 'When the last one started.', format: 'date-time' }),
          },
          { description: 'Replacements of one member whose data was lost or corrupt.' },
        ),
        { description: 'Failed members the operator replaced (bounded: it gives up after a few attempts).' },
      ),
    ),
  },
  { description: 'What the operator observed.' },
);

export type KVClusterSpec = Static<typeof KVClusterSpecSchema>;
export type KVClusterStatus = Static<typeof KVClusterStatusSchema>;
export type MemberStatus = Static<typeof MemberStatusSchema>;
export type Condition = Static<typeof ConditionSchema>;

/**
 * A KVCluster object. Its metadata is Kubernetes' ObjectMeta (timestamps arrive as strings from the custom
 * objects API: only ever compared with undefined here) with name and namespace always set.
 */
export interface KVCluster {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: V1ObjectMeta & { name: string; namespace: string };
  spec: KVClusterSpec;
  status?: KVClusterStatus;
}
