import { RawNode } from '../../../../server/src/raft/raw-node.js';
import { Prng } from '../../../../server/src/raft/rng.js';
import { firstAsId } from './args.js';
import type { TestData } from './datadriven.js';
import type { InteractionEnv } from './env.js';

/**
 * restart <id>: the node crashes and comes back from what it persisted. Everything not in its storage
 * is lost: the in-memory Raft state, the messages it had not sent yet (those in flight stay in flight,
 * like packets on the wire) and its state machine beyond its storage snapshot, which it rebuilds by
 * applying the committed log again (Raft §5.2 and Figure 2: currentTerm, votedFor and the log are the
 * persistent state).
 */
export function handleRestart(env: InteractionEnv, d: TestData): void {
  const n = env.node(firstAsId(d));
  const snapIndex = n.storage.mem.snapshot().metadata.index;
  // The state machine as of the storage snapshot; later entries are applied again after the restart.
  let keep = 0;
  for (let i = 0; i < n.history.length; i++) {
    if ((n.history[i]?.metadata.index ?? 0) <= snapIndex) keep = i + 1;
  }
  n.history.splice(Math.max(keep, 1));
  // A fresh Rng too: nothing of the old process survives.
  n.config = { ...n.config, applied: snapIndex, rng: new Prng(Number(n.id)) };
  n.rawNode = new RawNode(n.config);
  // A Ready that was being applied is gone with the process; its entries are applied again later.
  n.applying = undefined;
}
