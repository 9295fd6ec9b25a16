import { StateType } from '../../server/src/raft/ready.js';
import type { Prng } from '../../server/src/raft/rng.js';
import type { ConfState, Message, Snapshot } from '../../server/src/raftpb/types.js';
import { assert } from '../../server/src/util/assert.js';
import { AppState } from './app-state.js';
import { AckedWrites } from './checkers/acked-writes.js';
import { AppliedState } from './checkers/applied-state.js';
import { CommittedLog } from './checkers/committed-log.js';
import { ElectionSafety } from './checkers/election-safety.js';
import { LogMatching } from './checkers/log-matching.js';
import { ReadLinearizability } from './checkers/read-linearizability.js';
import { SimDisk } from './disk.js';
import { EventQueue } from './event-queue.js';
import { Member } from './member.js';
import { Membership } from './membership.js';
import { Nemesis } from './nemesis.js';
import { Network } from './network.js';
import { describeOptions, type SimOptions } from './options.js';
import { ReadyLoop } from './ready-loop.js';
import { emptyStats, type Stats } from './stats.js';
import { Trace } from './trace.js';
import { Transport } from './transport.js';
import { Workload } from './workload.js';

export type SimEvent =
  | { kind: 'tick'; id: bigint; incarnation: number }
  | { kind: 'deliver'; m: Message }
  | { kind: 'fsync'; id: bigint; incarnation: number }
  | { kind: 'snap-status'; leader: bigint; incarnation: number; to: bigint; ok: boolean }
  | { kind: 'unreachable'; from: bigint; incarnation: number; to: bigint }
  | { kind: 'workload' };

export type Phase = 'safety' | 'liveness';

/** Events pending at once, at most (each member has a handful; messages dominate). */
const EVENTS_MAX = 1_000_000;
/** Steps between the whole-log comparisons (the incremental checks run on every step). */
const FULL_CHECK_INTERVAL_STEPS = 64;
const TRACE_RECENT_LINES = 60;

/**
 * The deterministic simulation of one cluster for one seed: members, the simulated network, disks and
 * clock (an event queue), the workload and the fault injector, with the checkers run as events happen.
 * Everything random comes from `rng` (and the members' forks of it), so a seed replays exactly.
 * The per-member Ready loop is in ready-loop.ts, the transport in transport.ts.
 */
export class Simulator {
  readonly queue = new EventQueue<SimEvent>(EVENTS_MAX);
  readonly members = new Map<bigint, Member>();
  readonly network: Network;
  readonly trace: Trace;
  readonly stats: Stats = emptyStats();
  readonly electionSafety = new ElectionSafety();
  readonly logMatching = new LogMatching();
  readonly committed = new CommittedLog();
  readonly appliedState = new AppliedState();
  readonly reads = new ReadLinearizability();
  readonly ackedWrites = new AckedWrites();
  readonly workload: Workload;
  readonly membership: Membership;
  readonly nemesis: Nemesis;
  phase: Phase = 'safety';
  readonly readyLoop = new ReadyLoop(this);
  readonly transport = new Transport(this);

  constructor(
    readonly o: SimOptions,
    readonly rng: Prng,
    sink: ((line: string) => void) | undefined,
  ) {
    this.trace = new Trace(TRACE_RECENT_LINES, sink);
    this.log(`SEED=${o.seed} ${describeOptions(o)}`);
    this.network = new Network(rng.fork(), {
      delayMinTime: o.messageDelayMinTime,
      delayMaxTime: o.messageDelayMaxTime,
      dropProbability: o.messageDropProbability,
      duplicateProbability: o.messageDuplicateProbability,
      reorderProbability: o.messageReorderProbability,
    });
    const voters: bigint[] = [];
    const learners: bigint[] = [];
    for (let i = 1; i <= o.voters; i++) voters.push(BigInt(i));
    for (let i = 1; i <= o.learners; i++) learners.push(BigInt(o.voters + i));
    const confState: ConfState = { voters, learners, votersOutgoing: [], learnersNext: [], autoLeave: false };
    this.membership = new Membership(this, confState, BigInt(o.voters + o.learners + 1));
    this.workload = new Workload(this);
    this.nemesis = new Nemesis(this);
    // Bootstrap (as the brief defines it): every initial member starts from the same snapshot at 1/1.
    const app = new AppState(confState);
    app.appliedIndex = 1;
    const boot: Snapshot = { data: app.encode(), metadata: { index: 1, term: 1, confState } };
    this.appliedState.observe(1, app.hash, 'bootstrap');
    for (const id of [...voters, ...learners]) this.addMember(id, boot);
    this.queue.schedule(o.workloadIntervalTime, { kind: 'workload' });
  }

  /** Hands out Readies while the member is up and not waiting for an fsync (ready-loop.ts). */
  drive(m: Member): void {
    this.readyLoop.drive(m);
  }

  get now(): number {
    return this.queue.now;
  }

  log(text: string): void {
    this.trace.line(this.queue.now, text);
  }

