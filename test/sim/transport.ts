import { RaftError } from '../../server/src/raft/errors.js';
import { MessageType, type Message } from '../../server/src/raftpb/types.js';
import { cloneMessage } from './clone.js';
import { describeMessage } from './describe.js';
import type { Member } from './member.js';
import type { Simulator } from './simulator.js';

/** Message types only a leader sends: their (term, from) is a leadership claim. */
const LEADER_ONLY = new Set([
  MessageType.MsgApp,
  MessageType.MsgHeartbeat,
  MessageType.MsgSnap,
  MessageType.MsgTimeoutNow,
]);

/**
 * The members' transport over the simulated network: sends (each message copied, its fate decided by
 * network.ts, delivery scheduled on the event queue), receives (step, ignoring the core's operating
 * errors) and the snapshot status the sender's transport reports back (reportSnapshot), like etcd's
 * rafthttp does after streaming a snapshot.
 */
export class Transport {
  constructor(private readonly sim: Simulator) {}

  onDeliver(msg: Message): void {
    const m = this.sim.members.get(msg.to);
    const ok = m?.node !== undefined;
    if (msg.type === MessageType.MsgSnap) this.reportSnapshotLater(msg, ok);
    if (m?.node === undefined) {
      this.sim.log(`drop ${describeMessage(msg)} (target down)`);
      return;
    }
    this.sim.log(`recv ${describeMessage(msg)}`);
    try {
      m.node.step(msg);
    } catch (e) {
      // The operating errors step() may return for a message from the network are ignored, as etcd's
      // server does: a message from a member no longer in the configuration, and a forwarded proposal
      // that cannot be accepted here. Anything else (another code, an assertion) is a bug in the core and
      // ends the run.
      const expected =
        e instanceof RaftError &&
        (e.code === 'ErrStepPeerNotFound' ||
          (e.code === 'ErrProposalDropped' && msg.type === MessageType.MsgProp));
      if (!expected) throw e;
      this.sim.log(`${m.name} step: ${e.code}`);
    }
    this.sim.drive(m);
  }

  /** The sender's transport learns whether a MsgSnap got through (etcd reports it after the stream). */
  private reportSnapshotLater(msg: Message, ok: boolean): void {
    const leader = this.sim.members.get(msg.from);
    if (leader === undefined) return;
    this.sim.queue.schedule(this.sim.o.messageDelayMinTime, {
      kind: 'snap-status',
      leader: msg.from,
      incarnation: leader.incarnation,
      to: msg.to,
      ok,
    });
  }

  onSnapStatus(ev: { leader: bigint; incarnation: number; to: bigint; ok: boolean }): void {
    const m = this.sim.members.get(ev.leader);
    if (m?.node === undefined || m.incarnation !== ev.incarnation) return;
    this.sim.log(`${m.name} report snapshot to n${ev.to} ${ev.ok ? 'ok' : 'failed'}`);
    m.node.reportSnapshot(ev.to, ev.ok);
    this.sim.drive(m);
  }

  send(from: Member, msg: Message): void {
    this.sim.stats.messages++;
    if (LEADER_ONLY.has(msg.type)) this.sim.electionSafety.observe(msg.term, msg.from, describeMessage(msg));
    if (msg.type === MessageType.MsgSnap) this.sim.stats.snapshotsSent++;
    const target = this.sim.members.get(msg.to);
    if (target === undefined || target.removed) {
      this.sim.log(`drop ${describeMessage(msg)} (no such member)`);
      if (msg.type === MessageType.MsgSnap) this.reportSnapshotLater(msg, false);
      return;
    }
    const fate = this.sim.network.fate(msg.from, msg.to);
    if (fate.kind !== 'deliver') {
      if (this.sim.trace.verbose) this.sim.log(`${fate.kind} ${describeMessage(msg)}`);
      if (msg.type === MessageType.MsgSnap) this.reportSnapshotLater(msg, false);
      if (fate.kind === 'cut' && this.sim.rng.chance(0.3)) {
        this.sim.queue.schedule(this.sim.o.messageDelayMaxTime, {
          kind: 'unreachable',
          from: from.id,
          incarnation: from.incarnation,
          to: msg.to,
        });
      }
      return;
    }
    for (const delay of fate.delays)
      this.sim.queue.schedule(delay, { kind: 'deliver', m: cloneMessage(msg) });
    if (this.sim.o.mutation === 'misdeliver-votes' && msg.type === MessageType.MsgVoteResp && !msg.reject) {
      for (const other of this.sim.members.keys()) {
        if (other === msg.from || other === msg.to) continue;
        this.sim.queue.schedule(fate.delays[0]!, { kind: 'deliver', m: { ...cloneMessage(msg), to: other } });
      }
    }
  }
}
