// The KVCluster reconciler. One pass: read everything once (observed.ts), then take the first step that
// applies, in this order, and write the status once at the end:
//
//   1. owned objects that do not depend on membership (Services); the seed member if there is no
//      StatefulSet yet (bootstrap: member 0 alone, initial-cluster-state=new — the only `new` ever);
//   2. the StatefulSet's template kept current (replicas unchanged), the PDB, pods' voter/learner labels,
//      claims grown to spec.storage.size;
//   3. drift left by a crash between a Raft call and a Kubernetes call: a learner whose pod was never
//      created (crash after MemberAdd) → grow the StatefulSet; a pod whose member is gone and is beyond
//      the desired size (crash after MemberRemove) → shrink it;
//   4. promote a learner that has caught up;
//   5. nothing below runs unless every voter is healthy and there is a leader;
//   6. scale up: MemberAdd as learner → bootstrap ConfigMap with the whole membership → StatefulSet +1;
//   7. scale down: MoveLeader away from the victim if it leads → MemberRemove → StatefulSet −1;
//   8. rolling update (new version or config): one outdated pod at a time — unhealthy first, followers
//      next, the leader last after MoveLeader.
//
// A restore comes before all of these: a cluster created from a snapshot starts every member at once from
// it, and an in-place restore (a KVRestore's request, ANNOTATION_RESTORE_IN_PLACE) first stops every
// member (StatefulSet to 0), then does the same with a new token; nothing else runs until the restored
// members are healthy voters.
//
// One membership change per pass; every step is idempotent, so a pass cut short anywhere is finished by
// the next one.
import type { V1Pod } from '@kubernetes/client-node';
import {
  resolveSpec,
  type KVCluster,
  type ResolvedSpec,
  type RestoreSource,
} from '../../api/v1alpha1/index.js';
import type { KVClusterClient } from '../../kvclient/cluster-client.js';
import {
  ANNOTATION_RESTORE_IN_PLACE,
  LABEL_ROLE,
  bootstrapConfigMap,
  quorum,
  clientService,
  clusterRef,
  memberName,
  peerService,
  peerURL,
  podDisruptionBudget,
  statefulSet,
  type ClusterRef,
} from '../../resources/index.js';
import { kubeTime } from '../../runtime/api-calls.js';
import type { ReconcileResult } from '../../runtime/controller.js';
import type { Logger } from '../../runtime/logger.js';
import type { OperatorMetrics } from '../../runtime/metrics.js';
import { splitKey } from '../../runtime/object-key.js';
import type { KubeOps } from './kube-ops.js';
import { reconcileMaintenance } from './maintenance.js';
import { claimOf, observe, podByName, podEndpoint, type Observed, type ObservedMember } from './observed.js';
import {
  deriveStatus,
  health,
  outdatedPods,
  pendingProgress,
  REVISION_LABEL,
  type PassRecord,
  type Problem,
  type Progress,
} from './status.js';
import {
  ANNOTATION_MEMBER_ID,
  REPLACEMENT_ATTEMPTS_MAX,
  failedMember,
  holdsRemovedData,
  recordAttempt,
  type FailureReason,
} from './replacement.js';
import { failedRestore, inPlaceRequest, resolveRestorePlan, type RestorePlan } from './restore.js';
import { checkVersionPath } from './version-path.js';
import { claimsToGrow } from './volume-growth.js';

/** Where a reconciler's Events go (the runtime's EventRecorder; a list in unit tests). */
export interface EventSink<T = KVCluster> {
  normal(obj: T, reason: string, message: string): void;
  warning(obj: T, reason: string, message: string): void;
}

/** Points where a test can make the operator die between a Raft call and the Kubernetes call after it. */
export type Failpoint = 'afterMemberAdd' | 'afterMemberRemove';

export interface ReconcilerDeps {
  kube: KubeOps;
  connect: (endpoints: string[]) => KVClusterClient;
  events: EventSink;
  metrics?: Pick<OperatorMetrics, 'setClusterHealth' | 'deleteCluster'>;
  clusterDomain: string;
  now?: () => Date;
  failpoint?: (point: Failpoint) => void;
}

/** How soon to look again while something is under way, and when everything is settled. */
const PROGRESS_REQUEUE_MS = 2_000;
const UNHEALTHY_REQUEUE_MS = 5_000;
const STEADY_REQUEUE_MS = 30_000;
/**
 * A member counts as caught up when its applied index is within this many entries of the leader's: the
 * rolling update restarts the next pod only then, so no two members are behind at once.
 */
