import { EtcdError } from '../../errors.js';
import { cloneMember, type Member } from './member.js';

/** A membership change as it travels through the log (it rides on a Raft conf change). */
export type MembershipChange =
  | { readonly type: 'add'; readonly member: Member }
  | { readonly type: 'remove'; readonly id: bigint }
  | { readonly type: 'promote'; readonly id: bigint }
  | { readonly type: 'update'; readonly id: bigint; readonly peerURLs: string[] };

/**
 * The cluster's members as every member agrees on them (etcd membership.RaftCluster): changed only
 * by applying committed conf changes, so all members see the same sequence. Removed ids are kept
 * forever: a removed member must never come back under its old id.
 */
export class RaftCluster {
  private readonly byId = new Map<bigint, Member>();
  private readonly removedIds = new Set<bigint>();

  constructor(
    readonly clusterId: bigint,
    members: Member[],
    removed: Iterable<bigint> = [],
    /** Learners allowed at once (etcd --max-learners, default 1). */
    readonly maxLearners = 1,
  ) {
    for (const m of members) this.byId.set(m.id, cloneMember(m));
    for (const id of removed) this.removedIds.add(id);
  }

  /** Replaces the whole membership (a snapshot from the leader brought it). */
  replace(members: Member[], removed: Iterable<bigint>): void {
    this.byId.clear();
    this.removedIds.clear();
    for (const m of members) this.byId.set(m.id, cloneMember(m));
    for (const id of removed) this.removedIds.add(id);
  }

  /** Whether `id` is a learner (no copy: asked on every client request). */
  isLearner(id: bigint): boolean {
    return this.byId.get(id)?.isLearner ?? false;
  }

  member(id: bigint): Member | undefined {
    const m = this.byId.get(id);
    return m === undefined ? undefined : cloneMember(m);
  }

  /** All members, ascending by id. */
  members(): Member[] {
    return [...this.byId.values()].sort(compareMembers).map(cloneMember);
  }

  voters(): Member[] {
    return this.members().filter((m) => !m.isLearner);
  }

  learners(): Member[] {
    return this.members().filter((m) => m.isLearner);
  }

  isRemoved(id: bigint): boolean {
    return this.removedIds.has(id);
  }

  removed(): bigint[] {
    return [...this.removedIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /**
   * Checks a change against the current membership; throws the EtcdError the Cluster service answers
   * with (etcd ValidateConfigurationChange + togRPCError).
   */
  validate(change: MembershipChange): void {
    switch (change.type) {
      case 'add': {
        const { member } = change;
        if (this.removedIds.has(member.id))
          throw new EtcdError('ErrMemberNotFound', 'membership: ID removed');
        if (this.byId.has(member.id)) throw new EtcdError('ErrMemberExist', 'membership: ID exists');
        this.checkUrlsFree(member.peerURLs, member.id);
        if (member.isLearner && this.learners().length >= this.maxLearners) {
          throw new EtcdError('ErrTooManyLearners', 'membership: too many learner members in cluster');
        }
        return;
      }
      case 'remove':
        this.mustExist(change.id);
        return;
      case 'promote': {
        const m = this.mustExist(change.id);
        if (!m.isLearner) {
          throw new EtcdError('ErrMemberNotLearner', 'membership: can only promote a learner member');
        }
        return;
      }
      case 'update':
        this.mustExist(change.id);
        this.checkUrlsFree(change.peerURLs, change.id);
        return;
    }
  }

  /** Applies a validated change. Applying is deterministic: every member ends in the same state. */
  apply(change: MembershipChange): void {
    this.validate(change);
    switch (change.type) {
      case 'add':
        this.byId.set(change.member.id, cloneMember(change.member));
        return;
      case 'remove':
        this.byId.delete(change.id);
        this.removedIds.add(change.id);
        return;
      case 'promote':
        this.mustExist(change.id).isLearner = false;
        return;
      case 'update':
        this.mustExist(change.id).peerURLs = [...change.peerURLs].sort();
        return;
    }
  }

  /** A member publishes its name and client URLs once it has started (etcd publishV3). */
  setAttributes(id: bigint, name: string, clientURLs: string[]): void {
    const m = this.byId.get(id);
    if (m === undefined) return;
    m.name = name;
    m.clientURLs = [...clientURLs];
  }

  /**
   * etcd's strict reconfiguration check for adding a voter: after the change, the started voters
   * (those that published a name) must still be a quorum. Adding the second member of a one-member
   * cluster is allowed (restoring a cluster from one member).
   */
  isReadyToAddVoter(): boolean {
    const voters = this.voters();
    const members = voters.length + 1;
    const started = voters.filter((m) => m.name !== '').length;
    if (started === 1 && members === 2) return true;
    return started >= quorum(members);
  }

  /** After removing `id`, the remaining started voters must be a quorum of the remaining voters. */
  isReadyToRemoveVoter(id: bigint): boolean {
    const rest = this.voters().filter((m) => m.id !== id);
    const started = rest.filter((m) => m.name !== '').length;
    return started >= quorum(rest.length);
  }

  /**
   * Promoting a learner adds a voter: the started voters must be a quorum of the larger set. The learner
   * counts as started (etcd's IsReadyToPromoteMember: it answers, or it could not have caught up), so a
   * one-voter cluster can promote its first learner.
   */
  isReadyToPromote(): boolean {
    const voters = this.voters();
    const started = voters.filter((m) => m.name !== '').length + 1;
    return started >= quorum(voters.length + 1);
  }

  private mustExist(id: bigint): Member {
    if (this.removedIds.has(id)) throw new EtcdError('ErrMemberNotFound', 'membership: ID removed');
    const m = this.byId.get(id);
    if (m === undefined) throw new EtcdError('ErrMemberNotFound', 'membership: ID not found');
    return m;
  }

  private checkUrlsFree(peerURLs: string[], self: bigint): void {
    for (const m of this.byId.values()) {
      if (m.id === self) continue;
      if (m.peerURLs.some((u) => peerURLs.includes(u))) {
        throw new EtcdError('ErrPeerURLExist', 'membership: peerURL exists');
      }
    }
  }
}

function quorum(n: number): number {
  return Math.floor(n / 2) + 1;
}

function compareMembers(a: Member, b: Member): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
