// The operator's view of a cairn cluster over the etcd v3 API (npm `etcd3`, the client applications use):
// membership through any member, Status of each member on its own endpoint, and MoveLeader on the leader.
// etcd3's own retries and circuit breakers are turned off — the reconcile loop decides when to try again,
// and a request that fails must fail within its deadline, not hang a reconcile.
import { Etcd3, type IOptions } from 'etcd3';
import { noop } from 'cockatiel';
import { decimalId, hexId } from './member-id.js';

export interface Member {
  /** 16 hex digits. */
  id: string;
  /** Empty until the member has started and published its name. */
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface MemberList {
  clusterId: string;
  members: Member[];
}

export interface EndpointStatus {
  endpoint: string;
  memberId: string;
  clusterId: string;
  /** The leader this member sees; '0000000000000000' when it has none. */
  leader: string;
  version: string;
  dbSize: number;
  raftTerm: number;
  raftIndex: number;
  raftAppliedIndex: number;
  revision: number;
  isLearner: boolean;
  errors: string[];
}

export interface KVClusterClient {
  /**
   * The membership, linearizable by default (what the leader has committed). A serializable list is one
   * member's own view, possibly stale: good for reporting, never for deciding a change.
   */
  memberList(opts?: { linearizable?: boolean }): Promise<MemberList>;
  addLearner(peerURL: string): Promise<{ member: Member; members: Member[] }>;
  promote(id: string): Promise<void>;
  remove(id: string): Promise<void>;
  status(endpoint: string): Promise<EndpointStatus>;
  /** Asks `leaderEndpoint` (which must be the leader) to hand leadership to member `to`. */
  moveLeader(leaderEndpoint: string, to: string): Promise<void>;
  close(): void;
}

export const NO_LEADER = '0000000000000000';
/** Every request's deadline. */
const REQUEST_TIMEOUT_MS = 5_000;
const DIAL_TIMEOUT_MS = 3_000;

function options(hosts: string[]): IOptions {
  return {
    hosts,
    dialTimeout: DIAL_TIMEOUT_MS,
    faultHandling: { global: noop, host: () => noop },
  };
}

const deadline = (): { deadline: Date } => ({ deadline: new Date(Date.now() + REQUEST_TIMEOUT_MS) });

function toMember(m: {
  ID: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}): Member {
  return {
    id: hexId(m.ID),
    name: m.name,
    peerURLs: m.peerURLs,
    clientURLs: m.clientURLs,
    isLearner: m.isLearner,
  };
}

/**
 * Whether a cluster-wide call that failed on one member certainly did nothing, so another member may be
 * asked: a learner refuses it before proposing anything, a member that cannot be reached never saw it. A
 * timeout is not such an error — the change may have been applied — so it is never retried elsewhere.
 */
function triedNothing(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  return /not supported for learner|ECONNREFUSED|No connection established|EHOSTUNREACH|ENOTFOUND/.test(
    message,
  );
}

export class Etcd3ClusterClient implements KVClusterClient {
  private readonly perEndpoint = new Map<string, Etcd3>();

  /** `endpoints`: every member the caller can reach; cluster-wide calls go to the first that serves them. */
  constructor(private readonly endpoints: string[]) {
    if (endpoints.length === 0) throw new Error('no endpoints');
  }

  /** Runs a cluster-wide call on the members in turn until one serves it (see triedNothing). */
  private async anyMember<T>(call: (c: Etcd3) => Promise<T>, readOnly: boolean): Promise<T> {
    let last: unknown;
    for (const endpoint of this.endpoints) {
      try {
        return await call(this.endpoint(endpoint));
      } catch (err) {
        last = err;
        if (!readOnly && !triedNothing(err)) throw err;
      }
    }
    throw last;
  }

  async memberList(opts: { linearizable?: boolean } = {}): Promise<MemberList> {
    const linearizable = opts.linearizable ?? true;
    const res = await this.anyMember((c) => c.cluster.memberList({ linearizable }, deadline()), true);
    return { clusterId: hexId(res.header.cluster_id), members: res.members.map(toMember) };
  }

  async addLearner(peerURL: string): Promise<{ member: Member; members: Member[] }> {
    const res = await this.anyMember(
      (c) => c.cluster.memberAdd({ peerURLs: [peerURL], isLearner: true }, deadline()),
      false,
    );
    return { member: toMember(res.member), members: res.members.map(toMember) };
  }

  async promote(id: string): Promise<void> {
    await this.anyMember((c) => c.cluster.memberPromote({ ID: decimalId(id) }, deadline()), false);
  }

  async remove(id: string): Promise<void> {
    await this.anyMember((c) => c.cluster.memberRemove({ ID: decimalId(id) }, deadline()), false);
  }

  async status(endpoint: string): Promise<EndpointStatus> {
    const res = await this.endpoint(endpoint).maintenance.status(deadline());
    return {
      endpoint,
      memberId: hexId(res.header.member_id),
      clusterId: hexId(res.header.cluster_id),
      leader: hexId(res.leader),
      version: res.version,
      dbSize: Number(res.dbSize),
      raftTerm: Number(res.raftTerm),
      raftIndex: Number(res.raftIndex),
      raftAppliedIndex: Number(res.raftAppliedIndex),
      revision: Number(res.header.revision),
      isLearner: res.isLearner,
      errors: res.errors,
    };
  }

  async moveLeader(leaderEndpoint: string, to: string): Promise<void> {
    await this.endpoint(leaderEndpoint).maintenance.moveLeader({ targetID: decimalId(to) }, deadline());
  }

  close(): void {
    for (const c of this.perEndpoint.values()) c.close();
    this.perEndpoint.clear();
  }

  private endpoint(url: string): Etcd3 {
    let c = this.perEndpoint.get(url);
    if (c === undefined) {
      c = new Etcd3(options([url]));
      this.perEndpoint.set(url, c);
    }
    return c;
  }
}
