import { describeMessage } from '../../../../server/src/raft/describe.js';
import { RaftError } from '../../../../server/src/raft/errors.js';
import { decodeMessage, encodeMessage } from '../../../../server/src/raftpb/codec.js';
import { MessageType, type Message } from '../../../../server/src/raftpb/types.js';
import { idListArg, nodeIds, onlyKeys, stringArg } from './args.js';
import type { TestData } from './datadriven.js';
import type { InteractionEnv } from './env.js';

export interface Recipient {
  id: bigint;
  drop: boolean;
}

/**
 * deliver-msgs [drop=(ids)] [type=MsgApp] <id>...: delivers (or drops) the messages in flight to the
 * given nodes, in sending order, optionally only those of one type.
 */
export function handleDeliverMsgs(env: InteractionEnv, d: TestData): void {
  onlyKeys(d, ['drop', 'type']);
  const recipients: Recipient[] = nodeIds(d).map((id) => ({ id, drop: false }));
  for (const id of idListArg(d, 'drop')) {
    if (recipients.some((r) => r.id === id)) throw new Error(`${d.pos}: cannot deliver and drop to ${id}`);
    recipients.push({ id, drop: true });
  }
  const typeName = stringArg(d, 'type');
  let type: MessageType | undefined;
  if (typeName !== undefined) {
    type = MessageType[typeName as keyof typeof MessageType];
    if (type === undefined) throw new Error(`${d.pos}: unknown message type ${typeName}`);
  }
  if (deliverMsgs(env, recipients, type) === 0) env.output.line('no messages');
}

/**
 * Delivers or drops the in-flight messages to each recipient; returns how many were handled. Each
 * message travels through the wire codec, as it would between processes, so sender and receiver never
 * share objects.
 */
export function deliverMsgs(env: InteractionEnv, recipients: Recipient[], type?: MessageType): number {
  let handled = 0;
  for (const r of recipients) {
    const mine: Message[] = [];
    const rest: Message[] = [];
    for (const m of env.messages) {
      if (m.to === r.id && (type === undefined || m.type === type)) mine.push(m);
      else rest.push(m);
    }
    env.messages = rest;
    handled += mine.length;
    for (const m of mine) {
      env.output.line((r.drop ? 'dropped: ' : '') + describeMessage(m));
      if (r.drop) continue;
      try {
        env.node(m.to).rawNode.step(decodeMessage(encodeMessage(m)));
      } catch (e) {
        if (!(e instanceof RaftError)) throw e;
        env.output.line(e.message);
      }
    }
  }
  return handled;
}
