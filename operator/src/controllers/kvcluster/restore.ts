// A cluster created from a snapshot (spec.bootstrap.restore): the source resolved once into a plan (the
// object URL, its SHA-256, how to reach the store — kept in status.restore, so the pod template never
// changes afterwards), and what the members' restore init steps report while they start.
import type { V1Pod } from '@kubernetes/client-node';
import type { KVClusterStatus, RestoreSource, S3Connection } from '../../api/v1alpha1/index.js';
import { s3Flags } from '../../resources/index.js';
import type { KubeOps } from './kube-ops.js';

export type RestorePlan = NonNullable<KVClusterStatus['restore']>;

/** A termination message is cut to this many characters in the status. */
const MESSAGE_MAX = 500;

/** How the restore step reaches the store: S3 flags and credentials, or the claim a file is on. */
function storeAccess(
  s3: S3Connection | undefined,
  claimName: string | undefined,
): Pick<RestorePlan, 's3Args' | 'credentialsSecret' | 'claimName'> {
  return {
    ...(s3 !== undefined ? { s3Args: s3Flags(s3) } : {}),
    ...(s3?.credentialsSecret !== undefined ? { credentialsSecret: s3.credentialsSecret } : {}),
    ...(claimName !== undefined ? { claimName } : {}),
  };
}

/** The plan for a restore source, or why it cannot be made yet (a backup not Succeeded yet). */
export async function resolveRestorePlan(
  kube: Pick<KubeOps, 'getBackup'>,
  namespace: string,
  source: RestoreSource,
): Promise<{ plan: RestorePlan } | { waiting: string }> {
  if (source.object !== undefined) {
    const o = source.object;
    return {
      plan: {
        phase: 'Restoring',
        objectURL: o.url,
        ...(source.sha256 !== undefined ? { sha256: source.sha256 } : {}),
        ...storeAccess(o.s3, o.volume?.claimName),
      },
    };
  }
  const name = source.backupName ?? '';
  const backup = await kube.getBackup(namespace, name);
  if (backup === undefined) return { waiting: `KVBackup ${name} not found` };
  const s = backup.status;
  if (s?.phase !== 'Succeeded' || s.objectURL === undefined)
    return { waiting: `KVBackup ${name} is ${s?.phase ?? 'Pending'}, not Succeeded` };
  const d = backup.spec.destination;
  const sha256 = source.sha256 ?? s.sha256;
  return {
    plan: {
      phase: 'Restoring',
      objectURL: s.objectURL,
      ...(sha256 !== undefined ? { sha256 } : {}),
      ...(s.revision !== undefined ? { revision: s.revision } : {}),
      ...storeAccess(d.s3, d.volume?.claimName),
    },
  };
}

/** The first member whose restore step failed, with what it said (a checksum mismatch, an unreadable object). */
export function failedRestore(pods: readonly V1Pod[]): string | undefined {
  for (const pod of pods) {
    const s = pod.status?.initContainerStatuses?.find((c) => c.name === 'restore');
    const t = s?.state?.terminated ?? s?.lastState?.terminated;
    if (t === undefined || t.exitCode === 0) continue;
    const text = (t.message ?? `exit code ${t.exitCode}`).trim();
    const message = text.length > MESSAGE_MAX ? `${text.slice(0, MESSAGE_MAX)}…` : text;
    return `${pod.metadata?.name ?? ''}: ${message}`;
  }
  return undefined;
}
