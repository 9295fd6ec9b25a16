import {
  closeSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../util/logger.js';
import { decodeSnapshot, encodeSnapshot } from '../raftpb/codec.js';
import type { Snapshot } from '../raftpb/types.js';
import { isEmptySnapshot } from '../raftpb/types.js';
import { decodeSnapFile, encodeSnapFile, SnapFileError } from './snap-file.js';

/** A snapshot position as the WAL records it (etcd walpb.Snapshot). */
export interface SnapPosition {
  index: number;
  term: number;
}

export class NoSnapshotError extends Error {
  override readonly name = 'NoSnapshotError';
  constructor() {
    super('snap: no available snapshot');
  }
}

const SNAP_SUFFIX = '.snap';
const BROKEN_SUFFIX = '.broken';

/**
 * Raft snapshots on disk (etcd's snap.Snapshotter): `<term:016x>-<index:016x>.snap` files holding
 * the raft Snapshot (metadata + the application's small data), and `<index:016x>.snap.db` files
 * holding a database image received from the leader. Files are written to a temporary name, fsynced,
 * renamed and the directory fsynced, so a crash leaves either the old set or the new one.
 */
export class Snapshotter {
  constructor(
    readonly dir: string,
    private readonly logger: Logger,
  ) {}

  static fileName(term: number, index: number): string {
    return `${hex16(term)}-${hex16(index)}${SNAP_SUFFIX}`;
  }

  /** Where the database image for a snapshot at `index` lives. */
  dbFilePath(index: number): string {
    return join(this.dir, `${hex16(index)}.snap.db`);
  }

  /** Persists a snapshot (no-op for an empty one). */
  save(snapshot: Snapshot): void {
    if (isEmptySnapshot(snapshot)) return;
    const { term, index } = snapshot.metadata;
    writeFileDurably(this.dir, Snapshotter.fileName(term, index), encodeSnapFile(encodeSnapshot(snapshot)));
  }

  /** The newest readable snapshot; unreadable ones are renamed `*.broken` and skipped. */
  load(): Snapshot {
    return this.loadMatching(() => true);
  }

  /**
   * The newest readable snapshot whose position is one of `positions` (those the WAL recorded):
   * a snapshot file written just before a crash, without its WAL record, must not be used, because
   * the WAL was not compacted behind it.
   */
  loadNewestAvailable(positions: SnapPosition[]): Snapshot {
    const wanted = new Set(positions.map((p) => `${p.term}/${p.index}`));
    return this.loadMatching((term, index) => wanted.has(`${term}/${index}`));
  }

  /** The positions of the snapshot files present (not yet checked), newest first. */
  positions(): SnapPosition[] {
    return this.snapNames()
      .map(parseName)
      .filter((p): p is SnapPosition => p !== undefined);
  }

  /** Deletes snapshot files and database images older than the newest `keep` snapshots. */
  purge(keep: number): number {
    const names = this.snapNames();
    let removed = 0;
    for (const name of names.slice(keep)) {
      rmSync(join(this.dir, name), { force: true });
      removed++;
    }
    const kept = new Set(names.slice(0, keep).map((n) => parseName(n)?.index));
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith('.snap.db')) continue;
      const index = Number.parseInt(name.slice(0, 16), 16);
      if (!kept.has(index)) {
        rmSync(join(this.dir, name), { force: true });
        removed++;
      }
    }
    return removed;
  }

  /** Snapshot file names, newest first. */
  private snapNames(): string[] {
    const names: string[] = [];
    for (const name of readdirSync(this.dir)) {
      if (parseName(name) !== undefined) names.push(name);
      else if (name.endsWith(SNAP_SUFFIX)) this.logger.warn(`skipped unexpected non snapshot file ${name}`);
    }
    // Fixed-width hex names sort by (term, index).
    return names.sort().reverse();
  }

  private loadMatching(accept: (term: number, index: number) => boolean): Snapshot {
    for (const name of this.snapNames()) {
      const pos = parseName(name);
      if (pos === undefined || !accept(pos.term, pos.index)) continue;
      const path = join(this.dir, name);
      try {
        const snapshot = decodeSnapshot(decodeSnapFile(readFileSync(path)));
        if (snapshot.metadata.term !== pos.term || snapshot.metadata.index !== pos.index) {
          throw new SnapFileError('file name does not match its content');
        }
        return snapshot;
      } catch (e) {
        if (!(e instanceof SnapFileError) && !(e instanceof Error && e.name === 'RaftpbDecodeError')) throw e;
        this.logger.warn(
          `failed to read snapshot file ${name}: ${e.message}; renamed to ${name}${BROKEN_SUFFIX}`,
        );
        renameSync(path, path + BROKEN_SUFFIX);
      }
    }
    throw new NoSnapshotError();
  }
}

function parseName(name: string): SnapPosition | undefined {
  const m = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/.exec(name);
  if (m === null) return undefined;
  const term = Number.parseInt(m[1] as string, 16);
  const index = Number.parseInt(m[2] as string, 16);
  if (!Number.isSafeInteger(term) || !Number.isSafeInteger(index)) return undefined;
  return { term, index };
}

function hex16(n: number): string {
  return n.toString(16).padStart(16, '0');
}

/** Write to a temporary name, fsync, rename into place, fsync the directory. */
export function writeFileDurably(dir: string, name: string, data: Uint8Array): void {
  const tmp = join(dir, `${name}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, name));
  const dfd = openSync(dir, 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}
