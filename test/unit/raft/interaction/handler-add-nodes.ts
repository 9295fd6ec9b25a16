import type { RaftConfig } from '../../../../server/src/raft/config.js';
import { RawNode } from '../../../../server/src/raft/raw-node.js';
import { Prng } from '../../../../server/src/raft/rng.js';
import { emptySnapshot, type Snapshot } from '../../../../server/src/raftpb/types.js';
import { boolArg, firstAsId, idListArg, intArg, onlyKeys, stringArg } from './args.js';
import type { TestData } from './datadriven.js';
import { HarnessStorage, type InteractionEnv, type InteractionNode } from './env.js';

/**
 * The defaults of every node: short timeouts so that scripts stay short (etcd's rafttest stub), and no
 * practical limit on message size or the in-flight window unless a script sets one.
 */
const ELECTION_TICKS = 3;
const HEARTBEAT_TICKS = 1;
const MAX_SIZE_PER_MSG_BYTES = Number.MAX_SAFE_INTEGER;
/** The window is a preallocated ring buffer, so "unlimited" is a large but finite number. */
const INFLIGHT_MSGS_DEFAULT = 256;

const KEYS = [
  'voters',
  'learners',
  'index',
  'content',
  'prevote',
  'checkquorum',
  'max-committed-size-per-ready',
  'max-uncommitted-size',
  'max-size-per-msg',
  'inflight',
  'inflight-bytes',
  'disable-proposal-forwarding',
] as const;

/**
 * add-nodes <count> [voters=(1,2,3)] [learners=(4)] [index=2] [content=foo] [prevote=true]
 *   [checkquorum=true] [max-committed-size-per-ready=N] [max-uncommitted-size=N] [max-size-per-msg=N]
 *   [inflight=N] [inflight-bytes=N] [disable-proposal-forwarding=true]
 *
 * Adds nodes with the next free ids. With voters/learners/index they are bootstrapped from a snapshot
 * at `index` (term 1) holding that configuration and `content` as state; without, they start empty and
 * learn everything from a leader.
 */
export function handleAddNodes(env: InteractionEnv, d: TestData): void {
  onlyKeys(d, KEYS);
  const count = Number(firstAsId(d));
  const voters = idListArg(d, 'voters');
  const learners = idListArg(d, 'learners');
  const index = intArg(d, 'index') ?? 0;
  const content = new TextEncoder().encode(stringArg(d, 'content') ?? '');
  const bootstrap = voters.length > 0 || learners.length > 0 || index > 0 || content.length > 0;
  if (bootstrap && index <= 1) throw new Error(`${d.pos}: index must be > 1 to bootstrap`);
  const snap: Snapshot = bootstrap
    ? {
        data: content,
        metadata: {
          index,
          term: 1,
          confState: { voters, learners, votersOutgoing: [], learnersNext: [], autoLeave: false },
        },
      }
    : emptySnapshot();

  for (let i = 0; i < count; i++) {
    const id = BigInt(env.nodes.length + 1);
    const history: Snapshot[] = [snap];
    const storage = new HarnessStorage(() => history[history.length - 1] ?? snap);
    if (bootstrap) storage.mem.applySnapshot(snap);
    const config: RaftConfig = {
      id,
      electionTicks: ELECTION_TICKS,
      heartbeatTicks: HEARTBEAT_TICKS,
      storage,
      applied: bootstrap ? index : 0,
      maxSizePerMsgBytes: intArg(d, 'max-size-per-msg') ?? MAX_SIZE_PER_MSG_BYTES,
      maxCommittedSizePerReadyBytes: intArg(d, 'max-committed-size-per-ready') ?? 0,
      maxUncommittedEntriesBytes: intArg(d, 'max-uncommitted-size') ?? 0,
      maxInflightMsgs: intArg(d, 'inflight') ?? INFLIGHT_MSGS_DEFAULT,
      maxInflightBytes: intArg(d, 'inflight-bytes') ?? 0,
      checkQuorum: boolArg(d, 'checkquorum') ?? false,
      preVote: boolArg(d, 'prevote') ?? false,
      disableProposalForwarding: boolArg(d, 'disable-proposal-forwarding') ?? false,
      // Deterministic: the same script always draws the same election timeouts.
      rng: new Prng(Number(id)),
      logger: env.logger,
    };
    const node: InteractionNode = {
      id,
      rawNode: new RawNode(config),
      storage,
      config,
      history,
      applying: undefined,
    };
    env.nodes.push(node);
  }
}
