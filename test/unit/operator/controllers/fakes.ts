// In-memory stand-ins for the reconciler's two dependencies: the Kubernetes API (KubeOps) and the
// cluster client. Tests set up pods and members, run a pass, and read what the reconciler applied and
// called.
import type {
  KubernetesObject,
  V1Job,
  V1PersistentVolumeClaim,
  V1Pod,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type {
  KVBackup,
  KVCluster,
  KVClusterStatus,
  KVRestore,
} from '../../../../operator/src/api/v1alpha1/index.js';
import type { KubeOps } from '../../../../operator/src/controllers/kvcluster/kube-ops.js';
import {
  KVClusterReconciler,
  type Failpoint,
} from '../../../../operator/src/controllers/kvcluster/reconciler.js';
import type {
  EndpointStatus,
  KVClusterClient,
  Member,
  MemberList,
} from '../../../../operator/src/kvclient/cluster-client.js';
import { NO_LEADER } from '../../../../operator/src/kvclient/cluster-client.js';
import { peerURL, type ClusterRef } from '../../../../operator/src/resources/index.js';

export const REF: ClusterRef = { name: 'kv', namespace: 'ns', domain: 'cluster.local' };

export function cluster(spec: KVCluster['spec'], status?: KVClusterStatus): KVCluster {
  return {
    apiVersion: 'cairn.dev/v1alpha1',
    kind: 'KVCluster',
    metadata: { name: 'kv', namespace: 'ns', uid: 'aaaabbbb-cccc', generation: 1 },
    spec,
    ...(status !== undefined ? { status } : {}),
  };
}

export class FakeKube implements KubeOps {
  applied = new Map<string, KubernetesObject>();
  pods: V1Pod[] = [];
  deletedPods: string[] = [];
  statuses: KVClusterStatus[] = [];
  /** The StatefulSet's status.updateRevision the "controller" reports. */
  updateRevision = 'rev-1';

  constructor(public kv: KVCluster | undefined) {}

  async getCluster(): Promise<KVCluster | undefined> {
    return Promise.resolve(this.kv);
  }

  backups = new Map<string, KVBackup>();

  async getBackup(_namespace: string, name: string): Promise<KVBackup | undefined> {
    return Promise.resolve(this.backups.get(name));
  }

  restores = new Map<string, KVRestore>();

  async getRestore(_namespace: string, name: string): Promise<KVRestore | undefined> {
    return Promise.resolve(this.restores.get(name));
  }

  async removeAnnotation(_kv: KVCluster, key: string): Promise<void> {
    if (this.kv?.metadata.annotations !== undefined) delete this.kv.metadata.annotations[key];
    return Promise.resolve();
  }

  async apply(obj: KubernetesObject): Promise<void> {
    this.applied.set(`${obj.kind ?? ''}/${obj.metadata?.name ?? ''}`, structuredClone(obj));
    return Promise.resolve();
  }

  async getStatefulSet(): Promise<V1StatefulSet | undefined> {
    const sts = this.applied.get('StatefulSet/kv');
    return Promise.resolve(
      sts === undefined
        ? undefined
        : { ...sts, status: { replicas: 0, updateRevision: this.updateRevision } },
    );
  }

  /** The pods of a Job, by Job name (what `job-name=<job>` selects). */
  jobPods = new Map<string, V1Pod[]>();

  async listPods(_namespace: string, selector: string): Promise<V1Pod[]> {
    const job = /^job-name=(.+)$/.exec(selector)?.[1];
    return Promise.resolve(job !== undefined ? (this.jobPods.get(job) ?? []) : this.pods);
  }

  async listClaims(): Promise<V1PersistentVolumeClaim[]> {
    return Promise.resolve(this.claims);
  }

  async deletePod(_namespace: string, name: string): Promise<void> {
    this.deletedPods.push(name);
    return Promise.resolve();
  }

  async deleteClaim(_namespace: string, name: string): Promise<void> {
    this.deletedClaims.push(name);
    this.claims = this.claims.filter((c) => c.metadata?.name !== name);
    return Promise.resolve();
  }

  async patchPodLabels(_namespace: string, name: string, labels: Record<string, string>): Promise<void> {
    const pod = this.pods.find((p) => p.metadata?.name === name);
    if (pod?.metadata !== undefined) pod.metadata.labels = { ...pod.metadata.labels, ...labels };
    return Promise.resolve();
  }

  claims: V1PersistentVolumeClaim[] = [];
  deletedClaims: string[] = [];

  async annotateClaim(_namespace: string, name: string, annotations: Record<string, string>): Promise<void> {
    const claim = this.claims.find((c) => c.metadata?.name === name);
    if (claim?.metadata !== undefined)
      claim.metadata.annotations = { ...claim.metadata.annotations, ...annotations };
    return Promise.resolve();
  }

  /** Set to make resizes fail as the API server does when the storage class cannot expand. */
  resizeRefusal: string | undefined;
  resized: string[] = [];

  async resizeClaim(_namespace: string, name: string, storage: string): Promise<void> {
    if (this.resizeRefusal !== undefined) throw new Error(this.resizeRefusal);
    this.resized.push(`${name} ${storage}`);
    const claim = this.claims.find((c) => c.metadata?.name === name);
    if (claim?.spec !== undefined) claim.spec.resources = { requests: { storage } };
    return Promise.resolve();
  }

  async patchStatus(kv: KVCluster, status: KVClusterStatus): Promise<void> {
    this.statuses.push(status);
    kv.status = status;
    return Promise.resolve();
  }

  /** Jobs the "Job controller" reports (tests set their status); applied Jobs join them. */
  jobs: V1Job[] = [];
  deleted: string[] = [];

  listJobsCalls = 0;

  async listJobs(): Promise<V1Job[]> {
    this.listJobsCalls++;
    const applied = [...this.applied.values()].filter((o): o is V1Job => o.kind === 'Job');
    const names = new Set(this.jobs.map((j) => j.metadata?.name));
    return Promise.resolve([...this.jobs, ...applied.filter((j) => !names.has(j.metadata?.name))]);
  }

  async deleteJob(_namespace: string, name: string): Promise<void> {
    this.deleted.push(`Job/${name}`);
    this.applied.delete(`Job/${name}`);
    this.jobs = this.jobs.filter((j) => j.metadata?.name !== name);
    return Promise.resolve();
  }

  async deleteCronJob(_namespace: string, name: string): Promise<void> {
    this.deleted.push(`CronJob/${name}`);
    this.applied.delete(`CronJob/${name}`);
    return Promise.resolve();
  }

  stsReplicas(): number | undefined {
    const sts: V1StatefulSet | undefined = this.applied.get('StatefulSet/kv');
    return sts?.spec?.replicas;
  }

  configMap(): Record<string, string> | undefined {
    return (this.applied.get('ConfigMap/kv-bootstrap') as { data?: Record<string, string> } | undefined)
      ?.data;
  }
}

/** A running member pod with address 10.0.0.<ordinal+1> at `revision`. */
export function pod(ordinal: number, revision = 'rev-1'): V1Pod {
  return {
    metadata: {
      name: `kv-${ordinal}`,
      namespace: 'ns',
      uid: `uid-${ordinal}`,
      labels: { 'app.kubernetes.io/instance': 'kv', 'controller-revision-hash': revision },
    },
    status: { phase: 'Running', podIP: `10.0.0.${ordinal + 1}` },
  };
}

/** Member `ordinal`'s data claim, with `uid`, annotated with its member id if given, of `size` if given. */
export function claim(
  ordinal: number,
  uid: string,
  memberId?: string,
  size?: string,
): V1PersistentVolumeClaim {
  return {
    metadata: {
      name: `data-kv-${ordinal}`,
      uid,
      ...(memberId !== undefined ? { annotations: { 'cairn.dev/member-id': memberId } } : {}),
    },
    ...(size !== undefined ? { spec: { resources: { requests: { storage: size } } } } : {}),
  };
}

export interface FakeMember {
  ordinal: number;
  isLearner?: boolean;
  /** Not started yet: no name, no Status. */
  started?: boolean;
  /** Status fails. */
  down?: boolean;
  /** Its applied index (10 unless given). */
  applied?: number;
}

export class FakeKV implements KVClusterClient {
  calls: string[] = [];
  leader = 0;
  promoteRefusal: string | undefined;
  clusterId = '00000000000000c1';
  /** Ordinals of members whose Status reports a NOSPACE alarm. */
  noSpace = new Set<number>();
  private nextId = 100;
  members: (Member & { ordinal: number; down: boolean; applied: number })[] = [];

  constructor(members: FakeMember[]) {
    for (const m of members) this.add(m);
  }

  private add(m: FakeMember): Member {
    const member = {
      id: (this.nextId++).toString(16).padStart(16, '0'),
      name: m.started === false ? '' : `kv-${m.ordinal}`,
      peerURLs: [peerURL(REF, `kv-${m.ordinal}`)],
      clientURLs: [],
      isLearner: m.isLearner ?? false,
      ordinal: m.ordinal,
      down: m.down ?? false,
      applied: m.applied ?? 10,
    };
    this.members.push(member);
    return member;
  }

  idOf(ordinal: number): string {
    return this.members.find((m) => m.ordinal === ordinal)?.id ?? '';
  }

  /** Set to make linearizable member lists fail (no quorum), as a member answers them. */
  noQuorum = false;

  async memberList(opts: { linearizable?: boolean } = {}): Promise<MemberList> {
    if (this.noQuorum && opts.linearizable !== false) throw new Error('etcdserver: request timed out');
    return Promise.resolve({ clusterId: this.clusterId, members: this.members.map((m) => ({ ...m })) });
  }

  async addLearner(url: string): Promise<{ member: Member; members: Member[] }> {
    this.calls.push(`addLearner ${url}`);
    const ordinal = Number(/kv-(\d+)\./.exec(url)?.[1]);
    const member = this.add({ ordinal, isLearner: true, started: false });
    return Promise.resolve({ member, members: this.members });
  }

  async promote(id: string): Promise<void> {
    this.calls.push(`promote ${id}`);
    if (this.promoteRefusal !== undefined) throw new Error(this.promoteRefusal);
    const m = this.members.find((x) => x.id === id);
    if (m !== undefined) m.isLearner = false;
    return Promise.resolve();
  }

  async remove(id: string): Promise<void> {
    this.calls.push(`remove ${id}`);
    this.members = this.members.filter((m) => m.id !== id);
    return Promise.resolve();
  }

  async status(endpoint: string): Promise<EndpointStatus> {
    const ordinal = Number(/10\.0\.0\.(\d+)/.exec(endpoint)?.[1]) - 1;
    const m = this.members.find((x) => x.ordinal === ordinal && x.name !== '');
    if (m === undefined || m.down) throw new Error(`connect ECONNREFUSED ${endpoint}`);
    return Promise.resolve({
      endpoint,
      memberId: m.id,
      clusterId: this.clusterId,
      leader: this.members.find((x) => x.ordinal === this.leader)?.id ?? NO_LEADER,
      version: '3.6.0',
      dbSize: 4096,
      raftTerm: 2,
      raftIndex: 10,
      raftAppliedIndex: m.applied,
      revision: 5,
      isLearner: m.isLearner,
      errors: this.noSpace.has(m.ordinal) ? [`memberID:${BigInt(`0x${m.id}`)} alarm:NOSPACE `] : [],
    });
  }

  async moveLeader(_endpoint: string, to: string): Promise<void> {
    this.calls.push(`moveLeader ${to}`);
    this.leader = this.members.find((m) => m.id === to)?.ordinal ?? this.leader;
    return Promise.resolve();
  }

  close(): void {}
}

/** What a failpoint throws in the tests: the operator "dies" there. */
export class Crash extends Error {}

export interface Harness {
  kube: FakeKube;
  fake: FakeKV;
  reconciler: KVClusterReconciler;
  /** `Reason: message` of every Event, in order. */
  events: string[];
}

/** A reconciler over fakes: `members` in the cluster, `pods` (ordinals) running. */
export function harness(
  kv: KVCluster,
  members: FakeMember[],
  pods: number[],
  opts: { crashAt?: Failpoint } = {},
): Harness {
  const kube = new FakeKube(kv);
  const fake = new FakeKV(members);
  const events: string[] = [];
  kube.pods = pods.map((o) => pod(o));
  const reconciler = new KVClusterReconciler({
    kube,
    connect: () => fake,
    events: {
      normal: (_o, reason, message) => events.push(`${reason}: ${message}`),
      warning: (_o, reason, message) => events.push(`${reason}: ${message}`),
    },
    clusterDomain: 'cluster.local',
    failpoint: (point) => {
      if (point === opts.crashAt) throw new Crash(point);
    },
  });
  return { kube, fake, reconciler, events };
}

/** An existing StatefulSet with `replicas`, as a previous pass would have left it. */
export async function withStatefulSet(kube: FakeKube, replicas: number): Promise<void> {
  const sts: V1StatefulSet = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'kv' },
    spec: { replicas, selector: {}, serviceName: 'kv', template: {} },
  };
  await kube.apply(sts);
}
