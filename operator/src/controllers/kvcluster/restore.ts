// A cluster created from a snapshot (spec.bootstrap.restore), or restored in place by a KVRestore: the
// source resolved once into a plan (the object URL, its SHA-256, how to reach the store, for an in-place
// restore a new token — kept in status.restore, so the pod template never changes afterwards), and what
// the members' restore init steps report while they start.
import type { V1Pod } from '@kubernetes/client-node';
import type { KVCluster, RestoreSource, S3Connection } from '../../api/v1alpha1/index.js';
import {
  ANNOTATION_RESTORE_IN_PLACE,
  inPlaceToken,
  s3Flags,
  type RestorePlan,
} from '../../resources/index.js';

export type { RestorePlan };
import type { KubeOps } from './kube-ops.js';

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

/** What to do about a KVCluster's in-place restore request (its ANNOTATION_RESTORE_IN_PLACE). */
export type InPlaceRequest =
  /** No request, or the one under way (the plan in the status is its own). */
  | { kind: 'none' }
  /** The requested restore is done: the annotation can go. */
  | { kind: 'done' }
  /** A new request: stop the members, then restore them with this plan. */
  | { kind: 'start'; plan: RestorePlan }
  /** A request that cannot be acted on (yet), and why. */
  | { kind: 'ignored'; reason: string; message: string };

/**
 * Reads the request. It is acted on only for a KVRestore that targets this cluster in place and has
 * verified its snapshot (phase Restoring): the annotation alone changes nothing. A request under way
 * continues even if its KVRestore is deleted meanwhile: stopping halfway would leave no cluster at all.
 */
export async function inPlaceRequest(
  kube: Pick<KubeOps, 'getBackup' | 'getRestore'>,
  kv: KVCluster,
  current: RestorePlan | undefined,
): Promise<InPlaceRequest> {
  const name = kv.metadata.annotations?.[ANNOTATION_RESTORE_IN_PLACE];
  if (name === undefined) return { kind: 'none' };
  const ns = kv.metadata.namespace;
  const r = await kube.getRestore(ns, name);
  const token = r?.metadata.uid === undefined ? undefined : inPlaceToken(kv.metadata.name, r.metadata.uid);
  if (current?.requestedBy === name && (r === undefined || current.token === token))
    return current.phase === 'Restored' ? { kind: 'done' } : { kind: 'none' };
  const objectURL = r?.status?.objectURL;
  if (
    r === undefined ||
    token === undefined ||
    objectURL === undefined ||
    r.spec.target.inPlace?.clusterName !== kv.metadata.name ||
    r.status?.phase !== 'Restoring'
  ) {
    return {
      kind: 'ignored',
      reason: 'RestoreRequestIgnored',
      message: `${ANNOTATION_RESTORE_IN_PLACE}=${name}: no KVRestore ${name} with a verified snapshot restores this cluster in place`,
    };
  }
  const resolved = await resolveRestorePlan(kube, ns, r.spec.source);
  if ('waiting' in resolved)
    return { kind: 'ignored', reason: 'RestoreSourceNotReady', message: resolved.waiting };
  const sha256 = r.status.sha256 ?? resolved.plan.sha256;
  const revision = r.status.revision ?? resolved.plan.revision;
  return {
    kind: 'start',
    plan: {
      ...resolved.plan,
      phase: 'Stopping',
      objectURL,
      ...(sha256 !== undefined ? { sha256 } : {}),
      ...(revision !== undefined ? { revision } : {}),
      requestedBy: name,
      token,
    },
  };
}
