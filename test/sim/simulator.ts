import { RaftError } from '../../server/src/raft/errors.js';
import { StateType, type Ready } from '../../server/src/raft/ready.js';
import type { Prng } from '../../server/src/raft/rng.js';
import { decodeConfChange as decodeConfChangeV1 } from '../../server/src/raftpb/codec.js';
import {
  confChangeToV2,
  EntryType,
  isEmptySnapshot,
  MessageType,
  type ConfState,
  type Entry,
  type Message,
  type Snapshot,
} from '../../server/src/raftpb/types.js';
import { assert } from '../../server/src/util/assert.js';
import { AppState } from './app-state.js';
import { AckedWrites } from './checkers/acked-writes.js';
import { AppliedState } from './checkers/applied-state.js';
import { checkAppliedDurable } from './checkers/applied-durable.js';
import { CommittedLog } from './checkers/committed-log.js';
import { checkHardStateStep } from './checkers/hard-state.js';
import { ElectionSafety } from './checkers/election-safety.js';
import { checkLeaderCompleteness } from './checkers/leader-completeness.js';
import { LogMatching } from './checkers/log-matching.js';
import { ReadLinearizability } from './checkers/read-linearizability.js';
import { cloneMessage } from './clone.js';
import {
  describeConfChange,
  describeEntries,
  describeMessage,
  describeState,
  entryDigest,
} from './describe.js';
import { SimDisk, type Write } from './disk.js';
import { EventQueue } from './event-queue.js';
import { Member } from './member.js';
import { Membership } from './membership.js';
import { Nemesis } from './nemesis.js';
import { Network } from './network.js';
import type { SimOptions } from './options.js';
import { decodeConfChange, decodeProposal } from './payload.js';
import { emptyStats, type Stats } from './stats.js';
import { Trace } from './trace.js';
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
/** Readies handled back to back for one member without an fsync in between, at most. */
const READY_LOOP_MAX = 64;
/** Steps between the whole-log comparisons (the incremental checks run on every step). */
const FULL_CHECK_INTERVAL_STEPS = 64;
const TRACE_RECENT_LINES = 60;

/** Message types only a leader sends: their (term, from) is a leadership claim. */
const LEADER_ONLY = new Set([
  MessageType.MsgApp,
  MessageType.MsgHeartbeat,
  MessageType.MsgSnap,
  MessageType.MsgTimeoutNow,
]);

