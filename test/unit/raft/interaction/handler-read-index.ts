import { bareArg, firstAsId } from './args.js';
import type { TestData } from './datadriven.js';
import type { InteractionEnv } from './env.js';

/**
 * read-index <id> <ctx>: asks for a linearizable read point; the answer shows up as a ReadState with
 * the same context in a later Ready (of this node, also when it is a follower).
 */
export function handleReadIndex(env: InteractionEnv, d: TestData): void {
  env.node(firstAsId(d)).rawNode.readIndex(new TextEncoder().encode(bareArg(d, 1)));
}
