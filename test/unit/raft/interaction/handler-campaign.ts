import { firstAsId } from './args.js';
import type { TestData } from './datadriven.js';
import type { InteractionEnv } from './env.js';

/** campaign <id>: the node starts an election now (a pre-vote first if it has pre-vote on). */
export function handleCampaign(env: InteractionEnv, d: TestData): void {
  env.node(firstAsId(d)).rawNode.campaign();
}
