import type { Logger } from 'winston';
import type { RaftConfig } from '../raft/config.js';
import { RaftError } from '../raft/errors.js';
import type { MemoryStorage } from '../raft/memory-storage.js';
import { RawNode } from '../raft/raw-node.js';
import { StateType, type ReadState, type SoftState } from '../raft/ready.js';
import type { Rng } from '../raft/rng.js';
import type { Status } from '../raft/status.js';
import type { ConfChange, ConfChangeV2, Entry, HardState, Message, Snapshot } from '../raftpb/types.js';
import type { Snapshotter } from '../snap/snapshotter.js';
import type { Wal } from '../wal/wal.js';

/** What the application does with the committed part of a Ready. */
export interface RaftApplication {
  /**
   * Applies a snapshot received from the leader (if any), then the committed entries, in order.
   * Resolves once applied; the next Ready waits for it (apply in order, thesis §3.5).
   */
  apply(committed: { snapshot: Snapshot | undefined; entries: Entry[] }): Promise<void>;
  /** Leadership or role changed. */
  onSoftState?(ss: SoftState): void;
  /** The term, vote or commit index changed (before the entries are persisted). */
  onHardState?(hs: HardState): void;
  /** ReadIndex answers; serve each read once applied >= index. */
  onReadStates?(rs: ReadState[]): void;
  /** A persistence step failed: the member must stop (the disk's state is unknown). */
  onFatal(err: Error): void;
}

export interface RaftNodeOptions {
  id: bigint;
  /** The core's limits and switches (etcd: PreVote and CheckQuorum on, 1 MiB messages, 512 in flight). */
  raft: Omit<RaftConfig, 'id' | 'storage' | 'applied' | 'rng' | 'logger'>;
  /** One tick every tickMs (etcd --heartbeat-interval). */
  tickMs: number;
  /** The raft log, restored by the caller from the latest snapshot and the WAL. */
  storage: MemoryStorage;
  /** The index the application state already covers (the snapshot's on restart). */
  applied: number;
  wal: Wal;
  snapshotter: Snapshotter;
  /** Hands messages to the transport. Called only after what they depend on is durable. */
  send(msgs: Message[]): void;
  app: RaftApplication;
  rng: Rng;
  logger: Logger;
}

/**
 * Drives one RawNode (etcd's raftNode): the ticker, and the Ready loop that owns I/O ordering —
 * persist (snapshot file + WAL snapshot record, then entries and hard state with fdatasync when
 * needed) → send → apply → advance. Inputs (ticks, messages, proposals) are stepped at once and may
 * arrive while a Ready is being handled; the loop picks up their effects in the next Ready.
 */
export class RaftNode {
  readonly rawNode: RawNode;
  private ticker: NodeJS.Timeout | undefined;
  private running = false;
  private scheduled = false;
  private stopped = false;
  /** Whether the last soft state said leader (decides whether messages may go out before persisting). */
  private leading = false;
  /** Settles when the current Ready is done (for stop()). */
  private loop: Promise<void> = Promise.resolve();

  constructor(private readonly opts: RaftNodeOptions) {
    this.rawNode = new RawNode({
      ...opts.raft,
      id: opts.id,
      storage: opts.storage,
      applied: opts.applied,
      rng: opts.rng,
      logger: {
        info: (msg) => opts.logger.debug(msg, { component: 'raft' }),
        warn: (msg) => opts.logger.warn(msg, { component: 'raft' }),
      },
    });
  }

  start(): void {
    if (this.ticker !== undefined || this.stopped) return;
    this.ticker = setInterval(() => this.input(() => this.rawNode.tick()), this.opts.tickMs);
    this.schedule();
  }

  /** Stops ticking and stepping, and waits for the Ready being handled to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.ticker = undefined;
    await this.loop;
  }

  /** A message from a peer. Messages the core refuses (unknown peer, local types) are dropped. */
  step(m: Message): void {
    this.input(() => {
      try {
        this.rawNode.step(m);
      } catch (e) {
        if (!(e instanceof RaftError)) throw e;
        this.opts.logger.debug('dropped raft message', {
          type: m.type,
          from: m.from.toString(16),
          reason: e.message,
        });
      }
    });
  }