export const CATCH_UP_ENTRIES = 1_000;

interface StepResult {
  progress?: Progress;
  requeueAfterMs: number;
}

/** A pod the kubelet reports not Ready (a pod with no conditions yet counts as not reported). */
function notReady(p: V1Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status !== 'True') ?? false;
}

export class KVClusterReconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(key: string, log: Logger): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const kv = await this.deps.kube.getCluster(namespace, name);
    if (kv === undefined) {
      this.deps.metrics?.deleteCluster(namespace, name);
      return {};
    }
    // Owned objects go with the KVCluster through their owner references; claims follow the retention policy.
    if (kv.metadata.deletionTimestamp !== undefined) return {};
    const spec = resolveSpec(kv.spec);
    const ref = clusterRef(kv, this.deps.clusterDomain);
    const problems: Problem[] = [];
    const effective = this.effectiveSpec(kv, spec, problems);
    if (spec.replicas % 2 === 0) {
      const message = `${spec.replicas} voting members tolerate no more failures than ${spec.replicas - 1}; an odd size is recommended`;
      problems.push({ reason: 'EvenSize', message });
      this.deps.events.warning(kv, 'EvenSize', message);
    }

    await this.deps.kube.apply(peerService(kv, ref));
    await this.deps.kube.apply(clientService(kv, ref));
    const { observed, client } = await observe(this.deps.kube, kv, effective, ref, this.deps.connect);
    const pass: PassRecord = {
      claimUIDs: new Map(),
      replacements: kv.status?.replacements,
      ...(kv.status?.restore !== undefined ? { restore: kv.status.restore } : {}),
      ...(kv.status?.maintenance !== undefined ? { maintenance: kv.status.maintenance } : {}),
    };
    try {
      await this.acceptInPlaceRestore(kv, pass, problems);
      await reconcileMaintenance(
        { kube: this.deps.kube, events: this.deps.events, now: () => this.now() },
        observed,
        effective,
        problems,
        pass,
      );
      let result: StepResult;
      if (pass.restore?.phase === 'Stopping' && !spec.paused)
        result = await this.stopForRestore(observed, effective, pass);
      else if (observed.sts === undefined) result = await this.bootstrap(kv, effective, ref, problems, pass);
      else result = await this.step(observed, client, effective, log, problems, pass);
      const currentVersion = this.currentVersion(observed, effective);
      const progress = result.progress ?? (spec.paused ? undefined : pendingProgress(observed));
      const status = deriveStatus(observed, progress, problems, currentVersion, this.now(), pass);
      this.reportTransitions(kv, status.phase);
      await this.deps.kube.patchStatus(kv, status);
      const h = health(observed);
      this.deps.metrics?.setClusterHealth(namespace, name, {
        voters: h.voters,
        learners: h.learners,
        healthy: h.healthyVoters,
        available: h.available,
      });
      return { requeueAfterMs: result.requeueAfterMs };
    } finally {
      client?.close();
    }
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** The spec to run: a version change that breaks the upgrade path is held back (and reported). */
  private effectiveSpec(kv: KVCluster, spec: ResolvedSpec, problems: Problem[]): ResolvedSpec {
    const current = kv.status?.currentVersion;
    if (current === undefined || current === spec.version || spec.image !== undefined) return spec;
    const check = checkVersionPath(current, spec.version);
    if (check.allowed) return spec;
    const message = `upgrade refused: ${check.reason ?? ''}; the members stay at ${current}`;
    problems.push({ reason: 'UpgradeRefused', message });
    this.deps.events.warning(kv, 'UpgradeRefused', message);
    return { ...spec, version: current };
  }

  /** An Event when the phase changes: the KVCluster read at the start of the pass still has the last one. */
  private reportTransitions(kv: KVCluster, phase: string | undefined): void {
    const before = kv.status?.phase;
    if (phase !== undefined && before !== phase) {
      this.deps.events.normal(kv, `Phase${phase}`, `phase ${before ?? 'none'} → ${phase}`);
    }
  }

  /** Every pod there and at the StatefulSet's update revision: the members run the effective version. */
  private currentVersion(o: Observed, spec: ResolvedSpec): string | undefined {
    const revision = o.sts?.status?.updateRevision;
    const settled =
      revision !== undefined &&
      o.pods.length > 0 &&
      o.pods.length >= o.stsReplicas &&
      o.pods.every((p) => p.metadata?.labels?.[REVISION_LABEL] === revision);
    return settled ? spec.version : o.kv.status?.currentVersion;
  }

  private async bootstrap(
    kv: KVCluster,
    spec: ResolvedSpec,
    ref: ClusterRef,
    problems: Problem[],
    pass: PassRecord,
  ): Promise<StepResult> {
    const source = spec.bootstrap?.restore;
    if (source !== undefined) return this.bootstrapFromSnapshot(kv, spec, ref, source, problems, pass);
    const seed = memberName(ref, 0);
    await this.deps.kube.apply(bootstrapConfigMap(kv, ref, { state: 'new', members: [seed] }));
    await this.deps.kube.apply(statefulSet(kv, spec, ref, 1));
    this.deps.events.normal(kv, 'Bootstrapping', `created the seed member ${seed}`);
    return {
      progress: { phase: 'Bootstrapping', reason: 'SeedCreated', message: `seed member ${seed} created` },
      requeueAfterMs: PROGRESS_REQUEUE_MS,
    };
  }

  /**
   * A cluster from a snapshot: every member at once, each restored by its init step from the same
   * snapshot with the whole membership (etcd's disaster-recovery procedure), so it starts as a new
   * cluster of its own id holding the snapshot's data.
   */
  private async bootstrapFromSnapshot(
    kv: KVCluster,
    spec: ResolvedSpec,
    ref: ClusterRef,
    source: RestoreSource,
    problems: Problem[],
    pass: PassRecord,
  ): Promise<StepResult> {
    const resolved =
      pass.restore !== undefined
        ? { plan: pass.restore }
        : await resolveRestorePlan(this.deps.kube, ref.namespace, source);
    if ('waiting' in resolved) {
      problems.push({ reason: 'RestoreSourceNotReady', message: resolved.waiting });
      return {
        progress: { phase: 'Bootstrapping', reason: 'WaitingForBackup', message: resolved.waiting },
        requeueAfterMs: UNHEALTHY_REQUEUE_MS,
      };
    }
    pass.restore = resolved.plan;
    await this.startFromSnapshot(kv, spec, ref, resolved.plan, undefined);
    return this.progress('Bootstrapping', 'RestoringFromSnapshot', `restoring ${spec.replicas} member(s)`);
  }

  /**
   * Every member at once from the snapshot: the bootstrap ConfigMap with the whole membership and
   * `restore-url`, then the StatefulSet at full size with the restore step in its template.
   */
  private async startFromSnapshot(
    kv: KVCluster,
    spec: ResolvedSpec,
    ref: ClusterRef,
    plan: RestorePlan,
    existing: Observed | undefined,
  ): Promise<void> {
    const names = Array.from({ length: spec.replicas }, (_, i) => memberName(ref, i));
    await this.deps.kube.apply(
      bootstrapConfigMap(kv, ref, { state: 'new', members: names, restoreURL: plan.objectURL }),
    );
    if (existing !== undefined) await this.applyStatefulSet(existing, spec, spec.replicas, plan);
    else await this.deps.kube.apply(statefulSet(kv, spec, ref, spec.replicas, plan));
    this.deps.events.normal(
      kv,
      'Restoring',
      `${spec.replicas} member(s) start from ${plan.objectURL}` +
        (plan.revision !== undefined ? ` (revision ${plan.revision})` : ''),
    );
  }

  /**
   * An in-place restore request: acted on only for a KVRestore that has verified its snapshot; the
   * annotation goes once the restore it asked for is done.
   */
  private async acceptInPlaceRestore(kv: KVCluster, pass: PassRecord, problems: Problem[]): Promise<void> {
    const request = await inPlaceRequest(this.deps.kube, kv, pass.restore);
    if (request.kind === 'done') await this.deps.kube.removeAnnotation(kv, ANNOTATION_RESTORE_IN_PLACE);
    if (request.kind === 'ignored') problems.push({ reason: request.reason, message: request.message });
    if (request.kind !== 'start') return;
    pass.restore = request.plan;
    // The restored cluster is a new one: the old members' replacement records do not apply to it.
    pass.replacements = undefined;
    this.deps.events.warning(
      kv,
      'RestoringInPlace',
      `KVRestore ${request.plan.requestedBy ?? ''}: stopping every member to restore ${request.plan.objectURL}` +
        (request.plan.revision !== undefined ? ` (revision ${request.plan.revision})` : '') +
        '; writes made after the snapshot are lost',
    );
  }

  /**
   * An in-place restore, first step: every member stops (the StatefulSet to 0; the claims stay), so no
   * old member can answer or be written to; once no pod is left, all start from the snapshot together.
   */
  private async stopForRestore(o: Observed, spec: ResolvedSpec, pass: PassRecord): Promise<StepResult> {
    const plan = pass.restore;
    if (plan === undefined) return { requeueAfterMs: PROGRESS_REQUEUE_MS };
    if (o.pods.length > 0 || o.stsReplicas > 0) {
      if (o.stsReplicas > 0) await this.applyStatefulSet(o, spec, 0, plan);
      return this.progress(
        'Restoring',
        'StoppingMembers',
        `stopping ${o.pods.length} member(s) to restore ${plan.objectURL}`,
      );
    }
    pass.restore = { ...plan, phase: 'Restoring' };
    await this.startFromSnapshot(o.kv, spec, o.ref, pass.restore, o);
    return this.progress('Restoring', 'RestoringFromSnapshot', `restoring ${spec.replicas} member(s)`);
  }

  /**
   * While the members start from the snapshot: a failed restore step is reported (it keeps retrying with
   * the pod's back-off: a Secret created late still lets it finish); once every member is a healthy
   * voter the restore is done and `restore-url` leaves the ConfigMap, so a member replaced later joins
   * as usual instead of restoring old data.
   */
  private async followRestore(
    o: Observed,
    spec: ResolvedSpec,
    problems: Problem[],
    pass: PassRecord,
  ): Promise<StepResult | undefined> {
    const plan = pass.restore;
    if (plan === undefined || plan.phase === 'Restored') return undefined;
    const phase = plan.requestedBy !== undefined ? 'Restoring' : 'Bootstrapping';
    const members = o.membership?.members ?? [];
    const done =
      o.membership?.linearizable === true &&
      members.length === o.stsReplicas &&
      members.every((m) => !m.member.isLearner && m.healthy) &&
      o.leader !== undefined;
    if (done) {
      const revision = plan.revision ?? o.leader?.status?.revision;
      pass.restore = { ...plan, phase: 'Restored', ...(revision !== undefined ? { revision } : {}) };
      delete pass.restore.message;
      const names = Array.from({ length: o.stsReplicas }, (_, i) => memberName(o.ref, i));
      await this.deps.kube.apply(bootstrapConfigMap(o.kv, o.ref, { state: 'existing', members: names }));
      this.deps.events.normal(
        o.kv,
        'Restored',
        `${members.length} member(s) restored from ${plan.objectURL}`,
      );
      return undefined;
    }
    const failure = failedRestore(o.pods);
    if (failure !== undefined) {
      const message = `restore from ${plan.objectURL} failed: ${failure}`;
      if (plan.phase !== 'Failed' || plan.message !== message)
        this.deps.events.warning(o.kv, 'RestoreFailed', message);
      pass.restore = { ...plan, phase: 'Failed', message };
      problems.push({ reason: 'RestoreFailed', message });
      return {
        progress: { phase, reason: 'RestoreFailed', message },
        requeueAfterMs: UNHEALTHY_REQUEUE_MS,
      };
    }
    const started = members.filter((m) => m.healthy).length;
    return this.progress(
      phase,
      'RestoringFromSnapshot',
      `${started}/${spec.replicas} member(s) started from ${plan.objectURL}`,
    );
  }

  private async step(
    o: Observed,
    client: KVClusterClient | undefined,
    spec: ResolvedSpec,
    log: Logger,
    problems: Problem[],
    pass: PassRecord,
  ): Promise<StepResult> {
    const { kv, ref } = o;
    const kube = this.deps.kube;
    await this.applyStatefulSet(o, spec, o.stsReplicas);
    if (spec.paused) return { requeueAfterMs: STEADY_REQUEUE_MS };
    const restoring = await this.followRestore(o, spec, problems, pass);
    if (restoring !== undefined) return restoring;
    const membership = o.membership;
    if (membership === undefined || client === undefined) {
      if (o.stsReplicas <= 1 && o.kv.status?.clusterID === undefined) {
        return {
          progress: {
            phase: 'Bootstrapping',
            reason: 'SeedStarting',
            message: 'waiting for the seed member to serve',
          },
          requeueAfterMs: PROGRESS_REQUEUE_MS,
        };
      }
      // No member answers: never change membership or pods blind (that could make a quorum loss worse).
      log.warn('no member answers', { error: o.membershipError });
      return { requeueAfterMs: UNHEALTHY_REQUEUE_MS };
    }
    if (!membership.linearizable) {
      // Only a member's own, unconfirmed view: reported in the status, acted on never.
      log.warn('membership not confirmed by a quorum; changing nothing', { error: o.membershipError });
      return { requeueAfterMs: UNHEALTHY_REQUEUE_MS };
    }
    const members = membership.members;
    const voters = members.filter((m) => !m.member.isLearner);
    await kube.apply(podDisruptionBudget(kv, ref, Math.max(voters.length, 1)));
    await this.labelRoles(o, members);
    await this.recordClaims(o, members, pass);
    await this.growVolumes(o, spec, problems);

    // 3. Drift after a crash.
    const unplaced = members.find(
      (m) => m.member.isLearner && m.ordinal !== undefined && m.ordinal >= o.stsReplicas,
    );
    if (unplaced?.ordinal !== undefined) {
      await this.growTo(o, spec, unplaced.ordinal + 1);
      this.deps.events.normal(
        kv,
        'MemberPodCreated',
        `pod ${memberName(ref, unplaced.ordinal)} created for learner ${unplaced.member.id}`,
      );
      return this.progress(
        'Scaling',
        'ScalingUp',
        `creating the pod of learner ${memberName(ref, unplaced.ordinal)}`,
      );
    }
    const orphan = this.orphanPods(o, members);
    const last = orphan.find((x) => x.ordinal === o.stsReplicas - 1 && x.ordinal >= spec.replicas);
    if (last !== undefined) {
      await this.applyStatefulSet(o, spec, o.stsReplicas - 1);
      this.deps.events.normal(kv, 'MemberPodRemoved', `pod ${last.name} of a removed member scaled away`);
      return this.progress('Scaling', 'ScalingDown', `removing the pod of removed member ${last.name}`);
    }

    // 3b. Replacement: a removed member's pod within the desired size is wiped or re-added; a member whose
    // data is lost or corrupt is removed to start one.
    const replacing = orphan.find((x) => x.ordinal < spec.replicas);
    if (replacing !== undefined) return this.continueReplacement(o, client, replacing.name);
    for (const m of members) {
      if (m.podName === undefined) continue;
      const failure = failedMember(m, podByName(o, m.podName), claimOf(o, m.podName), kv.status);
      if (failure !== undefined) return this.startReplacement(o, client, m, failure, problems, pass);
    }

    // 4. Promote a learner that has caught up.
    for (const learner of members.filter(
      (m) => m.member.isLearner && m.status !== undefined && m.member.name !== '',
    )) {
      try {
        await client.promote(learner.member.id);
        this.deps.events.normal(
          kv,
          'MemberPromoted',
          `learner ${learner.podName ?? learner.member.id} promoted to voter`,
        );
        return this.progress('Scaling', 'Promoting', `promoted ${learner.podName ?? learner.member.id}`);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        log.info('learner not promoted yet', { member: learner.podName, reason: message });
        return this.progress(
          'Scaling',
          'LearnerCatchingUp',
          `learner ${learner.podName ?? ''} is catching up`,
        );
      }
    }

    // 5. Health gate: every voter healthy and caught up with the leader, no learner.
    const h = health(o);
    if (h.healthyVoters < h.voters || o.leader === undefined || members.some((m) => m.member.isLearner)) {
      return { requeueAfterMs: UNHEALTHY_REQUEUE_MS };
    }
    const lagging = this.lagging(o.leader, members);
    if (lagging !== undefined) {
      log.info('waiting for a member to catch up', { member: lagging.podName });
      return { requeueAfterMs: PROGRESS_REQUEUE_MS };
    }

    // 6. Scale up, one learner at a time.
    if (members.length < spec.replicas && o.stsReplicas === members.length) {
      const name = memberName(ref, members.length);
      const added = await client.addLearner(peerURL(ref, name));
      this.deps.events.normal(kv, 'MemberAdded', `added ${name} as learner ${added.member.id}`);
      this.deps.failpoint?.('afterMemberAdd');
      await this.growTo(o, spec, members.length + 1);
      return this.progress('Scaling', 'ScalingUp', `adding ${name} (${members.length + 1}/${spec.replicas})`);
    }

    // 7. Scale down from the highest ordinal, moving leadership away first.
    if (members.length > spec.replicas) {
      const victim = [...members].sort((a, b) => (b.ordinal ?? -1) - (a.ordinal ?? -1))[0];
      if (victim?.ordinal !== undefined) {
        if (victim.isLeader) return this.moveLeaderAway(o, client, victim, 'ScalingDown');
        await client.remove(victim.member.id);
        this.deps.events.normal(
          kv,
          'MemberRemoved',
          `removed member ${memberName(ref, victim.ordinal)} (${victim.member.id})`,
        );
        this.deps.failpoint?.('afterMemberRemove');
        await this.applyStatefulSet(o, spec, victim.ordinal);
        return this.progress(
          'Scaling',
          'ScalingDown',
          `removing ${memberName(ref, victim.ordinal)} (${members.length - 1}/${spec.replicas})`,
        );
      }
    }

    // 8. Rolling update.
    const outdated = outdatedPods(o);
    const next = this.nextToRoll(outdated, members);
    if (next === undefined) return { requeueAfterMs: STEADY_REQUEUE_MS };
    // The member answering is not enough: until the kubelet finds its pod Ready, the client Service does
    // not send it clients, and restarting another would leave two members out of it.
    const unready = o.pods.find((p) => notReady(p));
    if (unready !== undefined) {
      log.info('waiting for a restarted pod to be Ready', { pod: unready.metadata?.name });
      return this.progress(
        'Upgrading',
        'RollingUpdate',
        `waiting for ${unready.metadata?.name ?? ''} to be Ready`,
      );
    }
    const name = next.metadata?.name ?? '';
    const member = members.find((m) => m.podName === name);
    if (member?.isLeader === true) return this.moveLeaderAway(o, client, member, 'RollingUpdate');
    await kube.deletePod(ref.namespace, name, next.metadata?.uid ?? '');
    this.deps.events.normal(
      kv,
      'MemberRestarted',
      `restarting ${name} for the new template (${outdated.length} outdated)`,
    );
    return this.progress(
      'Upgrading',
      'RollingUpdate',
      `${outdated.length} member(s) to update; restarting ${name}`,
    );
  }

  private progress(phase: Progress['phase'], reason: string, message: string): StepResult {
    return { progress: { phase, reason, message }, requeueAfterMs: PROGRESS_REQUEUE_MS };
  }

  /** A member whose applied index trails the leader's by more than CATCH_UP_ENTRIES. */
  private lagging(leader: ObservedMember, members: readonly ObservedMember[]): ObservedMember | undefined {
    const head = leader.status?.raftAppliedIndex;
    if (head === undefined) return undefined;
    return members.find((m) => (m.status?.raftAppliedIndex ?? 0) + CATCH_UP_ENTRIES < head);
  }

  /** Pods (within the StatefulSet's replicas) that no member belongs to: their member was removed. */
  private orphanPods(o: Observed, members: readonly ObservedMember[]): { name: string; ordinal: number }[] {
    const owned = new Set(members.map((m) => m.podName));
    const out: { name: string; ordinal: number }[] = [];
    for (let ordinal = 0; ordinal < o.stsReplicas; ordinal++) {
      const name = memberName(o.ref, ordinal);
      if (!owned.has(name) && podByName(o, name) !== undefined) out.push({ name, ordinal });
    }
    return out;
  }

  /** The pod to restart next: one whose member is unhealthy, else a follower, the leader last. */
  private nextToRoll(outdated: readonly V1Pod[], members: readonly ObservedMember[]): V1Pod | undefined {
    const memberOf = (p: V1Pod): ObservedMember | undefined =>
      members.find((m) => m.podName === p.metadata?.name);
    return (
      outdated.find((p) => memberOf(p)?.healthy !== true) ??
      outdated.find((p) => memberOf(p)?.isLeader !== true) ??
      outdated[0]
    );
  }

  private async moveLeaderAway(
    o: Observed,
    client: KVClusterClient,
    leader: ObservedMember,
    reason: string,
  ): Promise<StepResult> {
    const pod = leader.podName === undefined ? undefined : podByName(o, leader.podName);
    const endpoint = pod === undefined ? undefined : podEndpoint(pod);
    const target = (o.membership?.members ?? []).find((m) => !m.member.isLearner && !m.isLeader && m.healthy);
    if (endpoint === undefined || target === undefined) return { requeueAfterMs: UNHEALTHY_REQUEUE_MS };
    await client.moveLeader(endpoint, target.member.id);
    this.deps.events.normal(
      o.kv,
      'LeaderMoved',
      `leadership moved from ${leader.podName ?? ''} to ${target.podName ?? ''}`,
    );
    return this.progress(
      reason === 'RollingUpdate' ? 'Upgrading' : reason === 'Replacing' ? 'Replacing' : 'Scaling',
      reason,
      `moved leadership to ${target.podName ?? ''}`,
    );
  }

  /** The next member's bootstrap (the whole membership, `existing`), then one more pod. */
  private async growTo(o: Observed, spec: ResolvedSpec, replicas: number): Promise<void> {
    const names = Array.from({ length: replicas }, (_, i) => memberName(o.ref, i));
    await this.deps.kube.apply(bootstrapConfigMap(o.kv, o.ref, { state: 'existing', members: names }));
    await this.applyStatefulSet(o, spec, replicas);
  }

  /**
   * The StatefulSet with `replicas` and the current template. Its claim templates are immutable once
   * created, so the existing ones are kept (a larger spec.storage.size reaches the claims themselves).
   */
  private async applyStatefulSet(
    o: Observed,
    spec: ResolvedSpec,
    replicas: number,
    restore: RestorePlan | undefined = o.kv.status?.restore,
  ): Promise<void> {
    const desired = statefulSet(o.kv, spec, o.ref, replicas, restore);
    const existing = o.sts?.spec?.volumeClaimTemplates;
    if (desired.spec !== undefined && existing !== undefined) desired.spec.volumeClaimTemplates = existing;
    await this.deps.kube.apply(desired);
  }

  /**
   * Remembers which claim holds each healthy member's data: in the status (dataClaimUID, kept from the
   * first sighting, so a later different claim reveals lost data) and on the claim itself (the member id,
   * so the claim of a removed member is known to hold stale data).
   */
  private async recordClaims(
    o: Observed,
    members: readonly ObservedMember[],
    pass: PassRecord,
  ): Promise<void> {
    for (const m of members) {
      const recorded = o.kv.status?.members?.find((x) => x.id === m.member.id)?.dataClaimUID;
      if (recorded !== undefined) {
        pass.claimUIDs.set(m.member.id, recorded);
        continue;
      }
      if (!m.healthy || m.podName === undefined) continue;
      const claim = claimOf(o, m.podName);
      const uid = claim?.metadata?.uid;
      if (claim === undefined || uid === undefined) continue;
      pass.claimUIDs.set(m.member.id, uid);
      if (claim.metadata?.annotations?.[ANNOTATION_MEMBER_ID] !== m.member.id) {
        await this.deps.kube.annotateClaim(o.ref.namespace, claim.metadata?.name ?? '', {
          [ANNOTATION_MEMBER_ID]: m.member.id,
        });
      }
    }
  }

  /** Asks every claim smaller than spec.storage.size for that size; a refusal is reported, not retried blind. */
  private async growVolumes(o: Observed, spec: ResolvedSpec, problems: Problem[]): Promise<void> {
    for (const g of claimsToGrow(spec, o.claims)) {
      try {
        await this.deps.kube.resizeClaim(o.ref.namespace, g.claim, g.to);
        this.deps.events.normal(o.kv, 'VolumeExpanding', `${g.claim}: ${g.from} → ${g.to}`);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        const message = `${g.claim} cannot grow from ${g.from} to ${g.to}: ${reason}`;
        problems.push({ reason: 'VolumeExpansionRefused', message });
        this.deps.events.warning(o.kv, 'VolumeExpansionRefused', message);
      }
    }
  }

  /** Removes a member whose data is lost or corrupt, while the others keep a quorum; a few times at most. */
  private async startReplacement(
    o: Observed,
    client: KVClusterClient,
    m: ObservedMember,
    failure: { reason: FailureReason; message: string },
    problems: Problem[],
    pass: PassRecord,
  ): Promise<StepResult> {
    const name = m.podName ?? m.member.name;
    const voters = (o.membership?.members ?? []).filter((x) => !x.member.isLearner && x !== m);
    const healthy = voters.filter((x) => x.healthy).length;
    if (o.leader === m) return this.moveLeaderAway(o, client, m, 'Replacing');
    if (voters.length === 0 || healthy < quorum(voters.length) || o.leader === undefined) {
      problems.push({
        reason: 'ReplacementBlocked',
        message: `${name} must be replaced (${failure.message}), but the others do not hold a quorum`,
      });
      return { requeueAfterMs: UNHEALTHY_REQUEUE_MS };
    }
    const attempts = (o.kv.status?.replacements ?? []).find((r) => r.name === name)?.attempts ?? 0;
    if (attempts >= REPLACEMENT_ATTEMPTS_MAX) {
      const message = `gave up replacing ${name} after ${attempts} attempts: ${failure.message}`;
      problems.push({ reason: 'ReplacementGaveUp', message });
      this.deps.events.warning(o.kv, 'ReplacementGaveUp', message);
      return { requeueAfterMs: STEADY_REQUEUE_MS };
    }
    // Mark the claim as the removed member's first, so a crash after the removal still wipes it.
    const claim = claimOf(o, name);
    if (claim !== undefined && claim.metadata?.annotations?.[ANNOTATION_MEMBER_ID] !== m.member.id) {
      await this.deps.kube.annotateClaim(o.ref.namespace, claim.metadata?.name ?? '', {
        [ANNOTATION_MEMBER_ID]: m.member.id,
      });
    }
    await client.remove(m.member.id);
    pass.replacements = recordAttempt(pass.replacements, name, kubeTime(this.now()));
    this.deps.events.warning(
      o.kv,
      'MemberReplacing',
      `${name} (${m.member.id}): ${failure.message}; removed, to rejoin as a new learner on a fresh volume`,
    );
    this.deps.failpoint?.('afterMemberRemove');
    return this.progress('Replacing', failure.reason, `replacing ${name}: ${failure.message}`);
  }

  /**
   * The pod of a removed member, within the desired size: wipe its claim if it holds the removed
   * member's data, else add it back as a learner under the same name and restart it to join at once.
   */
  private async continueReplacement(o: Observed, client: KVClusterClient, name: string): Promise<StepResult> {
    const { kube } = this.deps;
    const pod = podByName(o, name);
    const claim = claimOf(o, name);
    if (claim === undefined)
      return this.progress('Replacing', 'WaitingForVolume', `waiting for a new volume for ${name}`);
    if (holdsRemovedData(pod, claim)) {
      await kube.deleteClaim(o.ref.namespace, claim.metadata?.name ?? '');
      if (pod !== undefined) await kube.deletePod(o.ref.namespace, name, pod.metadata?.uid ?? '');
      this.deps.events.normal(o.kv, 'MemberDataWiped', `deleted the volume of removed member ${name}`);
      return this.progress('Replacing', 'WipingData', `deleting the stale volume of ${name}`);
    }
    if (o.leader === undefined) return { requeueAfterMs: UNHEALTHY_REQUEUE_MS };
    const added = await client.addLearner(peerURL(o.ref, name));
    this.deps.events.normal(o.kv, 'MemberAdded', `re-added ${name} as learner ${added.member.id}`);
    this.deps.failpoint?.('afterMemberAdd');
    const names = Array.from({ length: o.stsReplicas }, (_, i) => memberName(o.ref, i));
    await kube.apply(bootstrapConfigMap(o.kv, o.ref, { state: 'existing', members: names }));
    // Restart it now: waiting out the crash-loop back-off of its failed joins could take minutes.
    if (pod !== undefined) await kube.deletePod(o.ref.namespace, name, pod.metadata?.uid ?? '');
    return this.progress('Replacing', 'ReAdding', `${name} re-added as a learner`);
  }

  /** Keeps each pod's cairn.dev/role label (what the PDB counts) in line with its member. */
  private async labelRoles(o: Observed, members: readonly ObservedMember[]): Promise<void> {
    for (const m of members) {
      if (m.podName === undefined) continue;
      const pod = podByName(o, m.podName);
      const role = m.member.isLearner ? 'learner' : 'voter';
      if (pod !== undefined && pod.metadata?.labels?.[LABEL_ROLE] !== role) {
        await this.deps.kube.patchPodLabels(o.ref.namespace, m.podName, { [LABEL_ROLE]: role });
      }
    }
  }
}