/**
 * The deterministic simulation of one cluster for one seed: members, the simulated network, disks and
 * clock (an event queue), the workload and the fault injector, with the checkers run as events happen.
 * Everything random comes from `rng` (and the members' forks of it), so a seed replays exactly.
 *
 * The Ready loop per member follows ready.ts: on ready() the snapshot, entries and hard state go to the
 * in-memory Storage and a pending disk write; when the simulated fsync completes the write is durable,
 * THEN the messages are sent, the snapshot and committed entries applied, and advance() called.
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
  private readonly committedIds = new Set<string>();

  constructor(
    readonly o: SimOptions,
    readonly rng: Prng,
    sink: ((line: string) => void) | undefined,
  ) {
    this.trace = new Trace(TRACE_RECENT_LINES, sink);
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
        this.onDeliver(ev.m);
        break;
      case 'fsync':
        this.onFsync(ev.id, ev.incarnation);
        break;
      case 'snap-status':
        this.onSnapStatus(ev);
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

  private onDeliver(msg: Message): void {
    const m = this.members.get(msg.to);
    const ok = m?.node !== undefined;
    if (msg.type === MessageType.MsgSnap) this.reportSnapshotLater(msg, ok);
    if (m?.node === undefined) {
      this.log(`drop ${describeMessage(msg)} (target down)`);
      return;
    }
    this.log(`recv ${describeMessage(msg)}`);
    try {
      m.node.step(msg);
    } catch (e) {
      // Operating errors of step (a response from a removed peer, a local message) are ignored, as
      // etcd's server does; anything else is a bug in the core and ends the run.
      if (!(e instanceof RaftError)) throw e;
      this.log(`${m.name} step: ${e.code}`);
    }
    this.drive(m);
  }

  /** The sender's transport learns whether a MsgSnap got through (etcd reports it after the stream). */
  private reportSnapshotLater(msg: Message, ok: boolean): void {
    const leader = this.members.get(msg.from);
    if (leader === undefined) return;
    this.queue.schedule(this.o.messageDelayMinTime, {
      kind: 'snap-status',
      leader: msg.from,
      incarnation: leader.incarnation,
      to: msg.to,
      ok,
    });
  }

  private onSnapStatus(ev: { leader: bigint; incarnation: number; to: bigint; ok: boolean }): void {
    const m = this.members.get(ev.leader);
    if (m?.node === undefined || m.incarnation !== ev.incarnation) return;
    this.log(`${m.name} report snapshot to n${ev.to} ${ev.ok ? 'ok' : 'failed'}`);
    m.node.reportSnapshot(ev.to, ev.ok);
    this.drive(m);
  }

  /** Hands out Readies while the member is up and not waiting for an fsync. */
  drive(m: Member): void {
    for (let i = 0; i < READY_LOOP_MAX; i++) {
      if (m.node === undefined || m.inFlight !== undefined || !m.node.hasReady()) return;
      const synchronous = this.handleReady(m);
      if (!synchronous) return;
    }
  }

  /** Starts one Ready; returns true when it completed at once (nothing to persist). */
  private handleReady(m: Member): boolean {
    const node = m.node!;
    const rd = node.ready();
    if (rd.softState !== undefined && rd.softState.raftState === StateType.StateLeader) {
      this.electionSafety.observe(node.status().hardState.term, m.id, 'ready');
    }
    for (const rs of rd.readStates) this.workload.onReadState(m, rs.requestCtx, rs.index);
    const hasSnapshot = rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot);
    if (this.trace.verbose || hasSnapshot || rd.entries.length > 0 || rd.hardState !== undefined) {
      this.log(`${m.name} ready ${describeReady(rd)}`);
    }
    if (hasSnapshot) m.storage.applySnapshot(rd.snapshot!);
    m.storage.append(rd.entries);
    if (rd.hardState !== undefined) m.storage.setHardState(rd.hardState);
    if (rd.softState !== undefined && rd.softState.raftState === StateType.StateLeader) {
      checkLeaderCompleteness(node.status().hardState.term, m.storage, this.committed, m.name);
    }
    m.inFlight = rd;
    if (!hasSnapshot && rd.entries.length === 0 && rd.hardState === undefined) {
      this.complete(m);
      return true;
    }
    m.disk.begin({
      snapshot: hasSnapshot ? rd.snapshot : undefined,
      entries: rd.entries,
      hardState: rd.hardState,
    });
    const lo = this.o.fsyncDelayMinTime;
    this.queue.schedule(lo + this.rng.intn(this.o.fsyncDelayMaxTime - lo + 1), {
      kind: 'fsync',
      id: m.id,
      incarnation: m.incarnation,
    });
    return false;
  }

  private onFsync(id: bigint, incarnation: number): void {
    const m = this.members.get(id);
    if (m?.node === undefined || m.incarnation !== incarnation || m.inFlight === undefined) return;
    const before = m.disk.hardState;
    const w = m.disk.fsync();
    checkHardStateStep(before, m.disk.hardState, m.name);
    this.checkPersisted(m, w);
    this.complete(m);
    this.drive(m);
  }

  /** The Ready's writes are durable: send, apply, advance. */
  private complete(m: Member): void {
    const rd = m.inFlight!;
    for (const msg of rd.messages) this.send(m, msg);
    if (rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot)) this.restoreSnapshot(m, rd.snapshot);
    if (rd.committedEntries.length > 0) {
      this.log(`${m.name} apply ${describeEntries(rd.committedEntries)}`);
      for (const e of rd.committedEntries) this.applyEntry(m, e);
    }
    m.node!.advance();
    m.inFlight = undefined;
    this.workload.serveReads(m);
    const snapIndex = m.maybeSnapshot(this.o);
    if (snapIndex > 0) this.log(`${m.name} snapshot at ${snapIndex}, log now ${m.storage.firstIndex()}..`);
  }

  /** Incremental log-matching and committed-entry checks on what just became durable. */
  private checkPersisted(m: Member, w: Write): void {
    const d = m.disk;
    for (const e of w.entries) {
      if (e.index < d.firstIndex) continue;
      this.logMatching.observeEntry(e.index, e.term, d.term(e.index - 1), entryDigest(e), m.name);
    }
    if (w.snapshot !== undefined) {
      this.committed.observeTerm(w.snapshot.metadata.index, w.snapshot.metadata.term, `${m.name} snapshot`);
    }
    const commit = d.hardState.commit;
    for (let i = Math.max(m.commitChecked + 1, d.firstIndex); i <= commit; i++) {
      const e = d.entryAt(i);
      if (e !== undefined) this.committed.observe(i, e.term, entryDigest(e), `${m.name} persisted commit`);
    }
    if (commit > m.commitChecked) m.commitChecked = commit;
  }

  private restoreSnapshot(m: Member, snap: Snapshot): void {
    m.app = AppState.decode(snap.data, snap.metadata.confState);
    assert(m.app.appliedIndex === snap.metadata.index, `${m.name}: snapshot data index mismatch`);
    this.log(`${m.name} restore snapshot ${snap.metadata.term}/${snap.metadata.index}`);
    this.appliedState.observe(snap.metadata.index, m.app.hash, `${m.name} snapshot`);
    this.ackedWrites.checkState(m.app, `${m.name} snapshot`);
  }

  private applyEntry(m: Member, e: Entry): void {
    this.committed.observe(e.index, e.term, entryDigest(e), `${m.name} apply`);
    checkAppliedDurable(m.disk, e, m.name);
    if (e.type === EntryType.EntryNormal) {
      const id = decodeProposal(e.data);
      if (id === undefined) {
        m.app.advanceTo(e.index);
      } else if (m.app.applyProposal(e.index, id)) {
        if (!this.committedIds.has(id)) {
          this.committedIds.add(id);
          this.stats.proposalsCommitted++;
        }
        this.workload.onApplied(m, id, e.index);
      }
    } else {
      m.app.advanceTo(e.index);
      const cc =
        e.type === EntryType.EntryConfChangeV2
          ? decodeConfChange(e.data)
          : confChangeToV2(decodeConfChangeV1(e.data));
      const cs = m.node!.applyConfChange(cc);
      m.app.confState = cs;
      this.log(`${m.name} apply conf change ${describeConfChange(cc)} at ${e.index}`);
      this.membership.onApplied(e.index, cs);
    }
    this.appliedState.observe(e.index, m.app.hash, m.name);
  }

  send(from: Member, msg: Message): void {
    this.stats.messages++;
    if (LEADER_ONLY.has(msg.type)) this.electionSafety.observe(msg.term, msg.from, describeMessage(msg));
    if (msg.type === MessageType.MsgSnap) this.stats.snapshotsSent++;
    const target = this.members.get(msg.to);
    if (target === undefined || target.removed) {
      this.log(`drop ${describeMessage(msg)} (no such member)`);
      if (msg.type === MessageType.MsgSnap) this.reportSnapshotLater(msg, false);
      return;
    }
    const fate = this.network.fate(msg.from, msg.to);
    if (fate.kind !== 'deliver') {
      if (this.trace.verbose) this.log(`${fate.kind} ${describeMessage(msg)}`);
      if (msg.type === MessageType.MsgSnap) this.reportSnapshotLater(msg, false);
      if (fate.kind === 'cut' && this.rng.chance(0.3)) {
        this.queue.schedule(this.o.messageDelayMaxTime, {
          kind: 'unreachable',
          from: from.id,
          incarnation: from.incarnation,
          to: msg.to,
        });
      }
      return;
    }
    for (const delay of fate.delays) this.queue.schedule(delay, { kind: 'deliver', m: cloneMessage(msg) });
    if (this.o.mutation === 'misdeliver-votes' && msg.type === MessageType.MsgVoteResp && !msg.reject) {
      for (const other of this.members.keys()) {
        if (other === msg.from || other === msg.to) continue;
        this.queue.schedule(fate.delays[0]!, { kind: 'deliver', m: { ...cloneMessage(msg), to: other } });
      }
    }
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

export function describeReady(rd: Ready): string {
  let s = '';
  if (rd.softState !== undefined)
    s += ` state=${describeState(rd.softState.raftState)} lead=${rd.softState.lead}`;
  if (rd.hardState !== undefined) {
    s += ` hs=${rd.hardState.term}/${rd.hardState.vote}/${rd.hardState.commit}`;
  }
  if (rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot)) {
    s += ` snap=${rd.snapshot.metadata.term}/${rd.snapshot.metadata.index}`;
  }
  if (rd.entries.length > 0) s += ` ents=${describeEntries(rd.entries)}`;
  if (rd.committedEntries.length > 0) s += ` commit=${describeEntries(rd.committedEntries)}`;
  if (rd.messages.length > 0) s += ` msgs=${rd.messages.length}`;
  if (rd.readStates.length > 0) s += ` reads=${rd.readStates.length}`;
  if (!rd.mustSync) s += ' nosync';
  return s.trimStart();
}
