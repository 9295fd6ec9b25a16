// The KVCluster's status, derived from one pass's observations and what the pass did: phase, the
// Available / Progressing / Degraded conditions with numbers in their messages, the members, the leader.
// A condition's lastTransitionTime moves only when its status does.
import type { V1Pod } from '@kubernetes/client-node';
import type { Condition, KVClusterStatus, MemberStatus } from '../../api/v1alpha1/index.js';
import { quorum, selectorString } from '../../resources/index.js';
import { kubeTime } from '../../runtime/api-calls.js';
import type { Observed } from './observed.js';

/** The label the StatefulSet controller puts on each pod: the template revision it was created from. */
export const REVISION_LABEL = 'controller-revision-hash';

export type Phase = NonNullable<KVClusterStatus['phase']>;

/** What the pass is in the middle of, if anything. */
export interface Progress {
  phase: Phase;
  reason: string;
  message: string;
}

export interface Problem {
  reason: string;
  message: string;
}

export interface Health {
  voters: number;
  learners: number;
  healthyVoters: number;
  available: boolean;
}

export function health(o: Observed): Health {
  const members = o.membership?.members ?? [];
  const voters = members.filter((m) => !m.member.isLearner);
  const healthyVoters = voters.filter((m) => m.healthy).length;
  return {
    voters: voters.length,
    learners: members.length - voters.length,
    healthyVoters,
    available: voters.length > 0 && healthyVoters >= quorum(voters.length),
  };
}

/**
 * What is still under way when a pass itself changed nothing (it waited for a learner to start, a
 * restarted member to catch up, a pod to be recreated): the change is not over, so the phase stays.
 */
export function pendingProgress(o: Observed): Progress | undefined {
  const members = o.membership?.members;
  if (members === undefined) return undefined;
  const learners = members.filter((m) => m.member.isLearner);
  if (learners.length > 0) {
    const names = learners.map((m) => m.podName ?? m.member.id).join(', ');
    return { phase: 'Scaling', reason: 'LearnerCatchingUp', message: `waiting for learner ${names}` };
  }
  if (members.length !== o.spec.replicas || o.stsReplicas !== members.length) {
    const reason = members.length < o.spec.replicas ? 'ScalingUp' : 'ScalingDown';
    const message = `${members.length}/${o.spec.replicas} members, ${o.stsReplicas} pod(s) requested`;
    return { phase: 'Scaling', reason, message };
  }
  const outdated = outdatedPods(o);
  if (outdated.length > 0) {
    const message = `${outdated.length} member(s) to update, waiting for the cluster to be healthy and caught up`;
    return { phase: 'Upgrading', reason: 'RollingUpdate', message };
  }
  // The last step of a change is done, but its member has not come back yet: the change is not over.
  const before = o.kv.status?.phase;
  const h = health(o);
  const settling = h.healthyVoters < h.voters || o.pods.length < o.stsReplicas;
  if (settling && (before === 'Scaling' || before === 'Upgrading' || before === 'Replacing')) {
    const message = `waiting for the members to come back: ${h.healthyVoters}/${h.voters} voting members healthy`;
    return { phase: before, reason: 'WaitingForMembers', message };
  }
  return undefined;
}

/** Pods not yet at the StatefulSet's update revision (none while that revision is unknown). */
export function outdatedPods(o: Observed): V1Pod[] {
  const revision = o.sts?.status?.updateRevision;
  if (revision === undefined) return [];
  return o.pods.filter((p) => p.metadata?.labels?.[REVISION_LABEL] !== revision);
}

/** What a pass carries into the status besides its observations. */
export interface PassRecord {
  /** Member id → UID of its data claim (kept from the first time it was seen healthy). */
  claimUIDs: Map<string, string>;
  replacements: KVClusterStatus['replacements'];
  /** The restore the cluster starts from, as this pass leaves it. */
  restore?: KVClusterStatus['restore'];
  /** Maintenance results, as this pass leaves them. */
  maintenance?: KVClusterStatus['maintenance'];
}

