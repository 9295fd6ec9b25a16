import { bareArg, firstAsId } from './args.js';
import type { TestData } from './datadriven.js';
import type { InteractionEnv } from './env.js';

/** propose <id> <data>: proposes a normal entry; a dropped proposal prints the error. */
export function handlePropose(env: InteractionEnv, d: TestData): void {
  env.node(firstAsId(d)).rawNode.propose(new TextEncoder().encode(bareArg(d, 1)));
}
