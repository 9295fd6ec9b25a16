import { compareIds } from '../../../../server/src/raft/quorum/majority.js';
import { stateName } from '../../../../server/src/raft/ready.js';
import { firstAsId } from './args.js';
import type { TestData } from './datadriven.js';
import type { InteractionEnv } from './env.js';

/** status <id>: the node's view of every member's replication progress (printed by leaders only). */
export function handleStatus(env: InteractionEnv, d: TestData): void {
  const st = env.node(firstAsId(d)).rawNode.status();
  if (st.progress === undefined) return;
  for (const id of [...st.progress.keys()].sort(compareIds)) {
    env.output.line(`${id}: ${String(st.progress.get(id))}`);
  }
}

/** raft-state: one line per node, from its own point of view: role, voter or not, term, leader. */
export function handleRaftState(env: InteractionEnv): void {
  for (const n of env.nodes) {
    const st = n.rawNode.status();
    const voter = st.config.voters.ids().has(st.id) ? '(Voter)' : '(Non-Voter)';
    env.output.line(
      `${st.id}: ${stateName(st.softState.raftState)} ${voter} Term:${st.hardState.term} Lead:${st.softState.lead}`,
    );
  }
}
