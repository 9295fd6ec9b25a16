import { describeMessage } from '../../../../server/src/raft/describe.js';
import { MessageType, newMessage } from '../../../../server/src/raftpb/types.js';
import { nodeIds } from './args.js';
import type { TestData } from './datadriven.js';
import type { InteractionEnv } from './env.js';

/**
 * send-snapshot <from> <to>: puts a MsgSnap from `from` (its current snapshot, at its term) on the wire
 * to `to`, outside of `from`'s Raft core — as an application that ships snapshots by itself would. The
 * leader's progress of `to` does not know about it.
 */
export function handleSendSnapshot(env: InteractionEnv, d: TestData): void {
  const [from, to] = nodeIds(d);
  if (from === undefined || to === undefined || nodeIds(d).length !== 2) {
    throw new Error(`${d.pos}: send-snapshot <from> <to>`);
  }
  const n = env.node(from);
  const m = newMessage({
    type: MessageType.MsgSnap,
    from,
    to,
    term: n.rawNode.raft.term,
    snapshot: n.storage.snapshot(),
  });
  env.messages.push(m);
  env.output.line(describeMessage(m));
}
