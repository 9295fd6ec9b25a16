import { firstAsId } from './args.js';
import type { TestData } from './datadriven.js';
import type { InteractionEnv } from './env.js';

/**
 * tick-election <id>: ticks the node for one (non-randomized) election timeout. A follower campaigns
 * only if that is past its randomized timeout (set-randomized-election-timeout pins it); a leader runs
 * its check-quorum round.
 */
export function handleTickElection(env: InteractionEnv, d: TestData): void {
  const n = env.node(firstAsId(d));
  tick(n.rawNode, n.config.electionTicks);
}

/** tick-heartbeat <id>: ticks the node for one heartbeat interval. */
export function handleTickHeartbeat(env: InteractionEnv, d: TestData): void {
  const n = env.node(firstAsId(d));
  tick(n.rawNode, n.config.heartbeatTicks);
}

function tick(rn: { tick(): void }, count: number): void {
  for (let i = 0; i < count; i++) rn.tick();
}
