import { mkdir, open, readFile, readdir, rename, rm, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Registry } from 'prom-client';
import type { Logger } from 'winston';
import { encodeEntry, encodeHardState } from '../raftpb/codec.js';
import { emptyBytes, emptyHardState, isEmptyHardState, type Entry, type HardState } from '../raftpb/types.js';
import { assert } from '../util/assert.js';
import { newLogger } from '../util/logger.js';
import { WalError } from './errors.js';
import { newWalMetrics, type WalMetrics } from './metrics.js';
import { WalReader } from './reader.js';
import { RecordEncoder, RecordType, encodeWalSnapshot, type WalSnapshot } from './record.js';
import { TMP_SUFFIX, checkSequence, listDir, searchIndex, segmentName, type SegmentName } from './segment.js';

export type { WalSnapshot } from './record.js';

/** etcd's SegmentSizeBytes (64 MB there; a power of two here). */
export const SEGMENT_SIZE_BYTES_DEFAULT = 64 * 1024 * 1024;
/** Small enough for tests that cut often; a segment always holds its header and at least one save. */
export const SEGMENT_SIZE_BYTES_MIN = 1024;
/** etcd's warnSyncDuration. */
export const SYNC_WARN_DURATION_MS_DEFAULT = 1000;

export interface WalOptions {
  /** The size each segment is preallocated to; a save that takes the tail past it cuts a new segment. */
  readonly segmentSizeBytes?: number;
  /** Defaults to a silent logger. */
  readonly logger?: Logger;
  /** Defaults to metrics on a registry of this WAL's own (nothing exports them). */
  readonly metrics?: WalMetrics;
  /** An fdatasync/fsync slower than this logs "slow fdatasync". */
  readonly syncWarnDurationMs?: number;
}

interface Settings {
  readonly segmentSizeBytes: number;
  readonly logger: Logger;
  readonly metrics: WalMetrics;
  readonly syncWarnDurationMs: number;
}

function settings(o: WalOptions | undefined): Settings {
  const segmentSizeBytes = o?.segmentSizeBytes ?? SEGMENT_SIZE_BYTES_DEFAULT;
  if (!Number.isSafeInteger(segmentSizeBytes) || segmentSizeBytes < SEGMENT_SIZE_BYTES_MIN) {
    throw new RangeError(
      `wal: segmentSizeBytes ${segmentSizeBytes} must be an integer >= ${SEGMENT_SIZE_BYTES_MIN}`,
    );
  }
  const syncWarnDurationMs = o?.syncWarnDurationMs ?? SYNC_WARN_DURATION_MS_DEFAULT;
  if (!(syncWarnDurationMs >= 0)) {
    throw new RangeError(`wal: syncWarnDurationMs ${syncWarnDurationMs} must be >= 0`);
  }
  return {
    segmentSizeBytes,
    logger: o?.logger ?? newLogger('error', true),
    metrics: o?.metrics ?? newWalMetrics(new Registry()),
    syncWarnDurationMs,
  };
}

/** What open() read: the application restores its raft storage from it (see readAll). */
export interface WalContents {
  /** The metadata given to create(), as every segment repeats it. */
  readonly metadata: Uint8Array;
  /** The last hard state saved; empty ({0, 0, 0}) when none was. */
  readonly hardState: HardState;
  /**
   * The entries after the snapshot open() started at, in index order, with overwrites resolved: where a
   * later save rewrote an index (a new leader replacing an uncommitted suffix), the later entry and what
   * followed it win. Entries above hardState.commit may still be replaced by the cluster.
   */
  readonly entries: Entry[];
}

type Mode = 'reading' | 'appending' | 'closed';

/**
 * The write-ahead log: raft's hard state and entries, persisted before anything that depends on them is
 * sent (server/src/raft/README.md). etcd's WAL (server/storage/wal) in TypeScript, with etcd's byte
 * format; README.md in this folder has the layout, the CRC chain, the segment and repair rules.
 *
 * Use: `create()` a new WAL once, or `open()` an existing one at the snapshot the application loaded and
 * `readAll()` it; then, for each Ready: `saveSnapshot()` if it has a snapshot, `save()` its hard state and
 * entries, and only once that resolved send its messages. After the application has made a snapshot at
 * index i, `releaseLockTo(i)` deletes the segments the WAL no longer needs.
 *
 * Operations run one at a time in call order. A failed write or sync leaves the disk in an unknown
 * state (a later fsync may report success for pages that were dropped), so every later call throws
 * ErrFailed: the member must stop and reopen, which repairs or refuses the tail.
 *
 * One process per directory: the data directory's lock (etcdserver/bootstrap.ts) keeps a second member
 * out; the WAL takes no lock of its own.
 */
