import { isRaftError } from '../../server/src/raft/errors.js';
import { StateType } from '../../server/src/raft/ready.js';
import {
  ConfChangeTransition,
  ConfChangeType,
  emptyBytes,
  type ConfChangeSingle,
  type ConfChangeV2,
  type ConfState,
} from '../../server/src/raftpb/types.js';
import { describeConfChange } from './describe.js';
import type { Member } from './member.js';
import type { Simulator } from './simulator.js';

/** Voters and members overall, at most (keeps every seed's cluster small enough to converge fast). */
const VOTERS_MAX = 6;
const VOTERS_MIN = 3;
const MEMBERS_MAX = 8;

/**
 * Membership churn, one change at a time like etcd's server (and as raft requires: a leader refuses a
 * conf change while one is pending). Changes are chosen from the leader's own applied configuration and
 * proposed at the leader: add a learner, promote it, add or remove a voter, remove a learner, demote a
 * voter, and joint changes (ConfChangeV2 with several changes, thesis §4.3) with every transition; an
 * explicit joint config is left by an empty ConfChangeV2.
 *
 * The "operator" side: when a change is first applied anywhere (so it is committed), members it adds are
 * started with an empty disk (they catch up by snapshot) and members no longer in the configuration at
 * all are stopped for good.
 */
export class Membership {
  /** The configuration of the highest conf-change index applied anywhere. */
  latest: ConfState;
  private latestIndex = 1;
  private nextId: bigint;
  private pendingSince: number | undefined;
  private readonly toStart: bigint[] = [];
  private readonly toRemove: bigint[] = [];

  constructor(
    private readonly sim: Simulator,
    boot: ConfState,
    firstNewId: bigint,
  ) {
    this.latest = boot;
    this.nextId = firstNewId;
  }

  private get timeout(): number {
    return this.sim.o.electionTicks * this.sim.o.tickIntervalTime * 3;
  }

  /** A member applied the conf change at `index`, giving `cs`. */
  onApplied(index: number, cs: ConfState): void {
    if (index <= this.latestIndex) return;
    this.latestIndex = index;
    this.latest = cs;
    this.pendingSince = undefined;
    this.sim.stats.confChanges++;
    const all = new Set([...cs.voters, ...cs.votersOutgoing, ...cs.learners, ...cs.learnersNext]);
    for (const id of all) if (!this.sim.members.has(id)) this.toStart.push(id);
    for (const m of this.sim.members.values()) if (!all.has(m.id) && !m.removed) this.toRemove.push(m.id);
    this.sim.log(`membership: committed at ${index}: ${describeConfState(cs)}`);
  }

  /** Starts and stops members as decided by onApplied (after the step that applied the change). */
  applyPending(): void {
    for (let id = this.toStart.shift(); id !== undefined; id = this.toStart.shift()) {
      this.sim.log(`membership: start new member n${id} (empty disk)`);
      this.sim.addMember(id, undefined);
    }
    for (let id = this.toRemove.shift(); id !== undefined; id = this.toRemove.shift()) {
      const m = this.sim.members.get(id);
      if (m === undefined || m.removed) continue;
      this.sim.log(`membership: stop removed member ${m.name}`);
      if (m.up) this.sim.crashMember(m);
      m.remove();
    }
  }

  private leaderWithConfig():
    { leader: Member; cfg: ReturnType<NonNullable<Member['node']>['status']>['config'] } | undefined {
    const leader = this.sim.leader();
    if (leader?.node === undefined) return undefined;
    const st = leader.node.status();
    if (st.softState.raftState !== StateType.StateLeader) return undefined;
    return { leader, cfg: st.config };
  }

  maybeAct(): void {
    const { sim } = this;
    if (!sim.rng.chance(sim.o.confChangeProbability)) return;
    if (this.pendingSince !== undefined && sim.now - this.pendingSince < this.timeout) return;
    this.pendingSince = undefined;
    const lc = this.leaderWithConfig();
    if (lc === undefined) return;
    if (lc.cfg.voters.isJoint) {
      if (!lc.cfg.autoLeave) this.propose(lc.leader, leaveJoint());
      return;
    }
    const cc = this.choose([...lc.cfg.voters.incoming.voters], [...lc.cfg.learners]);
    if (cc === undefined) return;
    // Mostly at the leader; sometimes at another member, so the change travels as a forwarded MsgProp.
    const active = sim.activeMembers();
    const at = sim.rng.chance(0.3) && active.length > 0 ? active[sim.rng.intn(active.length)]! : lc.leader;
    this.propose(at, cc);
  }

