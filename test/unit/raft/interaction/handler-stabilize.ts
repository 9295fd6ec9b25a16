import { nodeIds } from './args.js';
import type { TestData } from './datadriven.js';
import type { InteractionEnv } from './env.js';
import { deliverMsgs } from './handler-deliver-msgs.js';
import { processReady } from './handler-process-ready.js';

/**
 * Rounds of Ready handling and delivery before stabilize gives up: a group that has not settled by
 * then is livelocked (e.g. two nodes forever campaigning against each other), which is a bug to see.
 */
const STABILIZE_ROUNDS_MAX = 1000;

/**
 * stabilize [id...]: handles Readys on and delivers messages to the given nodes (all by default) until
 * nothing is left to do. Messages to other nodes stay in flight.
 */
export function handleStabilize(env: InteractionEnv, d: TestData): void {
  const ids = nodeIds(d);
  const nodes = ids.length > 0 ? ids.map((id) => env.node(id)) : [...env.nodes];
  for (let round = 0; round < STABILIZE_ROUNDS_MAX; round++) {
    let done = true;
    for (const n of nodes) {
      if (!n.rawNode.hasReady()) continue;
      env.output.line(`> ${n.id} handling Ready`);
      env.output.withIndent(() => processReady(env, n));
      done = false;
    }
    for (const n of nodes) {
      if (!env.messages.some((m) => m.to === n.id)) continue;
      env.output.line(`> ${n.id} receiving messages`);
      env.output.withIndent(() => deliverMsgs(env, [{ id: n.id, drop: false }]));
      done = false;
    }
    if (done) return;
  }
  throw new Error(`${d.pos}: no fixed point after ${STABILIZE_ROUNDS_MAX} rounds`);
}
