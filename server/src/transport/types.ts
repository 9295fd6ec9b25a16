import type { Message } from '../raftpb/types.js';

/**
 * A received snapshot's data, assembled into a file instead of memory (it is the MVCC database and may
 * be gigabytes). The MsgSnap handed to `TransportRaft.onSnapshot` carries the snapshot metadata and an
 * EMPTY `snapshot.data`; the bytes the leader put in `snapshot.data` are in this file.
 */
export interface SnapshotPayload {
  /** Absolute path in the transport's snapshotDir, fsynced; from the call on, the file is the callee's. */
  path: string;
  /** Size of the data in bytes (equal to the sender's snapshot.data.length). */
  sizeBytes: number;
  /** SHA-256 of the data, lower-case hex, computed while streaming. */
  sha256: string;
}

/**
 * What the transport needs from the member's Raft driver (etcd's rafthttp.Raft). All calls come from the
 * event loop; none may block. The transport never calls these after stop(), and never for a peer after
 * removePeer().
 */
export interface TransportRaft {
  /** A message received from a peer, in the order the peer sent it (per peer). */
  process(m: Message): void;
  /**
   * A MsgSnap whose data has been received into `payload.path`. The sender hears success (and reports
   * SnapshotFinish to its Raft) only when the returned promise resolves; on rejection the sender reports a
   * failure and the transport deletes the file.
   */
  onSnapshot(m: Message, payload: SnapshotPayload): Promise<void>;
  /** Messages to `id` were (probably) lost: Raft goes back to probing that follower. */
  reportUnreachable(id: bigint): void;
  /** The outcome of a MsgSnap sent to `id` (raft's SnapshotFinish / SnapshotFailure). */
  reportSnapshot(id: bigint, ok: boolean): void;
  /**
   * A peer refused us with HTTP 410: this member was removed from the cluster, possibly before it
   * could apply its own removal (etcd then stops the member).
   */
  onRemoved?(): void;
  /** Whether `id` was removed from the cluster: its requests are refused with HTTP 410. */
  isRemoved(id: bigint): boolean;
}

/**
 * The data of a snapshot to send, read one chunk at a time (a database file need not be in memory).
 * The transport calls close() exactly once, when the send is over, whatever its outcome.
 */
export interface SnapshotBody {
  readonly size: number;
  /** `length` bytes at `offset` (synchronous: one chunk, right before it is written). */
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

/** Counters of one peer's outgoing traffic, for tests and benchmarks (metrics carry the same in bytes). */
export interface PeerStats {
  /** Messages waiting in the send queue. */
  queuedMessages: number;
  /** Frames written to streams, and the writes that carried them (batching: writes ≪ frames). */
  framesSent: number;
  writes: number;
  bytesSent: number;
  /** Messages dropped because the send queue was full (or unencodable). */
  droppedMessages: number;
  /** Snapshot data chunks written (each waits for 'drain' when the stream is full). */
  snapshotChunksSent: number;
  /** Streams opened and accepted by the peer (1 + reconnections). */
  streamsOpened: number;
}
