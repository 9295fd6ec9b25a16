// The Jobs that move snapshots: `cairnctl backup save` for a KVBackup (from the cluster's own image, so the
// tool always matches the server it talks to) and `cairnctl backup delete` when a KVBackup with
// deletionPolicy Delete goes. Credentials reach the pod from the user's Secret by reference (secretKeyRef):
// the operator never reads them. The snapshot streams from the member to the store inside the Job's pod,
// never through the operator.
import type { V1Container, V1EnvVar, V1Job, V1ObjectMeta, V1Volume } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import {
  API_VERSION,
  type CredentialsSecret,
  type KVBackup,
  type S3Connection,
} from '../api/v1alpha1/index.js';
import { IMAGE_UID, LABEL_INSTANCE, LABEL_MANAGED_BY, LABEL_NAME, OPERATOR_NAME } from './names.js';

export const LABEL_BACKUP = 'cairn.dev/backup';
/** Where a volume destination's claim is mounted in the backup and restore pods. */
export const BACKUP_MOUNT = '/backups';
const BACKUP_VOLUME = 'backups';
const TMP_VOLUME = 'tmp';
/** A snapshot of a big cluster may take a while; a hung transfer must still end. */
const BACKUP_DEADLINE_S = 3_600;
const JOB_NAME_MAX = 63;

/** `<name>-<suffix>`, shortened with a hash when it would not fit a Job name (its pods' label value). */
export function jobName(name: string, suffix: string): string {
  const full = `${name}-${suffix}`;
  if (full.length <= JOB_NAME_MAX) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${name.slice(0, JOB_NAME_MAX - suffix.length - hash.length - 2)}-${hash}-${suffix}`;
}

function trimSlashes(s: string | undefined): string {
  return (s ?? '').replace(/^\/+|\/+$/g, '');
}

/** Where a KVBackup's snapshot is stored: `<prefix>/<namespace>/<cluster>/<backup>.db`. */
export function backupObjectURL(b: Pick<KVBackup, 'metadata' | 'spec'>): string {
  const key = `${b.metadata.namespace}/${b.spec.clusterName}/${b.metadata.name}.db`;
  const d = b.spec.destination;
  if (d.s3 !== undefined) {
    const prefix = trimSlashes(d.s3.prefix);
    return `s3://${d.s3.bucket}/${prefix === '' ? '' : `${prefix}/`}${key}`;
  }
  const path = trimSlashes(d.volume?.path);
  return `file://${BACKUP_MOUNT}/${path === '' ? '' : `${path}/`}${key}`;
}

/** The cairnctl flags that say how to reach an S3 service (nothing secret). */
export function s3Flags(s3: S3Connection | undefined): string[] {
  if (s3 === undefined) return [];
  return [
    ...(s3.endpoint !== undefined ? [`--s3-endpoint=${s3.endpoint}`] : []),
    `--s3-region=${s3.region ?? 'us-east-1'}`,
    ...(s3.forcePathStyle === true ? ['--s3-force-path-style'] : []),
  ];
}

