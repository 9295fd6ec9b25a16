import { isRaftError } from '../../server/src/raft/errors.js';
import type { Member } from './member.js';
import { encodeProposal } from './payload.js';
import type { Simulator } from './simulator.js';

/** Clients of the simulated cluster. Each talks to one member per request (chosen at random). */
const CLIENTS = 4;
/**
 * Proposals one client has outstanding, at most: clients wait for answers, so the offered load stays
 * within what a slow configuration (1 entry per message, 1 message in flight) can replicate, and the log
 * backlog the liveness phase must drain stays bounded.
 */
const CLIENT_OUTSTANDING_MAX = 4;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface PendingProposal {
  client: number;
  member: bigint;
  incarnation: number;
  /** Must be applied everywhere by the end of the liveness phase (retried until it is). */
  liveness: boolean;
  proposedAt: number;
}

interface PendingRead {
  member: bigint;
  incarnation: number;
  issuedAt: number;
  /** The read index, once the member's Ready delivered it. */
  index: number | undefined;
}

/**
 * The workload: proposals with unique ids (`c<client>.<n>`) and ReadIndex reads, sent to random members
 * (followers forward proposals to the leader). A proposal is acknowledged when the member it was given
 * to applies it (in the same life: a crash loses the client's connection, leaving the outcome unknown);
 * a read is answered once its member has applied up to the read index.
 */
export class Workload {
  private proposalsIssued = 0;
  private readsIssued = 0;
  readonly pending = new Map<string, PendingProposal>();
  /** Per client: its entries in `pending`. */
  private readonly outstanding: number[] = new Array<number>(CLIENTS).fill(0);
  readonly livenessIds: string[] = [];
  private readonly reads = new Map<string, PendingRead>();
  /** Reads whose read index arrived, per member, waiting for the member to apply up to it. */
  private readonly answered = new Map<bigint, Map<string, PendingRead>>();

  constructor(private readonly sim: Simulator) {}

  /** One workload decision: faults and membership first (safety phase only), then a request. */
  onInterval(): void {
    const sim = this.sim;
    if (sim.phase === 'safety') {
      sim.nemesis.maybeAct();
      sim.membership.maybeAct();
    } else {
      sim.membership.finishJoint();
      this.retryLiveness();
    }
    this.expireReads();
    this.expireProposals();
    if (sim.rng.chance(sim.o.readProbability)) this.read();
    else if (sim.phase === 'safety') this.propose(false);
  }

  private randomActiveMember(): Member | undefined {
    const up = this.sim.activeMembers();
    return up.length === 0 ? undefined : up[this.sim.rng.intn(up.length)];
  }

  propose(liveness: boolean, retryId?: string): void {
    const sim = this.sim;
    const active = sim.activeMembers();
    if (active.length === 0) return;
    const client = retryId === undefined ? sim.rng.intn(CLIENTS) : (this.pending.get(retryId)?.client ?? 0);
    if (!liveness && this.outstanding[client]! >= CLIENT_OUTSTANDING_MAX) return;
    const id = retryId ?? `c${client}.${this.proposalsIssued++}`;
    const data = encodeProposal(id, sim.rng.intn(sim.o.proposalPayloadBytesMax + 1));
    if (liveness && retryId === undefined) this.livenessIds.push(id);
    // A client whose request is refused (no leader, forwarding disabled) tries the next member, but only
    // in the liveness phase: there it must get through; before, a refusal is simply an answer.
    const first = sim.rng.intn(active.length);
    const tries = liveness ? active.length : 1;
    for (let t = 0; t < tries; t++) {
      const m = active[(first + t) % active.length]!;
      try {
        m.node!.propose(data);
      } catch (e) {
        if (!isRaftError(e, 'ErrProposalDropped')) throw e;
        sim.log(`${m.name} propose ${id}: dropped`);
        if (liveness)
          this.track(id, { client, member: m.id, incarnation: -1, liveness, proposedAt: sim.now });
        continue;
      }
      sim.log(`${m.name} propose ${id}`);
      this.track(id, { client, member: m.id, incarnation: m.incarnation, liveness, proposedAt: sim.now });
      sim.drive(m);
      return;
    }
  }

  private track(id: string, p: PendingProposal): void {
    if (!this.pending.has(id)) this.outstanding[p.client]!++;
    this.pending.set(id, p);
  }

