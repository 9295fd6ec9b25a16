import type { Raft } from '../../../server/src/raft/raft.js';
import type { Message } from '../../../server/src/raftpb/types.js';
import { readMessages } from './test-raft.js';

/** Messages one send() may deliver, at most: a cluster that keeps talking past this is livelocked. */
const DELIVERIES_MAX = 100_000;

/**
 * A little in-memory network of Raft members for unit tests (etcd-io/raft's `network` in raft_test.go).
 * send() delivers its messages, and every message the deliveries cause, until none is left. A member
 * slot left undefined is a black hole (it swallows what is sent to it); cut() and isolate() drop
 * messages between members until recover().
 *
 * Messages are copied on delivery, as a real transport would: no member can see another's objects.
 */
export class Network {
  readonly peers = new Map<bigint, Raft>();
  /** Every message delivered to a member, in delivery order. */
  readonly delivered: Message[] = [];
  private readonly cuts = new Set<string>();
  private readonly isolated = new Set<bigint>();

  /** Member i+1 is members[i]; undefined makes that id a black hole. */
  constructor(members: (Raft | undefined)[]) {
    members.forEach((r, i) => {
      if (r === undefined) return;
      if (r.id !== BigInt(i + 1)) throw new Error(`member at slot ${i} has id ${r.id}`);
      this.peers.set(r.id, r);
    });
  }

  peer(id: bigint): Raft {
    const r = this.peers.get(id);
    if (r === undefined) throw new Error(`no member ${id}`);
    return r;
  }

  send(...msgs: Message[]): void {
    const queue = [...msgs];
    for (let deliveries = 0; queue.length > 0; deliveries++) {
      if (deliveries >= DELIVERIES_MAX) throw new Error(`network: more than ${DELIVERIES_MAX} deliveries`);
      const m = queue.shift() as Message;
      const r = this.peers.get(m.to);
      if (r === undefined || this.isCut(m.from, m.to)) continue;
      const copy = structuredClone(m);
      this.delivered.push(copy);
      r.step(copy);
      queue.push(...readMessages(r));
    }
  }

  /** Drops every message between a and b, both ways. */
  cut(a: bigint, b: bigint): void {
    this.cuts.add(`${a}-${b}`);
    this.cuts.add(`${b}-${a}`);
  }

  /** Drops every message to and from `id`. */
  isolate(id: bigint): void {
    this.isolated.add(id);
  }

  recover(): void {
    this.cuts.clear();
    this.isolated.clear();
  }

  private isCut(from: bigint, to: bigint): boolean {
    return this.isolated.has(from) || this.isolated.has(to) || this.cuts.has(`${from}-${to}`);
  }
}
