// Deciding that a member must be replaced, and what to do with the pod of a member that was removed.
//
// A member is replaced when its data is gone or unusable:
//   - DataLost: the claim holding its data is not the one it had when the operator first saw it healthy
//     (status.members[].dataClaimUID) — the PVC was deleted and the StatefulSet made a new, empty one;
//   - DataCorrupt: its container keeps failing with a data-dir or WAL error (cairn refuses to start on
//     a corrupt or foreign data dir rather than start empty; the kubelet puts the error in the pod's
//     status because the template asks for FallbackToLogsOnError).
// Replacing = MemberRemove (while the rest keep a quorum), then its pod becomes an "orphan": its claim is
// wiped if it holds a removed member's data (annotated with that member's id, or the member says it was
// removed), and a fresh claim's pod is re-added as a learner under the same name.
import type { V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import type { KVClusterStatus } from '../../api/v1alpha1/index.js';
import type { ObservedMember } from './observed.js';

/** Set by the operator on a data claim: the member whose data it holds. */
export const ANNOTATION_MEMBER_ID = 'cairn.dev/member-id';
/** Replacements of one member before the operator gives up and reports it. */
export const REPLACEMENT_ATTEMPTS_MAX = 3;
/** Failed starts before a data error is believed (one could be a transient read error). */
const CRASHES_BEFORE_REPLACE = 2;

const DATA_ERROR =
  /data dir .* (is corrupt or unreadable|is not a Cairn data dir)|wal .*(corrupt|belongs to member)/i;
const REMOVED =
  /has been permanently removed from the cluster|data dir .* (is corrupt or unreadable|is not a Cairn data dir)|wal .*(corrupt|belongs to member)/i;

export type FailureReason = 'DataLost' | 'DataCorrupt';

function lastFailure(pod: V1Pod | undefined): { message: string; restarts: number } {
  const c = pod?.status?.containerStatuses?.[0];
  return {
    message: c?.lastState?.terminated?.message ?? c?.state?.terminated?.message ?? '',
    restarts: c?.restartCount ?? 0,
  };
}

export function failedMember(
  m: ObservedMember,
  pod: V1Pod | undefined,
  claim: V1PersistentVolumeClaim | undefined,
  previous: KVClusterStatus | undefined,
): { reason: FailureReason; message: string } | undefined {
  const recorded = previous?.members?.find((x) => x.id === m.member.id)?.dataClaimUID;
  const current = claim?.metadata?.uid;
  if (recorded !== undefined && current !== undefined && current !== recorded) {
    return {
      reason: 'DataLost',
      message: `its volume was replaced (claim ${recorded} → ${current}): the data is gone`,
    };
  }
  const failure = lastFailure(pod);
  if (failure.restarts >= CRASHES_BEFORE_REPLACE && DATA_ERROR.test(failure.message)) {
    const line = failure.message.split('\n').find((l) => DATA_ERROR.test(l)) ?? failure.message;
    return { reason: 'DataCorrupt', message: `it cannot start on its data: ${line.trim().slice(0, 300)}` };
  }
  return undefined;
}

/** Whether a removed member's pod must lose its claim before it can rejoin as a new member. */
export function holdsRemovedData(
  pod: V1Pod | undefined,
  claim: V1PersistentVolumeClaim | undefined,
): boolean {
  if (claim?.metadata?.annotations?.[ANNOTATION_MEMBER_ID] !== undefined) return true;
  return REMOVED.test(lastFailure(pod).message);
}

/** The replacement record for `name` after one more attempt at `now`. */
export function recordAttempt(
  previous: KVClusterStatus['replacements'],
  name: string,
  now: string,
): NonNullable<KVClusterStatus['replacements']> {
  const rest = (previous ?? []).filter((r) => r.name !== name);
  const attempts = ((previous ?? []).find((r) => r.name === name)?.attempts ?? 0) + 1;
  return [...rest, { name, attempts, lastAttemptTime: now }].sort((a, b) => (a.name < b.name ? -1 : 1));
}
