import type { Logger } from 'winston';
import { EtcdError } from '../errors.js';
import type {
  Member as PbMember,
  MemberAddRequest,
  MemberAddResponse,
  MemberListResponse,
  MemberPromoteRequest,
  MemberPromoteResponse,
  MemberRemoveRequest,
  MemberRemoveResponse,
  MemberUpdateRequest,
  MemberUpdateResponse,
  MoveLeaderRequest,
  MoveLeaderResponse,
  ResponseHeader,
} from '../proto/gen/etcdserverpb/rpc.js';
import type { Progress } from '../raft/tracker/progress.js';
import { idHex as hex } from '../transport/ids.js';
import { ConfChangeType, NONE, type ConfChange } from '../raftpb/types.js';
import type { ServerConfig } from './config.js';
import { encodeMember } from './membership/backend-store.js';
import type { RaftCluster } from './membership/cluster.js';
import { parseMemberUrls } from './membership/conf-change.js';
import { computeMemberId, type Member } from './membership/member.js';

/** etcd's HealthInterval: how long peers must have been connected before a membership change. */
const HEALTH_INTERVAL_MS = 5000;

/** etcd's readyPercent: a learner may be promoted once its log matches 90% of the leader's. */
const LEARNER_READY_PERCENT = 0.9;

/** What the membership operations need from the member (EtcdServer provides it). */
export interface MembershipOpsDeps {
  readonly cluster: RaftCluster;
  readonly config: ServerConfig;
  readonly memberId: bigint;
  readonly logger: Logger;
  readonly requestTimeoutMs: number;
  checkRunning(): void;
  isLeader(): boolean;
  /** The leader's id (0: none known). */
  leader(): bigint;
  header(rev: number): ResponseHeader;
  readRev(): number;
  nextId(): bigint;
  /** Registers `id`, runs `propose`, and waits until the entry is applied (or fails as proposals do). */
  proposeAndWait(id: bigint, propose: () => void): Promise<unknown>;
  proposeConfChange(cc: ConfChange): void;
  transferLeader(to: bigint): void;
  /** The leader's view of every member's replication (undefined on a follower). */
  progress(): Map<bigint, Progress> | undefined;
  linearizableRead(): Promise<void>;
  /** When the peer stream to `id` became active (ms epoch); undefined while it is not. */
  activeSince(id: bigint): number | undefined;
  /** Calls the leader's peer API. */
  callLeader(path: string, body: unknown): Promise<unknown>;
}

/**
 * The Cluster service and MoveLeader (etcd's cluster server and MoveLeader): membership changes are
 * checked here first (URLs, etcd's strict reconfiguration rules, learner readiness), then proposed as
 * conf changes and answered once applied; every member validates them again when applying.
 */
export class MembershipOps {
  constructor(private readonly d: MembershipOpsDeps) {}

  private toPbMember(m: Member): PbMember {
    return {
      ID: m.id,
      name: m.name,
      peerURLs: [...m.peerURLs],
      clientURLs: [...m.clientURLs],
      isLearner: m.isLearner,
    };
  }

  /** The members, as Cluster headers carry them (no revision, as etcd). */
  members(): PbMember[] {
    return this.d.cluster.members().map((m) => this.toPbMember(m));
  }

  /** Voters (this member counts as connected) whose peer stream has been up since `since` (ms epoch). */
  private connectedSince(since: number, ids: bigint[]): number {
    let n = 0;
    for (const id of ids) {
      if (id === this.d.memberId) n++;
      else {
        const t = this.d.activeSince(id);
        if (t !== undefined && t <= since) n++;
      }
    }
    return n;
  }

  private connectedFullySince(since: number): boolean {
    const voters = this.d.cluster.voters().map((v) => v.id);
    return this.connectedSince(since, voters) === voters.length;
  }

  private clusterHeader(): ResponseHeader {
    return { ...this.d.header(0), revision: 0n };
  }

  /** MemberList is linearizable (etcd 3.5+): it reflects every change applied before it was asked. */
  async memberList(linearizable: boolean): Promise<MemberListResponse> {
    this.d.checkRunning();
    if (linearizable) await this.d.linearizableRead();
    return { header: this.clusterHeader(), members: this.members() };
  }

  async memberAdd(r: MemberAddRequest): Promise<MemberAddResponse> {
    this.d.checkRunning();
    const peerURLs = parseMemberUrls(r.peerURLs);
    const member: Member = {
      id: computeMemberId(peerURLs, '', Date.now() / 1000),
      name: '',
      peerURLs,
      clientURLs: [],
      isLearner: r.isLearner,
    };
    if (this.d.config.strictReconfigCheck) {
      if (!r.isLearner && !this.d.cluster.isReadyToAddVoter())
        throw new EtcdError('ErrMemberNotEnoughStarted');
      // etcd: the leader must have been connected to every voter for a while before the cluster grows.
      if (!this.connectedFullySince(Date.now() - HEALTH_INTERVAL_MS)) throw new EtcdError('ErrUnhealthy');
    }
    this.d.cluster.validate({ type: 'add', member });
    await this.proposeConfChange({
      type: r.isLearner ? ConfChangeType.ConfChangeAddLearnerNode : ConfChangeType.ConfChangeAddNode,
      nodeId: member.id,
      context: encodeMember(member),
      id: this.d.nextId(),
    });
    return { header: this.clusterHeader(), member: this.toPbMember(member), members: this.members() };
  }

