import {
  ConfChangeTransition,
  ConfChangeType,
  emptyBytes,
  type ConfChange,
  type ConfChangeSingle,
  type ConfChangeV2,
} from '../../../../server/src/raftpb/types.js';
import { boolArg, firstAsId, onlyKeys, stringArg } from './args.js';
import type { TestData } from './datadriven.js';
import type { InteractionEnv } from './env.js';

const CHANGE_TYPES: Record<string, ConfChangeType> = {
  v: ConfChangeType.ConfChangeAddNode,
  l: ConfChangeType.ConfChangeAddLearnerNode,
  r: ConfChangeType.ConfChangeRemoveNode,
  u: ConfChangeType.ConfChangeUpdateNode,
};

const TRANSITIONS: Record<string, ConfChangeTransition> = {
  auto: ConfChangeTransition.ConfChangeTransitionAuto,
  implicit: ConfChangeTransition.ConfChangeTransitionJointImplicit,
  explicit: ConfChangeTransition.ConfChangeTransitionJointExplicit,
};

/**
 * propose-conf-change <id> [v1=true] [transition=auto|implicit|explicit]
 * v2 l3 r1 u4
 *
 * Proposes a configuration change written in etcd's notation (v: add voter, l: add learner, r: remove,
 * u: update). v1=true proposes an etcd "v1" ConfChange (exactly one change); otherwise a ConfChangeV2,
 * and an empty one leaves a joint configuration.
 */
export function handleProposeConfChange(env: InteractionEnv, d: TestData): void {
  onlyKeys(d, ['v1', 'transition']);
  const changes = parseChanges(d);
  const transitionName = stringArg(d, 'transition') ?? 'auto';
  const transition = TRANSITIONS[transitionName];
  if (transition === undefined) throw new Error(`${d.pos}: unknown transition ${transitionName}`);
  let cc: ConfChange | ConfChangeV2;
  if (boolArg(d, 'v1') === true) {
    const only = changes[0];
    if (changes.length !== 1 || only === undefined || transitionName !== 'auto') {
      throw new Error(`${d.pos}: a v1 conf change has exactly one change and no transition`);
    }
    cc = { type: only.type, nodeId: only.nodeId, context: emptyBytes(), id: 0n };
  } else {
    cc = { transition, changes, context: emptyBytes() };
  }
  env.node(firstAsId(d)).rawNode.proposeConfChange(cc);
}

function parseChanges(d: TestData): ConfChangeSingle[] {
  return d.input
    .split(/\s+/)
    .filter((t) => t !== '')
    .map((tok) => {
      const type = CHANGE_TYPES[tok.charAt(0)];
      if (type === undefined || !/^[1-9]\d*$/.test(tok.slice(1))) {
        throw new Error(`${d.pos}: bad conf change ${JSON.stringify(tok)} (want v<id>, l<id>, r<id>, u<id>)`);
      }
      return { type, nodeId: BigInt(tok.slice(1)) };
    });
}