  /** Liveness phase: no churn, but an explicit joint configuration must still be left. */
  finishJoint(): void {
    if (this.pendingSince !== undefined && this.sim.now - this.pendingSince < this.timeout) return;
    const lc = this.leaderWithConfig();
    if (lc !== undefined && lc.cfg.voters.isJoint && !lc.cfg.autoLeave) this.propose(lc.leader, leaveJoint());
  }

  private propose(at: Member, cc: ConfChangeV2): void {
    try {
      at.node!.proposeConfChange(cc);
    } catch (e) {
      if (!isRaftError(e, 'ErrProposalDropped')) throw e;
      this.sim.log(`${at.name} propose conf change ${describeConfChange(cc)}: dropped`);
      return;
    }
    this.sim.log(`${at.name} propose conf change ${describeConfChange(cc)}`);
    this.pendingSince = this.sim.now;
    this.sim.drive(at);
  }

  private choose(voters: bigint[], learners: bigint[]): ConfChangeV2 | undefined {
    const rng = this.sim.rng;
    const pick = (xs: bigint[]): bigint => xs[rng.intn(xs.length)]!;
    const fresh = (): bigint => this.nextId++;
    const single = (type: ConfChangeType, nodeId: bigint): ConfChangeSingle => ({ type, nodeId });
    const total = voters.length + learners.length;
    const options: (() => ConfChangeSingle[])[] = [];
    if (total < MEMBERS_MAX) options.push(() => [single(ConfChangeType.ConfChangeAddLearnerNode, fresh())]);
    if (total < MEMBERS_MAX && voters.length < VOTERS_MAX) {
      options.push(() => [single(ConfChangeType.ConfChangeAddNode, fresh())]);
    }
    if (learners.length > 0 && voters.length < VOTERS_MAX) {
      options.push(() => [single(ConfChangeType.ConfChangeAddNode, pick(learners))]);
    }
    if (learners.length > 0)
      options.push(() => [single(ConfChangeType.ConfChangeRemoveNode, pick(learners))]);
    if (voters.length > VOTERS_MIN) {
      options.push(() => [single(ConfChangeType.ConfChangeRemoveNode, pick(voters))]);
      options.push(() => [single(ConfChangeType.ConfChangeAddLearnerNode, pick(voters))]);
    }
    if (total < MEMBERS_MAX) {
      // Replace a voter: joint consensus keeps a majority of both the old and the new voters.
      options.push(() => [
        single(ConfChangeType.ConfChangeAddNode, fresh()),
        single(ConfChangeType.ConfChangeRemoveNode, pick(voters)),
      ]);
    }
    if (learners.length > 0) {
      // Swap roles: promote a learner and demote a voter at once (the voter goes to learnersNext).
      options.push(() => [
        single(ConfChangeType.ConfChangeAddNode, pick(learners)),
        single(ConfChangeType.ConfChangeAddLearnerNode, pick(voters)),
      ]);
    }
    if (options.length === 0) return undefined;
    const changes = options[rng.intn(options.length)]!();
    const r = rng.intn(10);
    const transition =
      r < 6
        ? ConfChangeTransition.ConfChangeTransitionAuto
        : r < 8
          ? ConfChangeTransition.ConfChangeTransitionJointImplicit
          : ConfChangeTransition.ConfChangeTransitionJointExplicit;
    return { transition, changes, context: emptyBytes() };
  }
}

function leaveJoint(): ConfChangeV2 {
  return { transition: ConfChangeTransition.ConfChangeTransitionAuto, changes: [], context: emptyBytes() };
}

export function describeConfState(cs: ConfState): string {
  let s = `voters=(${cs.voters.join(' ')})`;
  if (cs.votersOutgoing.length > 0) s += `&&(${cs.votersOutgoing.join(' ')})`;
  if (cs.learners.length > 0) s += ` learners=(${cs.learners.join(' ')})`;
  if (cs.learnersNext.length > 0) s += ` learnersNext=(${cs.learnersNext.join(' ')})`;
  if (cs.autoLeave) s += ' autoleave';
  return s;
}
