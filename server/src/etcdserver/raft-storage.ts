import { mkdirSync } from 'node:fs';
import type { Logger } from 'winston';
import { MemoryStorage } from '../raft/memory-storage.js';
import {
  emptyConfState,
  emptySnapshot,
  type ConfState,
  type HardState,
  type Snapshot,
} from '../raftpb/types.js';
import { NoSnapshotError, Snapshotter } from '../snap/snapshotter.js';
import { WalError } from '../wal/errors.js';
import { Wal, type WalOptions } from '../wal/wal.js';

/** A member's persisted Raft state, opened: the log to hand to RawNode and the files behind it. */
export interface RaftStorage {
  storage: MemoryStorage;
  wal: Wal;
  snapshotter: Snapshotter;
  /** The snapshot the log starts after (the bootstrap snapshot for a new member). */
  snapshot: Snapshot;
  hardState: HardState;
  /** The WAL's metadata (what create() was given). */
  metadata: Uint8Array;
  /** True when this call created the WAL (a new member). */
  fresh: boolean;
}

export interface OpenRaftStorageOptions {
  /** `<data-dir>/member/wal` (or --wal-dir). */
  walDir: string;
  /** `<data-dir>/member/snap`. */
  snapDir: string;
  /**
   * For a new member: the WAL metadata and the configuration it starts with (at index 1, term 1). A
   * member joining a running cluster has no configuration (undefined): its log starts empty and the
   * leader's first message to it is a snapshot, which brings the configuration.
   */
  bootstrap: { metadata: Uint8Array; confState: ConfState | undefined };
  logger: Logger;
  walOptions?: WalOptions;
}

/**
 * Opens (or creates) the WAL and snapshots of a member and rebuilds its Raft log in memory, as etcd's
 * bootstrap does: the newest snapshot, then the WAL from that snapshot on (hard state and entries). A
 * new member starts from a snapshot at index 1, term 1 holding its initial configuration, written to
 * both the snapshot dir and the WAL so a restart finds it like any other.
 */
export async function openRaftStorage(opts: OpenRaftStorageOptions): Promise<RaftStorage> {
  mkdirSync(opts.snapDir, { recursive: true });
  const snapshotter = new Snapshotter(opts.snapDir, opts.logger);
  const storage = new MemoryStorage();
  if (!(await Wal.exists(opts.walDir))) {
    if (opts.bootstrap.confState === undefined) {
      const wal = await Wal.create(opts.walDir, opts.bootstrap.metadata, opts.walOptions);
      return {
        storage,
        wal,
        snapshotter,
        snapshot: { data: new Uint8Array(0), metadata: { index: 0, term: 0, confState: emptyConfState() } },
        hardState: { term: 0, vote: 0n, commit: 0 },
        metadata: opts.bootstrap.metadata,
        fresh: true,
      };
    }
    const snapshot: Snapshot = {
      data: new Uint8Array(0),
      metadata: { index: 1, term: 1, confState: opts.bootstrap.confState },
    };
    const wal = await Wal.create(opts.walDir, opts.bootstrap.metadata, opts.walOptions);
    snapshotter.save(snapshot);
    await wal.saveSnapshot({ index: 1, term: 1, confState: snapshot.metadata.confState });
    storage.applySnapshot(snapshot);
    return {
      storage,
      wal,
      snapshotter,
      snapshot,
      hardState: { term: 0, vote: 0n, commit: 0 },
      metadata: opts.bootstrap.metadata,
      fresh: true,
    };
  }
  const { snapshot, wal } = await openAtNewestSnapshot(snapshotter, opts);
  const contents = await wal.readAll();
  if (snapshot.metadata.index === 0) {
    // Read from the very start: only a member that never had a snapshot has a log starting at 1 that
    // covers its commit index. Anything else lost the snapshot it was compacted behind.
    const first = contents.entries[0]?.index ?? 1;
    const last = contents.entries[contents.entries.length - 1]?.index ?? 0;
    if (first !== 1 || contents.hardState.commit > last || wal.lastIndex > last) {
      await wal.close();
      throw new Error(
        `raft storage: ${opts.walDir} has a WAL but ${opts.snapDir} has no snapshot the WAL recorded`,
      );
    }
  } else {
    storage.applySnapshot(snapshot);
  }
  storage.setHardState(contents.hardState);
  storage.append(contents.entries);
  return {
    storage,
    wal,
    snapshotter,
    snapshot,
    hardState: contents.hardState,
    metadata: contents.metadata,
    fresh: false,
  };
}

/**
 * The newest snapshot that is readable AND recorded in the WAL, with the WAL opened at it. A snapshot
 * file written just before a crash, without its WAL record, is passed over (etcd's
 * loadNewestAvailable): the WAL was not compacted behind it. Bounded by the snapshot files present.
 */
async function openAtNewestSnapshot(
  snapshotter: Snapshotter,
  opts: OpenRaftStorageOptions,
): Promise<{ snapshot: Snapshot; wal: Wal }> {
  for (const pos of snapshotter.positions()) {
    let snapshot: Snapshot;
    try {
      snapshot = snapshotter.loadNewestAvailable([pos]);
    } catch (e) {
      if (e instanceof NoSnapshotError) continue; // unreadable: renamed *.broken by the snapshotter
      throw e;
    }
    try {
      const wal = await Wal.open(opts.walDir, { index: pos.index, term: pos.term }, opts.walOptions);
      return { snapshot, wal };
    } catch (e) {
      if (e instanceof WalError && e.code === 'ErrSnapshotNotFound') {
        opts.logger.warn('snapshot file has no WAL record; trying an older one', {
          index: pos.index,
          term: pos.term,
        });
        continue;
      }
      throw e;
    }
  }
  // No snapshot yet: a member that joined a running cluster and has not received one. Its WAL starts
  // at {0, 0}; if it does not, the snapshot it needs is missing and Wal.open says so.
  const wal = await Wal.open(opts.walDir, { index: 0, term: 0 }, opts.walOptions);
  return { snapshot: emptySnapshot(), wal };
}
