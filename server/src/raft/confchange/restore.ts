import type { ConfChangeSingle, ConfState } from '../../raftpb/types.js';
import { ConfChangeType } from '../../raftpb/types.js';
import type { Progress } from '../tracker/progress.js';
import { TrackerConfig } from '../tracker/tracker.js';
import { type ChangeResult, Changer } from './changer.js';

/**
 * Rebuilds the config and progress described by a ConfState (restart, snapshot install) by running
 * ordinary changes from the empty config, so the result passes the same validation as any change
 * (etcd-io/raft confchange/restore.go).
 *
 * Example: voters=(1 2 3) outgoing=(1 2 4 6) learners=(5) learnersNext=(4) is built as
 *   simple(v1) simple(v2) simple(v4) simple(v6)                  → (1 2 4 6)
 *   enterJoint(r1 r2 r4 r6  v1 v2 v3  l5  l4)                    → (1 2 3)&&(1 2 4 6) learners=(5)
 *                                                                   learners_next=(4)
 * Whether 5 was a learner before the joint config cannot be told, and does not matter.
 *
 * Throws ConfChangeError when the ConfState is not a valid configuration (e.g. learners but no voters).
 */
export function restore(
  tracker: { inflightMsgsMax: number; inflightBytesMax: number },
  lastIndex: number,
  cs: ConfState,
): ChangeResult {
  let current: ChangeResult = { config: new TrackerConfig(), progress: new Map<bigint, Progress>() };
  const run = (op: (c: Changer) => ChangeResult): void => {
    current = op(new Changer({ ...tracker, ...current }, lastIndex));
  };
  const add = (type: ConfChangeType, ids: readonly bigint[]): ConfChangeSingle[] =>
    ids.map((nodeId) => ({ type, nodeId }));

  // Learners last: a learner must not be added to a config without voters.
  const incoming = [
    ...add(ConfChangeType.ConfChangeAddNode, cs.voters),
    ...add(ConfChangeType.ConfChangeAddLearnerNode, cs.learners),
    // Voters of the outgoing half that become learners on leaving; AddLearnerNode stages them.
    ...add(ConfChangeType.ConfChangeAddLearnerNode, cs.learnersNext),
  ];
  if (cs.votersOutgoing.length === 0) {
    // One voter at a time, each a valid simple change.
    for (const cc of incoming) run((c) => c.simple([cc]));
    return current;
  }
  // Joint: first make the outgoing voters the active config, then enter the joint config with changes
  // that replace them by the incoming voters (C_old → C_old,new).
  for (const cc of add(ConfChangeType.ConfChangeAddNode, cs.votersOutgoing)) run((c) => c.simple([cc]));
  const replace = [...add(ConfChangeType.ConfChangeRemoveNode, cs.votersOutgoing), ...incoming];
  run((c) => c.enterJoint(cs.autoLeave, replace));
  return current;
}