  private untrack(id: string): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    this.outstanding[p.client]!--;
  }

  /**
   * A client gives up on a proposal not acknowledged in time (its outcome stays unknown: it may still
   * commit). Liveness proposals are never given up; they are retried.
   */
  private expireProposals(): void {
    const timeout = this.sim.o.electionTicks * this.sim.o.tickIntervalTime * 10;
    for (const [id, p] of this.pending) {
      if (!p.liveness && this.sim.now - p.proposedAt >= timeout) this.untrack(id);
    }
  }

  /** Liveness phase: re-propose (same id) every proposal not yet acknowledged after a timeout. */
  private retryLiveness(): void {
    const timeout = this.sim.o.electionTicks * this.sim.o.tickIntervalTime * 2;
    for (const id of this.livenessIds) {
      const p = this.pending.get(id);
      if (p !== undefined && this.sim.now - p.proposedAt >= timeout) {
        this.propose(true, id);
        return; // one per interval keeps the retry load bounded
      }
    }
  }

  /** `m` applied proposal `id` at `index` (the first time it saw the id). */
  onApplied(m: Member, id: string, index: number): void {
    const p = this.pending.get(id);
    if (p === undefined || p.member !== m.id || p.incarnation !== m.incarnation) return;
    this.untrack(id);
    this.sim.ackedWrites.ack(id, index);
    this.sim.reads.ackWrite(index);
    this.sim.stats.proposalsAcked++;
  }

  read(): void {
    const sim = this.sim;
    const m = this.randomActiveMember();
    if (m?.node === undefined) return;
    const ctx = `r${this.readsIssued++}`;
    this.reads.set(ctx, { member: m.id, incarnation: m.incarnation, issuedAt: sim.now, index: undefined });
    sim.reads.issue(ctx);
    sim.log(`${m.name} read ${ctx}`);
    m.node.readIndex(encoder.encode(ctx));
    sim.drive(m);
  }

  onReadState(m: Member, requestCtx: Uint8Array, index: number): void {
    const ctx = decoder.decode(requestCtx);
    const r = this.reads.get(ctx);
    if (r === undefined || r.member !== m.id || r.incarnation !== m.incarnation || r.index !== undefined)
      return;
    r.index = index;
    this.reads.delete(ctx);
    let mine = this.answered.get(m.id);
    if (mine === undefined) {
      mine = new Map<string, PendingRead>();
      this.answered.set(m.id, mine);
    }
    mine.set(ctx, r);
    this.sim.log(`${m.name} read ${ctx} index=${index} (applied ${m.app.appliedIndex})`);
    this.sim.reads.readState(ctx, index);
  }

  /** Serves the member's reads whose read index it has applied. */
  serveReads(m: Member): void {
    const mine = this.answered.get(m.id);
    if (mine === undefined) return;
    for (const [ctx, r] of mine) {
      if (r.index === undefined || r.index > m.app.appliedIndex) continue;
      mine.delete(ctx);
      const applied = m.app.appliedIndex;
      this.sim.reads.serve(ctx, r.index, applied, m.app.hash, this.sim.appliedState.hashAtIndex(applied));
      this.sim.stats.readsChecked++;
      if (this.sim.trace.verbose) this.sim.log(`${m.name} read ${ctx} served at ${applied}`);
    }
  }

  onCrash(m: Member): void {
    const mine = this.answered.get(m.id);
    if (mine !== undefined) for (const ctx of mine.keys()) this.sim.reads.abandon(ctx);
    this.answered.delete(m.id);
  }

  /**
   * A read whose read index never arrives (dropped with no leader, lost message, crashed member) is
   * given up by its client after a while. Insertion order is issue order, so the scan stops early.
   */
  private expireReads(): void {
    const timeout = this.sim.o.electionTicks * this.sim.o.tickIntervalTime * 4;
    for (const [ctx, r] of this.reads) {
      if (this.sim.now - r.issuedAt < timeout) break;
      this.reads.delete(ctx);
      this.sim.reads.abandon(ctx);
    }
  }

  /** Liveness proposals not yet applied on every up member. */
  unappliedLiveness(members: readonly Member[]): string | undefined {
    for (const id of this.livenessIds) {
      for (const m of members) if (!m.app.has(id)) return `${id} not applied on ${m.name}`;
    }
    return undefined;
  }
}
