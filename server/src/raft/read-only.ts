import type { Message } from '../raftpb/types.js';
import { assert } from '../util/assert.js';

interface ReadIndexStatus {
  req: Message;
  /** The leader's commit index when the request arrived: the read is served once applied >= index. */
  index: number;
  /** Voters that answered a heartbeat carrying this request's context (the leader included). */
  acks: Map<bigint, boolean>;
}

/**
 * Pending ReadIndex requests at the leader (Raft thesis §6.4). A request is answered once a quorum
 * has acknowledged a heartbeat sent after it arrived, which proves this node was still the leader when
 * it recorded the commit index. Requests are answered in arrival order: a quorum for a later request
 * confirms every earlier one too.
 */
export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  /** Requests waiting for their heartbeat quorum, at most. Beyond it new ones are dropped. */
  static readonly pendingMax = 65536;

  /** Adds a request; a request with a context already pending is ignored (its answer will come). */
  addRequest(index: number, m: Message): boolean {
    const key = contextKey(requestContext(m));
    if (this.pending.has(key)) return true;
    if (this.queue.length >= ReadOnly.pendingMax) return false;
    this.pending.set(key, { req: m, index, acks: new Map() });
    this.queue.push(key);
    return true;
  }

  /** Records a heartbeat acknowledgement carrying `context`; returns the acks so far. */
  recvAck(id: bigint, context: Uint8Array): Map<bigint, boolean> | undefined {
    const rs = this.pending.get(contextKey(context));
    if (rs === undefined) return undefined;
    rs.acks.set(id, true);
    return rs.acks;
  }

  /** Dequeues every request up to and including the one with `context` (now confirmed). */
  advance(context: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(context);
    const position = this.queue.indexOf(key);
    if (position < 0) return [];
    const done: ReadIndexStatus[] = [];
    for (const k of this.queue.slice(0, position + 1)) {
      const rs = this.pending.get(k);
      assert(rs !== undefined, 'cannot find corresponding read state from pending map');
      this.pending.delete(k);
      done.push(rs);
    }
    this.queue = this.queue.slice(position + 1);
    return done;
  }

  /** The context of the newest pending request: heartbeats carry it so their acks confirm it. */
  lastPendingRequestContext(): Uint8Array | undefined {
    const key = this.queue[this.queue.length - 1];
    if (key === undefined) return undefined;
    return this.pending.get(key)?.req.entries[0]?.data;
  }

  get length(): number {
    return this.queue.length;
  }
}

export function requestContext(m: Message): Uint8Array {
  const e = m.entries[0];
  assert(e !== undefined, 'a read index request carries its context as its one entry');
  return e.data;
}

/** A Map key for a byte string (contexts are short opaque ids). */
function contextKey(b: Uint8Array): string {
  let s = '';
  for (const byte of b) s += String.fromCharCode(byte);
  return s;
}
