// The KVCluster's status, derived from one pass's observations and what the pass did: phase, the
// Available / Progressing / Degraded conditions with numbers in their messages, the members, the leader.
// A condition's lastTransitionTime moves only when its status does.
import type { Condition, KVClusterStatus, MemberStatus } from '../../api/v1alpha1/index.js';
import { quorum, selectorString } from '../../resources/index.js';
import type { Observed } from './observed.js';

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

/** What a pass carries into the status besides its observations. */
export interface PassRecord {
  /** Member id → UID of its data claim (kept from the first time it was seen healthy). */
  claimUIDs: Map<string, string>;
  replacements: KVClusterStatus['replacements'];
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
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
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
  const unreachable = o.membership === undefined && o.stsReplicas > 0 && progress?.phase !== 'Bootstrapping';
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
    ...(o.membership !== undefined ? { clusterID: o.membership.clusterId } : {}),
    ...(o.leader !== undefined ? { leader: o.leader.podName ?? o.leader.member.name } : {}),
    members,
    replicas: o.pods.length,
    readyReplicas: h.healthyVoters,
    selector: selectorString(o.ref),
    ...(currentVersion !== undefined ? { currentVersion } : {}),
    ...(pass.replacements !== undefined && pass.replacements.length > 0
      ? { replacements: pass.replacements }
      : {}),
  };
}