export function deriveStatus(
  o: Observed,
  progress: Progress | undefined,
  problems: readonly Problem[],
  currentVersion: string | undefined,
  now: Date,
  pass: PassRecord = { claimUIDs: new Map(), replacements: undefined },
): KVClusterStatus {
  const previous = o.kv.status;
  const h = health(o);
  const generation = o.kv.metadata.generation;
  const stamp = kubeTime(now);
  const condition = (type: string, ok: boolean, reason: string, message: string): Condition => {
    const status = ok ? 'True' : 'False';
    const before = previous?.conditions?.find((c) => c.type === type);
    return {
      type,
      status,
      reason,
      message,
      lastTransitionTime: before?.status === status ? before.lastTransitionTime : stamp,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
  };
  const healthMessage =
    `${h.healthyVoters}/${h.voters} voting members healthy` +
    (h.learners > 0 ? `, ${h.learners} learner(s)` : '');
  const lostQuorum = h.voters > 0 && !h.available;
  // Members that are starting (a new or restored cluster) are not a lost quorum.
  const starting = progress?.phase === 'Bootstrapping' || progress?.phase === 'Restoring';
  const unreachable = o.membership === undefined && o.stsReplicas > 0 && !starting;
  const available = condition(
    'Available',
    h.available,
    h.available
      ? 'QuorumHealthy'
      : lostQuorum
        ? 'QuorumLost'
        : unreachable
          ? 'MembersUnreachable'
          : 'NoMembers',
    h.voters > 0 ? healthMessage : (o.membershipError ?? 'no members yet'),
  );
  const progressing = condition(
    'Progressing',
    progress !== undefined,
    progress?.reason ?? 'Reconciled',
    progress?.message ?? `${h.voters}/${o.spec.replicas} voting members, as specified`,
  );
  const degradedProblems: Problem[] = [...problems];
  if (h.voters > 0 && h.healthyVoters < h.voters) {
    degradedProblems.unshift({ reason: 'MembersUnhealthy', message: healthMessage });
  }
  const degraded = condition(
    'Degraded',
    degradedProblems.length > 0,
    degradedProblems[0]?.reason ?? 'AsExpected',
    degradedProblems.length > 0 ? degradedProblems.map((p) => p.message).join('; ') : 'no problems',
  );
  let phase: Phase;
  if (o.spec.paused) phase = 'Paused';
  else if (starting) phase = progress.phase;
  else if (lostQuorum || (unreachable && previous?.phase !== undefined && previous.phase !== 'Bootstrapping'))
    phase = 'QuorumLost';
  else if (progress !== undefined) phase = progress.phase;
  else if (degradedProblems.length > 0) phase = 'Degraded';
  else phase = 'Running';
  const members: MemberStatus[] = (o.membership?.members ?? []).map((m) => ({
    name: m.podName ?? m.member.name,
    id: m.member.id,
    ...(m.member.peerURLs[0] !== undefined ? { peerURL: m.member.peerURLs[0] } : {}),
    ...(m.member.clientURLs[0] !== undefined ? { clientURL: m.member.clientURLs[0] } : {}),
    isLearner: m.member.isLearner,
    isLeader: m.isLeader,
    healthy: m.healthy,
    ...(m.status !== undefined
      ? {
          version: m.status.version,
          dbSize: m.status.dbSize,
          revision: m.status.revision,
          raftIndex: m.status.raftAppliedIndex,
        }
      : {}),
    ...(pass.claimUIDs.has(m.member.id) ? { dataClaimUID: pass.claimUIDs.get(m.member.id) } : {}),
    ...(m.statusError !== undefined
      ? { errors: [m.statusError] }
      : m.status?.errors.length
        ? { errors: m.status.errors }
        : {}),
  }));
  return {
    phase,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: [available, progressing, degraded],
    // Kept while no member answers: the cluster is still the one it was.
    ...((o.membership?.clusterId ?? previous?.clusterID) !== undefined
      ? { clusterID: o.membership?.clusterId ?? previous?.clusterID }
      : {}),
    ...(o.leader !== undefined ? { leader: o.leader.podName ?? o.leader.member.name } : {}),
    members,
    replicas: o.pods.length,
    readyReplicas: h.healthyVoters,
    selector: selectorString(o.ref),
    ...(currentVersion !== undefined ? { currentVersion } : {}),
    ...(pass.replacements !== undefined && pass.replacements.length > 0
      ? { replacements: pass.replacements }
      : {}),
    ...(pass.restore !== undefined ? { restore: pass.restore } : {}),
    ...(pass.maintenance !== undefined && Object.keys(pass.maintenance).length > 0
      ? { maintenance: pass.maintenance }
      : {}),
  };
}
