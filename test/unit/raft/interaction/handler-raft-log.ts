import { describeEntries } from '../../../../server/src/raft/describe.js';
import { bareArg, firstAsId } from './args.js';
import type { TestData } from './datadriven.js';
import type { InteractionEnv, InteractionNode } from './env.js';

/** raft-log <id>: prints the node's persisted log (what its storage holds). */
export function handleRaftLog(env: InteractionEnv, d: TestData): void {
  printRaftLog(env, env.node(firstAsId(d)));
}

export function printRaftLog(env: InteractionEnv, n: InteractionNode): void {
  const first = n.storage.firstIndex();
  const last = n.storage.lastIndex();
  if (last < first) {
    env.output.line(`log is empty: first index=${first}, last index=${last}`);
    return;
  }
  env.output.write(describeEntries(n.storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER)));
}

/**
 * compact <id> <index>: discards the node's persisted log up to and including `index` (its snapshot,
 * the state after the last applied entry, covers them), then prints what is left.
 */
export function handleCompact(env: InteractionEnv, d: TestData): void {
  const n = env.node(firstAsId(d));
  const index = bareArg(d, 1);
  if (!/^\d+$/.test(index)) throw new Error(`${d.pos}: compact <id> <index>`);
  n.storage.mem.compact(Number(index));
  printRaftLog(env, n);
}
