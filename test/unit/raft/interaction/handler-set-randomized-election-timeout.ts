import { firstAsId, intArg, onlyKeys } from './args.js';
import type { TestData } from './datadriven.js';
import type { InteractionEnv } from './env.js';

/**
 * set-randomized-election-timeout <id> timeout=<ticks>: pins the node's current randomized election
 * timeout. It is drawn again (from the node's seeded Rng) at the next state change.
 */
export function handleSetRandomizedElectionTimeout(env: InteractionEnv, d: TestData): void {
  onlyKeys(d, ['timeout']);
  const timeout = intArg(d, 'timeout');
  if (timeout === undefined || timeout === 0) throw new Error(`${d.pos}: timeout=<ticks> (> 0) is required`);
  env.node(firstAsId(d)).rawNode.raft.randomizedElectionTimeout = timeout;
}
