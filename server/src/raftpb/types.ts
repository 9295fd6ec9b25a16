/**
 * Raft's message, entry and state types. Field names and enum values follow etcd's `raftpb` so that
 * anyone who knows etcd-io/raft reads these the same way; the binary codec (codec.ts) uses etcd's field
 * numbers.
 *
 * Numbers: terms and indexes are `number` (safe integers, checked at decode); node ids are `bigint`
 * because member ids are 64-bit on the wire. `NONE` (0n) means "no node".
 */

export const NONE = 0n;

export enum EntryType {
  EntryNormal = 0,
  EntryConfChange = 1,
  EntryConfChangeV2 = 2,
}

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

export enum MessageType {
  MsgHup = 0,
  MsgBeat = 1,
  MsgProp = 2,
  MsgApp = 3,
  MsgAppResp = 4,
  MsgVote = 5,
  MsgVoteResp = 6,
  MsgSnap = 7,
  MsgHeartbeat = 8,
  MsgHeartbeatResp = 9,
  MsgUnreachable = 10,
  MsgSnapStatus = 11,
  MsgCheckQuorum = 12,
  MsgTransferLeader = 13,
  MsgTimeoutNow = 14,
  MsgReadIndex = 15,
  MsgReadIndexResp = 16,
  MsgPreVote = 17,
  MsgPreVoteResp = 18,
}

export interface ConfState {
  /** The voters in the incoming config (the only config when not joint). */
  voters: bigint[];
  learners: bigint[];
  /** The voters in the outgoing config; non-empty only while in a joint config. */
  votersOutgoing: bigint[];
  /**
   * Voters of the outgoing config that become learners when the joint config is left. They cannot be
   * learners yet because a node is never a voter and a learner at the same time.
   */
  learnersNext: bigint[];
  /** Leave the joint config automatically once it is committed (ConfChangeV2 transition Auto/Implicit). */
  autoLeave: boolean;
}

export interface SnapshotMetadata {
  confState: ConfState;
  index: number;
  term: number;
}

export interface Snapshot {
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

export interface HardState {
  term: number;
  vote: bigint;
  commit: number;
}

export interface Message {
  type: MessageType;
  to: bigint;
  from: bigint;
  term: number;
  /** For MsgApp: the term of the entry at `index`. For votes: the candidate's last log term. */
  logTerm: number;
  /** For MsgApp: the index preceding `entries`. For votes: the candidate's last index. */
  index: number;
  entries: Entry[];
  commit: number;
  snapshot: Snapshot | undefined;
  reject: boolean;
  rejectHint: number;
  context: Uint8Array;
}

export enum ConfChangeType {
  ConfChangeAddNode = 0,
  ConfChangeRemoveNode = 1,
  ConfChangeUpdateNode = 2,
  ConfChangeAddLearnerNode = 3,
}

/** The original, single-change configuration change (etcd's ConfChange "v1"). */
export interface ConfChange {
  type: ConfChangeType;
  nodeId: bigint;
  context: Uint8Array;
  id: bigint;
}

export enum ConfChangeTransition {
  /** Joint only when more than one change is made; then left automatically once committed. */
  ConfChangeTransitionAuto = 0,
  /** Always joint, left automatically once committed. */
  ConfChangeTransitionJointImplicit = 1,
  /** Always joint, left only by an explicit empty ConfChangeV2 from the application. */
  ConfChangeTransitionJointExplicit = 2,
}

export interface ConfChangeSingle {
  type: ConfChangeType;
  nodeId: bigint;
}

/**
 * A configuration change of any number of nodes. An empty `changes` list with a joint config active
 * means "leave the joint config".
 */
export interface ConfChangeV2 {
  transition: ConfChangeTransition;
  changes: ConfChangeSingle[];
  context: Uint8Array;
}

const EMPTY_BYTES = new Uint8Array(0);

export function emptyBytes(): Uint8Array {
  return EMPTY_BYTES;
}

export function newMessage(fields: Partial<Message> & Pick<Message, 'type'>): Message {
  return {
    to: NONE,
    from: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    snapshot: undefined,
    reject: false,
    rejectHint: 0,
    context: EMPTY_BYTES,
    ...fields,
  };
}

export function newEntry(fields: Partial<Entry>): Entry {
  return { term: 0, index: 0, type: EntryType.EntryNormal, data: EMPTY_BYTES, ...fields };
}

export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

export function emptyHardState(): HardState {
  return { term: 0, vote: NONE, commit: 0 };
}

export function emptySnapshot(): Snapshot {
  return { data: EMPTY_BYTES, metadata: { confState: emptyConfState(), index: 0, term: 0 } };
}

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === NONE && hs.commit === 0;
}

export function isEmptySnapshot(snap: Snapshot | undefined): boolean {
  return snap === undefined || snap.metadata.index === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** The encoded size estimate used for message-size limits (etcd uses Entry.Size()). */
export function entrySizeBytes(e: Entry): number {
  return e.data.length + 24;
}

/** Converts a v1 ConfChange into the equivalent ConfChangeV2. */
export function confChangeToV2(cc: ConfChange): ConfChangeV2 {
  return {
    transition: ConfChangeTransition.ConfChangeTransitionAuto,
    changes: [{ type: cc.type, nodeId: cc.nodeId }],
    context: cc.context,
  };
}

/** A v2 change leaves a joint config when it carries no changes. */
export function leavesJoint(cc: ConfChangeV2): boolean {
  return cc.changes.length === 0;
}

/**
 * Whether applying this change enters a joint config, and whether that joint config is left
 * automatically. Auto transitions use joint consensus only for more than one change.
 */
export function entersJoint(cc: ConfChangeV2): { joint: boolean; autoLeave: boolean } {
  if (cc.transition !== ConfChangeTransition.ConfChangeTransitionAuto || cc.changes.length > 1) {
    switch (cc.transition) {
      case ConfChangeTransition.ConfChangeTransitionAuto:
      case ConfChangeTransition.ConfChangeTransitionJointImplicit:
        return { joint: true, autoLeave: true };
      case ConfChangeTransition.ConfChangeTransitionJointExplicit:
        return { joint: true, autoLeave: false };
    }
  }
  return { joint: false, autoLeave: false };
}
