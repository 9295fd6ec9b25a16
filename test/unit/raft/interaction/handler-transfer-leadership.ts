import { onlyKeys, requiredIdArg } from './args.js';
import type { TestData } from './datadriven.js';
import type { InteractionEnv } from './env.js';

/** transfer-leadership from=<id> to=<id>: asks `from` (the leader, or a follower that forwards) to hand over. */
export function handleTransferLeadership(env: InteractionEnv, d: TestData): void {
  onlyKeys(d, ['from', 'to']);
  const to = requiredIdArg(d, 'to');
  env.node(to); // must exist
  env.node(requiredIdArg(d, 'from')).rawNode.transferLeader(to);
}