/** The SDK warns on stderr about Node versions it will drop; a Job's log is for its own messages. */
const QUIET_SDK: V1EnvVar = { name: 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', value: 'true' };

/** The AWS SDK's credential variables, each from the user's Secret. */
export function credentialsEnv(secret: CredentialsSecret | undefined): V1EnvVar[] {
  if (secret === undefined) return [QUIET_SDK];
  const ref = (name: string, key: string): V1EnvVar => ({
    name,
    valueFrom: { secretKeyRef: { name: secret.name, key } },
  });
  return [
    ref('AWS_ACCESS_KEY_ID', secret.accessKeyIDKey ?? 'accessKeyID'),
    ref('AWS_SECRET_ACCESS_KEY', secret.secretAccessKeyKey ?? 'secretAccessKey'),
    ...(secret.sessionTokenKey !== undefined ? [ref('AWS_SESSION_TOKEN', secret.sessionTokenKey)] : []),
    QUIET_SDK,
  ];
}

/** The claim of a volume destination, mounted at BACKUP_MOUNT. */
export function destinationVolumes(claimName: string | undefined): {
  volumes: V1Volume[];
  mounts: { name: string; mountPath: string }[];
} {
  if (claimName === undefined) return { volumes: [], mounts: [] };
  return {
    volumes: [{ name: BACKUP_VOLUME, persistentVolumeClaim: { claimName } }],
    mounts: [{ name: BACKUP_VOLUME, mountPath: BACKUP_MOUNT }],
  };
}

function backupMeta(b: KVBackup, name: string): V1ObjectMeta {
  return {
    name,
    namespace: b.metadata.namespace,
    labels: {
      [LABEL_NAME]: 'cairn-backup',
      [LABEL_INSTANCE]: b.spec.clusterName,
      [LABEL_MANAGED_BY]: OPERATOR_NAME,
      [LABEL_BACKUP]: b.metadata.name,
    },
    ownerReferences: [
      {
        apiVersion: API_VERSION,
        kind: 'KVBackup',
        name: b.metadata.name,
        uid: b.metadata.uid ?? '',
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  };
}

/**
 * A Job of one cairnctl container moving a snapshot: non-root, read-only root with a /tmp of its own, the
 * destination's claim (if any) at BACKUP_MOUNT, the result in the termination log.
 */
export function snapshotJob(
  meta: V1ObjectMeta,
  image: string,
  container: V1Container,
  backoffLimit: number,
  claimName: string | undefined,
): V1Job {
  const { volumes, mounts } = destinationVolumes(claimName);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: meta,
    spec: {
      backoffLimit,
      activeDeadlineSeconds: BACKUP_DEADLINE_S,
      template: {
        metadata: { labels: meta.labels },
        spec: {
          restartPolicy: 'Never',
          securityContext: {
            runAsNonRoot: true,
            runAsUser: IMAGE_UID,
            runAsGroup: IMAGE_UID,
            fsGroup: IMAGE_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          volumes: [...volumes, { name: TMP_VOLUME, emptyDir: {} }],
          containers: [
            {
              ...container,
              image,
              volumeMounts: [...mounts, { name: TMP_VOLUME, mountPath: '/tmp' }],
              terminationMessagePolicy: 'FallbackToLogsOnError',
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
            },
          ],
        },
      },
    },
  };
}

/**
 * The Job taking a KVBackup's snapshot: cairnctl asks every member's Status, streams the snapshot of the
 * healthy one with the highest revision to the store, and writes its result (URL, size, SHA-256,
 * revision, member) as JSON to the termination log, where the operator reads it.
 */
export function backupJob(b: KVBackup, image: string, endpoints: readonly string[]): V1Job {
  const s3 = b.spec.destination.s3;
  return snapshotJob(
    backupMeta(b, jobName(b.metadata.name, 'backup')),
    image,
    {
      name: 'backup',
      command: ['cairnctl'],
      args: [
        `--endpoints=${endpoints.join(',')}`,
        'backup',
        'save',
        backupObjectURL(b),
        '--result-file=/dev/termination-log',
        ...s3Flags(s3),
      ],
      env: credentialsEnv(s3?.credentialsSecret),
    },
    b.spec.backoffLimit ?? 3,
    b.spec.destination.volume?.claimName,
  );
}

/** The Job deleting a KVBackup's stored snapshot (deletionPolicy Delete). */
export function deleteObjectJob(b: KVBackup, image: string, objectURL: string): V1Job {
  const s3 = b.spec.destination.s3;
  return snapshotJob(
    backupMeta(b, jobName(b.metadata.name, 'delete')),
    image,
    {
      name: 'delete',
      command: ['cairnctl'],
      args: ['backup', 'delete', objectURL, ...s3Flags(s3)],
      env: credentialsEnv(s3?.credentialsSecret),
    },
    b.spec.backoffLimit ?? 3,
    b.spec.destination.volume?.claimName,
  );
}
