// Regression scenarios for bugs the simulator found in the core, rebuilt by hand with three RawNodes and
// a message list, so that each one is shown in a few explicit steps (and does not depend on a seed that
// later changes to the simulator would renumber).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRaftError } from '../../server/src/raft/errors.js';
import { MemoryStorage } from '../../server/src/raft/memory-storage.js';
import { RawNode } from '../../server/src/raft/raw-node.js';
import type { Ready } from '../../server/src/raft/ready.js';
import { Prng } from '../../server/src/raft/rng.js';
import { decodeConfChangeV2 } from '../../server/src/raftpb/codec.js';
import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  MessageType,
  type ConfState,
  type Entry,
  type Message,
} from '../../server/src/raftpb/types.js';

interface Node {
  id: bigint;
  node: RawNode;
  storage: MemoryStorage;
}

class Cluster {
  readonly nodes = new Map<bigint, Node>();
  net: Message[] = [];
  /** Cut links as "from>to". */
  readonly cut = new Set<string>();

  constructor(ids: bigint[]) {
    const cs: ConfState = {
      voters: ids,
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    };
    const rng = new Prng(1);
    for (const id of ids) {
      const storage = new MemoryStorage();
      storage.applySnapshot({ data: new Uint8Array(), metadata: { index: 1, term: 1, confState: cs } });
      const node = new RawNode({
        id,
        electionTicks: 10,
        heartbeatTicks: 1,
        storage,
        applied: 1,
        maxSizePerMsgBytes: 1 << 20,
        maxInflightMsgs: 256,
        checkQuorum: false,
        preVote: false,
        rng: rng.fork(),
      });
      this.nodes.set(id, { id, node, storage });
    }
  }

  get(id: bigint): Node {
    return this.nodes.get(id)!;
  }

  /** Persists a Ready (the way the simulator does before its fsync completes). */
  persist(n: Node, rd: Ready): void {
    if (rd.snapshot !== undefined && rd.snapshot.metadata.index > 0) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
  }

  /** The rest of a Ready after its fsync: send, apply (conf changes through applyConfChange), advance. */
  finish(n: Node, rd: Ready): void {
    this.net.push(...rd.messages);
    for (const e of rd.committedEntries) applyEntry(n, e);
    n.node.advance();
  }

  /** One round: every node except `hold` handles its Ready; then every message is delivered. */
  round(hold?: bigint, to?: bigint): void {
    for (const n of this.nodes.values()) {
      if (n.id === hold || !n.node.hasReady()) continue;
      const rd = n.node.ready();
      this.persist(n, rd);
      this.finish(n, rd);
    }
    const msgs = this.net;
    this.net = [];
    for (const m of msgs) {
      const target = this.nodes.get(m.to);
      if (target === undefined || this.cut.has(`${m.from}>${m.to}`) || (to !== undefined && m.to !== to))
        continue;
      try {
        target.node.step(m);
      } catch (e) {
        if (!isRaftError(e, 'ErrStepPeerNotFound')) throw e;
      }
      // The sender's transport reports a delivered snapshot (etcd does after streaming it).
      if (m.type === MessageType.MsgSnap) this.nodes.get(m.from)?.node.reportSnapshot(m.to, true);
    }
  }
}

function applyEntry(n: Node, e: Entry): void {
  if (e.type === EntryType.EntryConfChangeV2) n.node.applyConfChange(decodeConfChangeV2(e.data));
}

describe('sim findings (regressions)', () => {
  // Found by the simulator (seed 2224 at aba8a3e): a follower stepped MsgSnap between ready() and advance()
  // of a Ready whose committedEntries held a conf change; the core restored the snapshot (whose
  // ConfState already contains that change), and the application's applyConfChange for the entry then
  // threw ConfChangeError "config is already joint", crashing the member. Fixed in b09fd05: a snapshot
  // is refused while committed entries handed out in a Ready are not yet applied.
  it('a snapshot arriving while a Ready with a conf change is being applied does not break applyConfChange', () => {
    const c = new Cluster([1n, 2n, 3n]);
    const [n1, n3] = [c.get(1n), c.get(3n)];
    n1.node.campaign();
    for (let i = 0; i < 10; i++) c.round();
    assert.equal(n1.node.status().softState.lead, 1n);

    // 1. A conf change entering a joint config (explicit: it stays joint) at index k.
    const k = n1.node.status().hardState.commit + 1;
    n1.node.proposeConfChange({
      transition: ConfChangeTransition.ConfChangeTransitionJointExplicit,
      changes: [{ type: ConfChangeType.ConfChangeAddLearnerNode, nodeId: 4n }],
      context: new Uint8Array(),
    });
    // 2. n3's Ready that hands out entry k as committed is persisted but not yet applied ("fsync").
    let held: Ready | undefined;
    for (let i = 0; i < 10 && held === undefined; i++) {
      if (n3.node.hasReady()) {
        const rd = n3.node.ready();
        c.persist(n3, rd);
        if (rd.committedEntries.some((e) => e.index === k)) held = rd;
        else c.finish(n3, rd);
      }
      if (held === undefined) c.round(3n);
    }
    assert.ok(held !== undefined, 'n3 got a Ready committing the conf change');
    assert.ok(n1.node.status().config.voters.isJoint, 'the leader applied it');

    // 3. Meanwhile n1 and n2 commit one more entry, and n1 snapshots and compacts there.
    c.cut.add('1>3');
    n1.node.propose(new TextEncoder().encode('x'));
    for (let i = 0; i < 10; i++) c.round(3n);
    const snapIndex = n1.storage.lastIndex();
    n1.storage.createSnapshot(snapIndex, n1.node.status().config.toConfState(), new Uint8Array());
    n1.storage.compact(snapIndex);
    c.cut.delete('1>3');

    // 4. n1 probes n3 from below its log start, so it sends the snapshot; n3 steps it before advance().
    n1.node.reportUnreachable(3n);
    n1.node.propose(new TextEncoder().encode('y'));
    c.round(3n, 3n);
    assert.ok(
      n3.node.status().config.voters.isJoint === false,
      'n3 must not install a snapshot past entries it is still applying',
    );

    // 5. The held Ready completes: applying its conf change must work, and the cluster converges.
    c.finish(n3, held);
    assert.ok(n3.node.status().config.voters.isJoint);
    for (let i = 0; i < 20; i++) c.round();
    assert.equal(n3.node.status().hardState.commit, n1.node.status().hardState.commit);
    assert.equal(n1.node.status().config.toString(), n3.node.status().config.toString());
  });
});