  async memberRemove(r: MemberRemoveRequest): Promise<MemberRemoveResponse> {
    this.d.checkRunning();
    this.d.cluster.validate({ type: 'remove', id: r.ID });
    const m = this.d.cluster.member(r.ID);
    if (this.d.config.strictReconfigCheck && m !== undefined && !m.isLearner) {
      if (!this.d.cluster.isReadyToRemoveVoter(r.ID)) throw new EtcdError('ErrMemberNotEnoughStarted');
      // A member that is down is not part of the active quorum: removing it is always safe. Otherwise
      // the voters left must still hold a quorum of members this one has been connected to (etcd).
      const down = r.ID !== this.d.memberId && this.d.activeSince(r.ID) === undefined;
      if (!down) {
        const voters = this.d.cluster.voters();
        const active = this.connectedSince(
          Date.now() - HEALTH_INTERVAL_MS,
          voters.map((v) => v.id),
        );
        if (active - 1 < 1 + Math.floor((voters.length - 1) / 2)) throw new EtcdError('ErrUnhealthy');
      }
    }
    await this.proposeConfChange({
      type: ConfChangeType.ConfChangeRemoveNode,
      nodeId: r.ID,
      context: new Uint8Array(0),
      id: this.d.nextId(),
    });
    return { header: this.clusterHeader(), members: this.members() };
  }

  async memberUpdate(r: MemberUpdateRequest): Promise<MemberUpdateResponse> {
    this.d.checkRunning();
    const peerURLs = parseMemberUrls(r.peerURLs);
    this.d.cluster.validate({ type: 'update', id: r.ID, peerURLs });
    const current = this.d.cluster.member(r.ID)!;
    await this.proposeConfChange({
      type: ConfChangeType.ConfChangeUpdateNode,
      nodeId: r.ID,
      context: encodeMember({ ...current, peerURLs }),
      id: this.d.nextId(),
    });
    return { header: this.clusterHeader(), members: this.members() };
  }

  /**
   * MemberPromote: only the leader knows how far a learner has replicated, so a follower forwards the
   * request to it (etcd does the same over the peer API). Refused unless the learner's log matches at
   * least 90% of the leader's.
   */
  async memberPromote(r: MemberPromoteRequest): Promise<MemberPromoteResponse> {
    this.d.checkRunning();
    if (!this.d.isLeader()) {
      const leader = this.d.cluster.member(this.d.leader());
      if (this.d.leader() === NONE || leader === undefined) throw new EtcdError('ErrNoLeader');
      await this.d.callLeader(`/members/promote/${hex(r.ID)}`, undefined);
      if (!this.d.isLeader()) await this.d.linearizableRead().catch(() => undefined);
      return { header: this.clusterHeader(), members: this.members() };
    }
    await this.promoteOnLeader(r.ID);
    return { header: this.clusterHeader(), members: this.members() };
  }

  async promoteOnLeader(id: bigint): Promise<void> {
    this.d.cluster.validate({ type: 'promote', id });
    if (this.d.config.strictReconfigCheck && !this.d.cluster.isReadyToPromote()) {
      throw new EtcdError('ErrMemberNotEnoughStarted');
    }
    const progress = this.d.progress();
    const leaderMatch = progress?.get(this.d.memberId)?.match ?? 0;
    const learnerMatch = progress?.get(id)?.match ?? 0;
    if (learnerMatch < leaderMatch * LEARNER_READY_PERCENT) throw new EtcdError('ErrLearnerNotReady');
    const m = this.d.cluster.member(id)!;
    await this.proposeConfChange({
      type: ConfChangeType.ConfChangeAddNode,
      nodeId: id,
      context: encodeMember({ ...m, isLearner: false }, { isPromote: true }),
      id: this.d.nextId(),
    });
  }

  private async proposeConfChange(cc: ConfChange): Promise<void> {
    await this.d.proposeAndWait(cc.id, () => this.d.proposeConfChange(cc));
  }

  /**
   * Maintenance MoveLeader: only the leader may hand leadership over, and only to a voter. etcd 3.4
   * answers with an empty response (no header).
   */
  async moveLeader(r: MoveLeaderRequest): Promise<MoveLeaderResponse> {
    this.d.checkRunning();
    if (!this.d.isLeader()) throw new EtcdError('ErrNotLeader');
    const target = this.d.cluster.member(r.targetID);
    if (target === undefined || target.isLearner) throw new EtcdError('ErrBadLeaderTransferee');
    if (r.targetID === this.d.memberId) return { header: undefined };
    this.d.logger.info('leadership transfer starting', {
      from: hex(this.d.memberId),
      to: hex(r.targetID),
    });
    this.d.transferLeader(r.targetID);
    const deadline = Date.now() + this.d.requestTimeoutMs;
    while (this.d.leader() !== r.targetID) {
      if (Date.now() > deadline) throw new EtcdError('ErrTimeoutLeaderTransfer');
      this.d.checkRunning();
      await sleep(this.d.config.heartbeatMs);
    }
    this.d.logger.info('leadership transfer finished', { to: hex(r.targetID) });
    return { header: undefined };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
