import { StateType } from '../../server/src/raft/ready.js';
import type { Member } from './member.js';
import type { Simulator } from './simulator.js';

/**
 * The fault injector of the safety phase: crashes and restarts members, partitions the network
 * (symmetric split, asymmetric one-way cut, isolate one member) and heals it, and asks leaders to hand
 * over leadership. Crashes stay within the fault budget of the latest configuration: at most a minority
 * of each voter half is down at once, so the cluster can keep making progress.
 */
export class Nemesis {
  /** When the current partitions heal. Long ones (several election timeouts) let a new leader commit. */
  private healAt = 0;

  constructor(private readonly sim: Simulator) {}

  maybeAct(): void {
    const { sim } = this;
    const o = sim.o;
    if (sim.rng.chance(o.crashProbability)) this.crashOne();
    if (sim.rng.chance(o.restartProbability)) this.restartOne();
    if (sim.rng.chance(o.partitionProbability)) this.partition();
    if (sim.network.partitioned && sim.now >= this.healAt) {
      sim.network.healPartitions();
      sim.log('network: heal partitions');
    }
    if (sim.rng.chance(o.transferLeaderProbability)) this.transferLeader();
    if (sim.rng.chance(o.pauseProbability)) this.pauseOne();
    if (sim.rng.chance(o.campaignProbability)) this.campaignOne();
  }

  /** Stops one member for up to three election timeouts (a stale leader wakes up still "leading"). */
  private pauseOne(): void {
    const { sim } = this;
    const m = this.pick(sim.activeMembers());
    if (m === undefined) return;
    const d = 1 + sim.rng.intn(sim.o.electionTicks * sim.o.tickIntervalTime * 3);
    m.pausedUntil = sim.now + d;
    sim.log(`${m.name} PAUSE for ${d}`);
  }

  private campaignOne(): void {
    const m = this.pick(this.sim.activeMembers());
    if (m?.node === undefined) return;
    this.sim.log(`${m.name} campaign`);
    m.node.campaign();
    this.sim.drive(m);
  }

  private pick<T>(xs: readonly T[]): T | undefined {
    return xs.length === 0 ? undefined : xs[this.sim.rng.intn(xs.length)];
  }

  /** Whether one more member down keeps a majority of each voter half up. */
  private withinBudget(extra: bigint): boolean {
    const cs = this.sim.membership.latest;
    const down = (ids: readonly bigint[]): number =>
      ids.filter((id) => id === extra || this.sim.members.get(id)?.up !== true).length;
    const ok = (ids: readonly bigint[]): boolean => ids.length === 0 || down(ids) <= (ids.length - 1) >> 1;
    return ok(cs.voters) && ok(cs.votersOutgoing);
  }

  private crashOne(): void {
    // A third of the crashes hit the leader: leader changes in quick succession are where the subtle
    // cases live (an entry of an old term replicated again by a later leader, Figure 3.7).
    const leader = this.sim.rng.chance(0.3) ? this.sim.leader() : undefined;
    const victim = leader ?? this.pick(this.sim.upMembers());
    if (victim === undefined || !this.withinBudget(victim.id)) return;
    this.sim.stats.crashes++;
    this.sim.crashMember(victim);
  }

  private restartOne(): void {
    const down = [...this.sim.members.values()].filter((m) => !m.up && !m.removed);
    const m = this.pick(down);
    if (m !== undefined) this.sim.startMember(m);
  }

  private partition(): void {
    const { sim } = this;
    const ids = [...sim.members.values()].filter((m) => !m.removed).map((m) => m.id);
    if (ids.length < 2) return;
    sim.stats.partitions++;
    const electionTimeout = sim.o.electionTicks * sim.o.tickIntervalTime;
    const until = sim.now + 1 + sim.rng.intn(sim.o.partitionElectionTimeoutsMax * electionTimeout);
    this.healAt = Math.max(this.healAt, until);
    const kind = sim.rng.intn(4);
    if (kind === 0 || kind === 3) {
      // Isolating the leader is the classic way to get a stale leader (and stale reads, if ReadIndex
      // skipped its heartbeat round).
      const id = kind === 3 ? (sim.leader()?.id ?? this.pick(ids)!) : this.pick(ids)!;
      sim.network.isolate(id, ids);
      sim.log(`network: isolate n${id}${kind === 3 ? ' (the leader)' : ''}`);
      return;
    }
    const a: bigint[] = [];
    const b: bigint[] = [];
    for (const id of ids) (sim.rng.chance(0.5) ? a : b).push(id);
    if (a.length === 0 || b.length === 0) return;
    const symmetric = kind === 1;
    sim.network.partition(a, b, symmetric);
    sim.log(
      `network: ${symmetric ? 'symmetric' : 'one-way'} partition ${a.join(',')} ${symmetric ? '|' : '>|'} ${b.join(',')}`,
    );
  }

  private transferLeader(): void {
    const { sim } = this;
    const leader = sim.leader();
    if (leader?.node === undefined) return;
    const st = leader.node.status();
    if (st.softState.raftState !== StateType.StateLeader) return;
    // Mostly to another voter; sometimes to a learner or to itself, which the core must refuse.
    const voters = [...st.config.voters.ids()].filter((id) => id !== leader.id);
    const odd = [leader.id, ...st.config.learners];
    const to = this.pick(sim.rng.chance(0.1) ? odd : voters);
    if (to === undefined) return;
    sim.log(`${leader.name} transfer leadership to n${to}`);
    leader.node.transferLeader(to);
    sim.drive(leader);
  }

  /** Liveness phase: every member that is not removed comes back up, the network is reliable. */
  healEverything(): void {
    const { sim } = this;
    sim.network.healAll();
    sim.log('network: heal all (no more drops, duplicates, partitions)');
    if (sim.o.mutation === 'network-never-heals') {
      const ids = [...sim.members.keys()];
      for (const id of ids) sim.network.isolate(id, ids);
      sim.log('network: MUTATION: every link cut');
    }
    for (const m of [...sim.members.values()] as Member[]) {
      m.pausedUntil = 0;
      if (!m.up && !m.removed) sim.startMember(m);
    }
  }
}