  /** Creates and starts a member; `boot` is the bootstrap snapshot, undefined for a member added later. */
  addMember(id: bigint, boot: Snapshot | undefined): Member {
    assert(!this.members.has(id), `member ${id} exists`);
    const skew = 1 - this.o.tickSkew + this.rng.float() * 2 * this.o.tickSkew;
    const m = new Member(
      id,
      SimDisk.withSnapshot(boot),
      this.rng.fork(),
      Math.max(1, Math.round(this.o.tickIntervalTime * skew)),
    );
    this.members.set(id, m);
    this.startMember(m);
    return m;
  }

  startMember(m: Member): void {
    m.start(this.o);
    this.log(`${m.name} start (life ${m.incarnation}) ${this.describeDisk(m)}`);
    this.queue.schedule(this.rng.intn(m.tickIntervalTime), {
      kind: 'tick',
      id: m.id,
      incarnation: m.incarnation,
    });
    this.drive(m);
  }

  crashMember(m: Member): void {
    this.log(`${m.name} CRASH (pending write lost: ${m.disk.pending !== undefined})`);
    m.crash();
    this.workload.onCrash(m);
  }

  private describeDisk(m: Member): string {
    const d = m.disk;
    return (
      `disk: snap=${d.snapshot.metadata.term}/${d.snapshot.metadata.index} ` +
      `log=${d.firstIndex}..${d.lastIndex()} hs=${d.hardState.term}/${d.hardState.vote}/${d.hardState.commit}`
    );
  }

  upMembers(): Member[] {
    return [...this.members.values()].filter((m) => m.up);
  }

  /** Up and not paused: can take a client request now. */
  activeMembers(): Member[] {
    return [...this.members.values()].filter((m) => m.up && m.pausedUntil <= this.now);
  }

  /** The member that is leader in the highest term among the active members, if any. */
  leader(): Member | undefined {
    let best: Member | undefined;
    let bestTerm = -1;
    for (const m of this.members.values()) {
      if (m.node === undefined || m.pausedUntil > this.now) continue;
      const st = m.node.status();
      if (st.softState.raftState === StateType.StateLeader && st.hardState.term > bestTerm) {
        best = m;
        bestTerm = st.hardState.term;
      }
    }
    return best;
  }

  /** Processes the next event; false when nothing is scheduled. */
  step(): boolean {
    const ev = this.queue.pop();
    if (ev === undefined) return false;
    this.stats.steps++;
    const target = eventMember(ev);
    const paused = target === undefined ? undefined : this.members.get(target);
    if (paused !== undefined && paused.pausedUntil > this.now) {
      // A paused process does nothing; whatever reaches it waits until it resumes.
      this.queue.schedule(paused.pausedUntil - this.now, ev);
      return true;
    }
    switch (ev.kind) {
      case 'tick':
        this.onTick(ev.id, ev.incarnation);
        break;
      case 'deliver':
        this.transport.onDeliver(ev.m);
        break;
      case 'fsync':
        this.readyLoop.onFsync(ev.id, ev.incarnation);
        break;
      case 'snap-status':
        this.transport.onSnapStatus(ev);
        break;
      case 'unreachable': {
        const m = this.members.get(ev.from);
        if (m?.node !== undefined && m.incarnation === ev.incarnation) {
          m.node.reportUnreachable(ev.to);
          this.drive(m);
        }
        break;
      }
      case 'workload':
        this.workload.onInterval();
        this.queue.schedule(this.o.workloadIntervalTime, { kind: 'workload' });
        break;
    }
    this.membership.applyPending();
    if (this.stats.steps % FULL_CHECK_INTERVAL_STEPS === 0) this.fullCheck();
    return true;
  }

  private onTick(id: bigint, incarnation: number): void {
    const m = this.members.get(id);
    if (m?.node === undefined || m.incarnation !== incarnation) return;
    if (this.trace.verbose) this.log(`${m.name} tick`);
    m.node.tick();
    const j = Math.min(this.o.tickJitterTime, m.tickIntervalTime - 1);
    this.queue.schedule(m.tickIntervalTime - j + this.rng.intn(2 * j + 1), {
      kind: 'tick',
      id,
      incarnation,
    });
    this.drive(m);
  }

  /** Whole-log comparisons across every pair of disks, and acknowledged writes in every state machine. */
  fullCheck(): void {
    const all = [...this.members.values()];
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++) {
        LogMatching.comparePair(all[i]!.disk, all[j]!.disk, [all[i]!.name, all[j]!.name]);
      }
    }
    for (const m of all) if (m.up) this.ackedWrites.checkState(m.app, m.name);
  }
}

/** The member an event happens at (undefined for the workload). */
function eventMember(ev: SimEvent): bigint | undefined {
  switch (ev.kind) {
    case 'tick':
    case 'fsync':
      return ev.id;
    case 'deliver':
      return ev.m.to;
    case 'snap-status':
      return ev.leader;
    case 'unreachable':
      return ev.from;
    case 'workload':
      return undefined;
  }
}
