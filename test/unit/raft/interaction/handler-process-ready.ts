import { describeReady } from '../../../../server/src/raft/describe.js';
import { decodeConfChange, decodeConfChangeV2 } from '../../../../server/src/raftpb/codec.js';
import {
  EntryType,
  isEmptySnapshot,
  type ConfState,
  type Entry,
  type Snapshot,
} from '../../../../server/src/raftpb/types.js';
import { nodeIds } from './args.js';
import type { TestData } from './datadriven.js';
import type { InteractionEnv, InteractionNode } from './env.js';

/** process-ready <id>...: handles one Ready on each node (with a `> N handling Ready` header for several). */
export function handleProcessReady(env: InteractionEnv, d: TestData): void {
  const ids = nodeIds(d);
  for (const id of ids) {
    if (ids.length > 1) {
      env.output.line(`> ${id} handling Ready`);
      env.output.withIndent(() => processReady(env, env.node(id)));
    } else {
      processReady(env, env.node(id));
    }
  }
}

/**
 * What a real application does with a Ready, in the order the contract requires: print it, persist
 * the hard state, snapshot and entries, apply the committed entries (conf changes included), queue the
 * messages for sending, and advance.
 */
export function processReady(env: InteractionEnv, n: InteractionNode): void {
  const rd = n.rawNode.ready();
  env.output.line(describeReady(rd));
  if (rd.hardState !== undefined) n.storage.mem.setHardState(rd.hardState);
  if (!isEmptySnapshot(rd.snapshot) && rd.snapshot !== undefined) {
    n.storage.mem.applySnapshot(rd.snapshot);
    // The state machine is now the snapshot's.
    n.history.push(rd.snapshot);
  }
  n.storage.mem.append(rd.entries);
  for (const e of rd.committedEntries) apply(n, e);
  env.messages.push(...rd.messages);
  n.rawNode.advance();
}

/** Applies one committed entry to the node's appender state machine (and its config). */
function apply(n: InteractionNode, e: Entry): void {
  let update: Uint8Array;
  let cs: ConfState | undefined;
  switch (e.type) {
    case EntryType.EntryConfChange: {
      const cc = decodeConfChange(e.data);
      cs = n.rawNode.applyConfChange(cc);
      update = cc.context;
      break;
    }
    case EntryType.EntryConfChangeV2: {
      const cc = decodeConfChangeV2(e.data);
      cs = n.rawNode.applyConfChange(cc);
      update = cc.context;
      break;
    }
    default:
      update = e.data;
  }
  const last = n.history[n.history.length - 1];
  if (last === undefined) throw new Error(`node ${n.id} has no state machine history`);
  const data = new Uint8Array(last.data.length + update.length);
  data.set(last.data);
  data.set(update, last.data.length);
  const snap: Snapshot = {
    data,
    metadata: { index: e.index, term: e.term, confState: cs ?? last.metadata.confState },
  };
  n.history.push(snap);
}