  /** Throws RaftError ErrProposalDropped when it cannot be taken now (no leader, …). */
  propose(data: Uint8Array): void {
    this.input(() => this.rawNode.propose(data));
  }

  proposeConfChange(cc: ConfChange | ConfChangeV2): void {
    this.input(() => this.rawNode.proposeConfChange(cc));
  }

  readIndex(requestCtx: Uint8Array): void {
    this.input(() => this.rawNode.readIndex(requestCtx));
  }

  /** Starts an election now (a member alone in its configuration need not wait for a timeout). */
  campaign(): void {
    this.input(() => this.rawNode.campaign());
  }

  transferLeader(to: bigint): void {
    this.input(() => this.rawNode.transferLeader(to));
  }

  reportUnreachable(id: bigint): void {
    this.input(() => this.rawNode.reportUnreachable(id));
  }

  reportSnapshot(id: bigint, ok: boolean): void {
    this.input(() => this.rawNode.reportSnapshot(id, ok));
  }

  status(): Status {
    return this.rawNode.status();
  }

  private input(fn: () => void): void {
    if (this.stopped) return;
    try {
      fn();
    } finally {
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.scheduled || this.running || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.loop = this.run();
    });
  }

  /** Handles Readys until there is nothing left to do. One loop at a time. */
  private async run(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      for (
        let handled = 0;
        handled < READYS_PER_TURN_MAX && !this.stopped && this.rawNode.hasReady();
        handled++
      ) {
        await this.handleReady();
      }
    } catch (err) {
      this.stopped = true;
      if (this.ticker !== undefined) clearInterval(this.ticker);
      this.opts.app.onFatal(err as Error);
      return;
    } finally {
      this.running = false;
    }
    // More work arrived, or the per-turn bound was hit: come back after other events had a turn.
    if (this.rawNode.hasReady()) this.schedule();
  }

  private async handleReady(): Promise<void> {
    const rd = this.rawNode.ready();
    const { wal, snapshotter, storage } = this.opts;
    if (rd.softState !== undefined) {
      this.leading = rd.softState.raftState === StateType.StateLeader;
      this.opts.app.onSoftState?.(rd.softState);
    }
    // A leader may send before its own write is durable (Raft thesis §10.2.1, as etcd does): its
    // entries count toward a quorum only through the followers' acknowledgements of what they persisted,
    // and it applies nothing before this Ready's persistence below. Followers and candidates must
    // persist first: their messages (acks, votes) promise what is on their disk.
    const early = this.leading && rd.messages.length > 0;
    if (early) this.opts.send(rd.messages);
    if (rd.hardState !== undefined) this.opts.app.onHardState?.(rd.hardState);
    // 1. Persist: the snapshot first (file, then its WAL record), then entries and hard state.
    if (rd.snapshot !== undefined) {
      snapshotter.save(rd.snapshot);
      await wal.saveSnapshot({
        index: rd.snapshot.metadata.index,
        term: rd.snapshot.metadata.term,
        confState: rd.snapshot.metadata.confState,
      });
      storage.applySnapshot(rd.snapshot);
    }
    await wal.save(rd.hardState, rd.entries, rd.mustSync);
    if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
    storage.append(rd.entries);
    // 2. Send: everything the messages promise is durable now.
    if (!early && rd.messages.length > 0) this.opts.send(rd.messages);
    if (rd.readStates.length > 0) this.opts.app.onReadStates?.(rd.readStates);
    // 3. Apply, in order.
    if (rd.snapshot !== undefined || rd.committedEntries.length > 0) {
      await this.opts.app.apply({ snapshot: rd.snapshot, entries: rd.committedEntries });
    }
    // 4. Acknowledge.
    this.rawNode.advance();
  }
}

/** Readys handled before yielding to the event loop, so network input is never starved. */
const READYS_PER_TURN_MAX = 64;