export class Wal {
  private mode: Mode;
  /** The error of a failed write or sync; nothing is written after it. */
  private failure: Error | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private contents: WalContents | undefined;

  private constructor(
    private readonly dir: string,
    private readonly s: Settings,
    /** All segment files in the directory, in sequence order; the last one is the tail. */
    private segments: SegmentName[],
    private tail: FileHandle,
    /** Invariant: the end of the last record in the tail; appending continues here. */
    private tailOffset: number,
    /** Holds the running CRC: the chain continues in every record appended. */
    private readonly encoder: RecordEncoder,
    private readonly metadata: Uint8Array,
    /** The last hard state saved; repeated at the head of every new segment. */
    private hardState: HardState,
    /** The index of the last entry saved (or snapshot, if larger): the next segment's name index - 1. */
    private lastIndexValue: number,
    contents: WalContents | undefined,
  ) {
    this.mode = contents === undefined ? 'appending' : 'reading';
    this.contents = contents;
  }

  /** Whether `dir` holds a WAL (any segment file). */
  /** The last index the WAL holds: of an entry, or of a snapshot record if that is larger. */
  get lastIndex(): number {
    return this.lastIndexValue;
  }

  static async exists(dir: string): Promise<boolean> {
    try {
      return (await listDir(dir)).segments.length > 0;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * Creates a WAL in `dir`, which must not exist or be empty (ErrExist otherwise), ready to append. The
   * first segment (crc record, metadata, the initial snapshot record {0, 0}) is written and synced in
   * `<dir>.tmp`, which is then renamed to `dir`: a crash leaves either no WAL or a complete one.
   */
  static async create(dir: string, metadata: Uint8Array, options?: WalOptions): Promise<Wal> {
    const s = settings(options);
    if ((await readdirOrEmpty(dir)).length > 0) {
      throw new WalError('ErrExist', `wal: cannot create a WAL in ${dir}: the directory is not empty`);
    }
    const tmpDir = `${dir}${TMP_SUFFIX}`;
    await rm(tmpDir, { recursive: true, force: true });
    await mkdir(tmpDir, { recursive: true });
    const name = segmentName(0, 0);
    const fh = await open(join(tmpDir, name), 'w+');
    const encoder = new RecordEncoder(0);
    let size: number;
    try {
      await fh.truncate(s.segmentSizeBytes);
      encoder.add(RecordType.Crc, emptyBytes());
      encoder.add(RecordType.Metadata, metadata);
      encoder.add(RecordType.Snapshot, encodeWalSnapshot({ index: 0, term: 0 }));
      const bytes = encoder.take();
      size = bytes.length;
      await writeAt(s, fh, bytes, 0);
      await timedSync(s, fh, 'fdatasync');
      await syncDir(s, tmpDir);
      // Replaces `dir` if it exists (it is empty); then make the rename durable.
      await rename(tmpDir, dir);
      await syncDir(s, dirname(dir));
    } catch (err) {
      await fh.close();
      throw err;
    }
    s.logger.info('created a WAL', { dir, segment: name });
    const segments = [{ name, seq: 0, index: 0 }];
    return new Wal(
      dir,
      s,
      segments,
      fh,
      size,
      encoder,
      new Uint8Array(metadata),
      emptyHardState(),
      0,
      undefined,
    );
  }

  /**
   * Opens the WAL in `dir` at `from`, the snapshot the application loaded ({index: 0, term: 0} for none):
   * reads and checks every record from the segment that holds `from.index` on (the repair rule is in
   * reader.ts and README.md), repairs a torn tail, and returns a WAL whose readAll() hands out what was
   * read. Refuses with WalError: ErrFileNotFound, ErrMissingSegment, ErrCRCMismatch, ErrCorrupt,
   * ErrMetadataConflict, ErrSnapshotMismatch, ErrSnapshotNotFound, ErrEntryGap.
   */
  static async open(dir: string, from: WalSnapshot, options?: WalOptions): Promise<Wal> {
    const s = settings(options);
    const { all, used, reader, tailSize } = await readWal(s, dir, from, true);
    const tailName = used[used.length - 1]!.name;
    const tail = await open(join(dir, tailName), 'r+');
    try {
      if (reader.tornBytes > 0) {
        // The unfinished write's remains are zeroed: appends start at endOffset, and stale bytes after
        // a shorter new record would misframe the next read (etcd ReadAll: ZeroToEnd).
        s.logger.warn('repairing a torn write at the end of the WAL', {
          segment: tailName,
          offset: reader.endOffset,
          discardedNonZeroBytes: reader.tornBytes,
          reason: reader.tornReason,
        });
        await tail.truncate(reader.endOffset);
        await tail.truncate(tailSize);
        await timedSync(s, tail, 'fdatasync');
      }
    } catch (err) {
      await tail.close();
      throw err;
    }
    const contents: WalContents = {
      metadata: reader.metadata!,
      hardState: reader.hardState,
      entries: reader.entries,
    };
    const encoder = new RecordEncoder(reader.crc);
    return new Wal(
      dir,
      s,
      all,
      tail,
      reader.endOffset,
      encoder,
      reader.metadata!,
      reader.hardState,
      reader.lastIndex,
      contents,
    );
  }

  /**
   * Checks the WAL in `dir` from `from` on without changing anything, as open() would (a torn tail is
   * accepted, not repaired), and returns the last hard state. Throws what open() throws.
   */
  static async verify(dir: string, from: WalSnapshot, options?: WalOptions): Promise<HardState> {
    const { reader } = await readWal(settings(options), dir, from, false);
    return reader.hardState;
  }

  /**
   * What open() read; called once, after open() and before anything is appended (a created WAL has
   * nothing to read). The WAL then appends after the last valid record.
   */
  readAll(): Promise<WalContents> {
    return this.exclusive(() => {
      assert(this.mode === 'reading', 'wal: readAll() is called once, after open()');
      const contents = this.contents!;
      this.contents = undefined;
      this.mode = 'appending';
      return Promise.resolve(contents);
    });
  }

  /**
   * Appends `entries` and then `hardState` (skipped when undefined or empty) in one write. The write is
   * fdatasynced before the promise resolves when `mustSync` is set, when there are entries, or when the
   * term or vote changed (etcd raft.MustSync); a commit-only change is left to the next sync — losing
   * it is safe, the leader tells it again. When the tail passes segmentSizeBytes, a new segment is cut
   * (which syncs the old one). Entries must be consecutive and must not leave a gap after the last index
   * saved; an entry at an index already saved replaces it and all after it on read.
   */
  save(hardState: HardState | undefined, entries: readonly Entry[], mustSync: boolean): Promise<void> {
    return this.exclusive(async () => {
      this.checkWritable();
      const hs = hardState !== undefined && !isEmptyHardState(hardState) ? hardState : undefined;
      if (hs === undefined && entries.length === 0) return;
      const first = entries[0];
      if (first !== undefined) {
        assert(
          first.index <= this.lastIndexValue + 1,
          `wal: entry ${first.index} would leave a gap after the last index ${this.lastIndexValue}`,
        );
        for (let i = 1; i < entries.length; i++) {
          assert(entries[i]!.index === first.index + i, 'wal: entries of one save must be consecutive');
        }
      }
      const sync =
        mustSync ||
        entries.length > 0 ||
        (hs !== undefined && (hs.term !== this.hardState.term || hs.vote !== this.hardState.vote));
      for (const e of entries) this.encoder.add(RecordType.Entry, encodeEntry(e));
      if (hs !== undefined) this.encoder.add(RecordType.State, encodeHardState(hs));
      await this.failing(async () => {
        await this.append(this.encoder.take());
        if (entries.length > 0) this.lastIndexValue = entries[entries.length - 1]!.index;
        if (hs !== undefined) this.hardState = { term: hs.term, vote: hs.vote, commit: hs.commit };
        if (this.tailOffset >= this.s.segmentSizeBytes) await this.cut();
        else if (sync) await timedSync(this.s, this.tail, 'fdatasync');
      });
    });
  }

  /**
   * Records that a snapshot at `snap` was saved (the log is compacted behind it), and syncs. open() at
   * this snapshot later finds and checks the record. Every snapshot but the initial {0, 0} carries its
   * confState (etcd ≥ 3.5).
   */
  saveSnapshot(snap: WalSnapshot): Promise<void> {
    return this.exclusive(async () => {
      this.checkWritable();
      assert(snap.index === 0 || snap.confState !== undefined, 'wal: a snapshot record needs its confState');
      this.encoder.add(RecordType.Snapshot, encodeWalSnapshot(snap));
      await this.failing(async () => {
        await this.append(this.encoder.take());
        // A segment cut from now on is named past the snapshot, so open() at it starts at or before
        // the segment holding this record.
        this.lastIndexValue = Math.max(this.lastIndexValue, snap.index);
        await timedSync(this.s, this.tail, 'fdatasync');
      });
    });
  }

  /**
   * Deletes the segments wholly before the one holding `index` — the one open() at a snapshot at `index`
   * starts reading from, which is kept, as is every later one. Called after a snapshot at `index` is
   * saved (and its record is in the WAL); opening at an older snapshot is then impossible.
   */
  releaseLockTo(index: number): Promise<void> {
    return this.exclusive(async () => {
      assert(this.mode !== 'closed', 'wal: releaseLockTo() after close()');
      const keep = searchIndex(this.segments, index);
      if (keep <= 0) return;
      const released = this.segments.slice(0, keep);
      // Oldest first: a crash part-way leaves a contiguous run of segments.
      for (const seg of released) {
        try {
          await unlink(join(this.dir, seg.name));
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      this.segments = this.segments.slice(keep);
      await syncDir(this.s, this.dir);
      this.s.logger.info('released WAL segments', {
        index,
        deleted: released.map((x) => x.name),
        first: this.segments[0]!.name,
      });
    });
  }

  /** Syncs what was written and closes the tail. Idempotent. */
  close(): Promise<void> {
    return this.exclusive(async () => {
      if (this.mode === 'closed') return;
      this.mode = 'closed';
      try {
        if (this.failure === undefined) await timedSync(this.s, this.tail, 'fdatasync');
      } finally {
        await this.tail.close();
      }
    });
  }

  /** The segment files, oldest first (for tests and status). */
  segmentNames(): string[] {
    return this.segments.map((x) => x.name);
  }

  private checkWritable(): void {
    assert(this.mode !== 'reading', 'wal: readAll() must be called before appending');
    assert(this.mode !== 'closed', 'wal: append after close()');
    if (this.failure !== undefined) {
      const why = this.failure.message;
      throw new WalError(
        'ErrFailed',
        `wal: an earlier write or sync failed (${why}); reopen the WAL`,
        undefined,
        undefined,
        {
          cause: this.failure,
        },
      );
    }
  }

  private async append(bytes: Buffer): Promise<void> {
    await writeAt(this.s, this.tail, bytes, this.tailOffset);
    this.tailOffset += bytes.length;
  }

  /**
   * Closes the full tail and continues in a new segment (etcd cut):
   *   1. truncate the tail at its last record and sync it — it ends exactly there from now on;
   *   2. write `<name>.tmp`, preallocated, with the crc record (the running CRC), the metadata and the
   *      last hard state, and sync it;
   *   3. rename it to `<seq+1>-<lastIndex+1>.wal` and sync the directory.
   * A crash before 3 leaves the old tail last (open() deletes the .tmp and appends to it); after 3, the
   * new segment, whose header is complete.
   */
  private async cut(): Promise<void> {
    await this.tail.truncate(this.tailOffset);
    await timedSync(this.s, this.tail, 'fdatasync');
    const seq = this.segments[this.segments.length - 1]!.seq + 1;
    const index = this.lastIndexValue + 1;
    const name = segmentName(seq, index);
    const tmpPath = join(this.dir, `${name}${TMP_SUFFIX}`);
    const fh = await open(tmpPath, 'w+');
    let size: number;
    try {
      await fh.truncate(this.s.segmentSizeBytes);
      this.encoder.add(RecordType.Crc, emptyBytes());
      this.encoder.add(RecordType.Metadata, this.metadata);
      if (!isEmptyHardState(this.hardState))
        this.encoder.add(RecordType.State, encodeHardState(this.hardState));
      const bytes = this.encoder.take();
      size = bytes.length;
      await writeAt(this.s, fh, bytes, 0);
      await timedSync(this.s, fh, 'fdatasync');
      await rename(tmpPath, join(this.dir, name));
      await syncDir(this.s, this.dir);
    } catch (err) {
      await fh.close();
      throw err;
    }
    await this.tail.close();
    this.tail = fh;
    this.tailOffset = size;
    this.segments.push({ name, seq, index });
    this.s.logger.info('created a new WAL segment', { segment: name });
  }

  private async failing(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
      throw err;
    }
  }

  /** Runs operations one at a time, in call order, whether the ones before succeeded or not. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/**
 * Lists `dir`, selects the segments to read for `from`, and reads them. `cleanUp` (open) deletes the
 * `.tmp` files of an interrupted cut; verify leaves them.
 */
async function readWal(
  s: Settings,
  dir: string,
  from: WalSnapshot,
  cleanUp: boolean,
): Promise<{ all: SegmentName[]; used: SegmentName[]; reader: WalReader; tailSize: number }> {
  let listing;
  try {
    listing = await listDir(dir);
  } catch (err) {
    if (isNotFound(err))
      throw new WalError('ErrFileNotFound', `wal: ${dir} does not exist`, undefined, undefined, {
        cause: err,
      });
    throw err;
  }
  for (const name of listing.other) s.logger.warn('ignored file in WAL directory', { dir, file: name });
  if (cleanUp) {
    for (const name of listing.tmp) {
      s.logger.info('removing a segment an interrupted cut left behind', { dir, file: name });
      await rm(join(dir, name), { recursive: true, force: true });
    }
  }
  const all = listing.segments;
  if (all.length === 0) throw new WalError('ErrFileNotFound', `wal: no segment files in ${dir}`);
  const start = searchIndex(all, from.index);
  if (start < 0) {
    throw new WalError(
      'ErrFileNotFound',
      `wal: no segment in ${dir} holds snapshot index ${from.index} (the first one is ${all[0]!.name})`,
      all[0]!.name,
    );
  }
  const used = all.slice(start);
  checkSequence(used);
  const reader = new WalReader(from);
  let tailSize = 0;
  for (let i = 0; i < used.length; i++) {
    const bytes = await readFile(join(dir, used[i]!.name));
    reader.readSegment(used[i]!.name, bytes, i === used.length - 1);
    tailSize = bytes.length;
  }
  if (!reader.snapshotMatched) {
    throw new WalError(
      'ErrSnapshotNotFound',
      `wal: no snapshot record at index ${from.index} (term ${from.term}) in ${dir} from ${used[0]!.name} on`,
    );
  }
  return { all, used, reader, tailSize };
}

async function writeAt(s: Settings, fh: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let done = 0;
  // Bounded: every iteration writes at least one byte or throws.
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`wal: write returned ${bytesWritten} bytes`);
    done += bytesWritten;
  }
  s.metrics.walWriteBytesTotal.inc(bytes.length);
}

async function timedSync(s: Settings, fh: FileHandle, kind: 'fdatasync' | 'fsync'): Promise<void> {
  const start = performance.now();
  if (kind === 'fdatasync') await fh.datasync();
  else await fh.sync();
  const tookMs = performance.now() - start;
  s.metrics.walFsyncDurationSeconds.observe(tookMs / 1000);
  if (tookMs > s.syncWarnDurationMs) {
    s.logger.warn(`slow ${kind}`, { tookMs: Math.round(tookMs), expectedMs: s.syncWarnDurationMs });
  }
}

/** Makes the creations, renames and deletions in `dir` durable. */
async function syncDir(s: Settings, dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await timedSync(s, fh, 'fsync');
  } finally {
    await fh.close();
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
