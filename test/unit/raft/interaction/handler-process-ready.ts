import { describeReady } from '../../../../server/src/raft/describe.js';
import { decodeConfChange, decodeConfChangeV2 } from '../../../../server/src/raftpb/codec.js';
import {
  EntryType,
  isEmptySnapshot,
  type ConfState,
  type Entry,
  type Snapshot,
} from '../../../../server/src/raftpb/types.js';
import { boolArg, firstAsId, nodeIds, onlyKeys } from './args.js';
import type { TestData } from './datadriven.js';
import type { InteractionEnv, InteractionNode } from './env.js';

/**
 * process-ready <id>... [apply=false]: handles one Ready on each node (with a `> N handling Ready`
 * header for several). With apply=false the Ready is persisted and its messages sent, but its committed
 * entries are left unapplied and the Ready unacknowledged (the application is still applying them)
 * until `apply-ready <id>`; the node can receive messages meanwhile.
 */
export function handleProcessReady(env: InteractionEnv, d: TestData): void {
  onlyKeys(d, ['apply']);
  const apply = boolArg(d, 'apply') ?? true;
  const ids = nodeIds(d);
  for (const id of ids) {
    if (ids.length > 1) {
      env.output.line(`> ${id} handling Ready`);
      env.output.withIndent(() => processReady(env, env.node(id), apply));
    } else {
      processReady(env, env.node(id), apply);
    }
  }
}

/** apply-ready <id>: applies the committed entries held by `process-ready <id> apply=false` and advances. */
export function handleApplyReady(env: InteractionEnv, d: TestData): void {
  const n = env.node(firstAsId(d));
  const entries = n.applying;
  if (entries === undefined) throw new Error(`${d.pos}: node ${n.id} has no Ready being applied`);
  n.applying = undefined;
  for (const e of entries) apply(n, e);
  n.rawNode.advance();
}

/**
 * What a real application does with a Ready, in the order the contract requires: print it, persist
 * the hard state, snapshot and entries, queue the messages for sending, apply the committed entries
 * (conf changes included), and advance.
 */
export function processReady(env: InteractionEnv, n: InteractionNode, applyNow = true): void {
  if (n.applying !== undefined) throw new Error(`node ${n.id} is still applying a Ready (apply-ready)`);
  const rd = n.rawNode.ready();
  env.output.line(describeReady(rd));
  if (rd.hardState !== undefined) n.storage.mem.setHardState(rd.hardState);
  if (!isEmptySnapshot(rd.snapshot) && rd.snapshot !== undefined) {
    n.storage.mem.applySnapshot(rd.snapshot);
    // The state machine is now the snapshot's.
    n.history.push(rd.snapshot);
  }
  n.storage.mem.append(rd.entries);
  env.messages.push(...rd.messages);
  if (!applyNow) {
    n.applying = rd.committedEntries;
    return;
  }
  for (const e of rd.committedEntries) apply(n, e);
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
