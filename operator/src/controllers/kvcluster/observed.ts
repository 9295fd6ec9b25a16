// One reconcile's view of a cluster, read once at the start (ARCHITECTURE.md: load observed state once,
// then decide): the KVCluster, its StatefulSet and pods, and — through the pods that run — the Raft
// membership and every member's Status. Members and pods are joined by name (a started member publishes
// its pod's name) or, for a learner that has not started yet, by the peer URL the operator gave it.
import type { V1PersistentVolumeClaim, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import type { KVCluster, ResolvedSpec } from '../../api/v1alpha1/index.js';
import type { EndpointStatus, KVClusterClient, Member } from '../../kvclient/cluster-client.js';
import { NO_LEADER } from '../../kvclient/cluster-client.js';
import {
  CLIENT_PORT,
  memberOfPeerURL,
  memberOrdinal,
  selectorString,
  type ClusterRef,
} from '../../resources/index.js';
import type { KubeOps } from './kube-ops.js';

export interface ObservedMember {
  member: Member;
  /** The pod name this member belongs to (by its published name, else by its peer URL). */
  podName: string | undefined;
  ordinal: number | undefined;
  status: EndpointStatus | undefined;
  /** Why Status failed, when it did. */
  statusError: string | undefined;
  /** Voter: answered Status and sees a leader. Learner: answered Status. */
  healthy: boolean;
  isLeader: boolean;
}

export interface Observed {
  kv: KVCluster;
  spec: ResolvedSpec;
  ref: ClusterRef;
  sts: V1StatefulSet | undefined;
  /** The StatefulSet's replicas: how many member pods the operator has asked for. */
  stsReplicas: number;
  pods: V1Pod[];
  /** The members' data claims (`data-<pod>`). */
  claims: V1PersistentVolumeClaim[];
  /**
   * Undefined when no member answered MemberList. `linearizable` is false when only a member's own view
   * could be read (no quorum to confirm it): enough to report, never to change anything on.
   */
  membership: { clusterId: string; members: ObservedMember[]; linearizable: boolean } | undefined;
  membershipError: string | undefined;
  leader: ObservedMember | undefined;
}

export function podByName(o: Observed, name: string): V1Pod | undefined {
  return o.pods.find((p) => p.metadata?.name === name);
}

/** The claim holding a member's data (the StatefulSet's `data` template, so `data-<pod>`). */
export function claimOf(o: Observed, podName: string): V1PersistentVolumeClaim | undefined {
  return o.claims.find((c) => c.metadata?.name === `data-${podName}`);
}

export function podEndpoint(pod: V1Pod): string | undefined {
  const ip = pod.status?.podIP;
  return ip === undefined || ip === '' ? undefined : `http://${ip}:${CLIENT_PORT}`;
}

/** Pods that are running (a process to talk to), by ordinal. */
function runningPods(pods: readonly V1Pod[]): V1Pod[] {
  return pods.filter((p) => p.status?.phase === 'Running' && p.metadata?.deletionTimestamp === undefined);
}

export async function observe(
  kube: KubeOps,
  kv: KVCluster,
  spec: ResolvedSpec,
  ref: ClusterRef,
  connect: (endpoints: string[]) => KVClusterClient,
): Promise<{ observed: Observed; client: KVClusterClient | undefined }> {
  const sts = await kube.getStatefulSet(ref.namespace, ref.name);
  const pods = (await kube.listPods(ref.namespace, selectorString(ref))).filter(
    (p) => memberOrdinal(ref, p.metadata?.name ?? '') !== undefined,
  );
  const claims = await kube.listClaims(ref.namespace, selectorString(ref));
  const observed: Observed = {
    kv,
    spec,
    ref,
    sts,
    stsReplicas: sts?.spec?.replicas ?? 0,
    pods,
    claims,
    membership: undefined,
    membershipError: undefined,
    leader: undefined,
  };
  const endpoints = runningPods(pods)
    .map(podEndpoint)
    .filter((e): e is string => e !== undefined);
  if (endpoints.length === 0) {
    observed.membershipError = 'no member pod is running';
    return { observed, client: undefined };
  }
  const client = connect(endpoints);
  let list;
  let linearizable = true;
  try {
    list = await client.memberList();
  } catch (err) {
    observed.membershipError = err instanceof Error ? err.message : String(err);
    // Without a quorum nothing linearizable answers; a member's own list still shows who is down.
    try {
      list = await client.memberList({ linearizable: false });
      linearizable = false;
    } catch {
      return { observed, client };
    }
  }
  const members = await Promise.all(
    list.members.map(async (member): Promise<ObservedMember> => {
      const podName = member.name !== '' ? member.name : memberOfPeerURL(ref, member.peerURLs[0] ?? '');
      const ordinal = podName === undefined ? undefined : memberOrdinal(ref, podName);
      const pod = podName === undefined ? undefined : podByName(observed, podName);
      const endpoint = pod === undefined ? undefined : podEndpoint(pod);
      let status: EndpointStatus | undefined;
      let statusError: string | undefined;
      if (endpoint === undefined) statusError = 'no running pod';
      else {
        try {
          status = await client.status(endpoint);
          if (status.memberId !== member.id) {
            statusError = `pod ${podName ?? ''} answers as member ${status.memberId}, not ${member.id}`;
            status = undefined;
          }
        } catch (err) {
          statusError = err instanceof Error ? err.message : String(err);
        }
      }
      const healthy = status !== undefined && (member.isLearner || status.leader !== NO_LEADER);
      return { member, podName, ordinal, status, statusError, healthy, isLeader: false };
    }),
  );
  const leaderIds = new Set(
    members.map((m) => m.status?.leader).filter((l) => l !== undefined && l !== NO_LEADER),
  );
  // The leader is the one every answering member names (during an election they may disagree).
  if (leaderIds.size === 1) {
    const [id] = [...leaderIds];
    const leader = members.find((m) => m.member.id === id);
    if (leader !== undefined) {
      leader.isLeader = true;
      observed.leader = leader;
    }
  }
  members.sort((a, b) => (a.ordinal ?? 1e9) - (b.ordinal ?? 1e9));
  observed.membership = { clusterId: list.clusterId, members, linearizable };
  return { observed, client };
}
