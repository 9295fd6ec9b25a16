import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { open } from 'lmdb';
import type { Database, RootDatabase } from 'lmdb';
import type { Logger } from 'winston';
import { assert } from '../util/assert.js';
import { crc32c } from '../util/crc32c.js';
import type { BackendMetrics } from './metrics.js';
import { checkLmdbHeader, verifyInChild } from './verify.js';

/** The lmdb sub-databases Cairn uses (etcd calls them buckets). */
export type Bucket = 'key' | 'meta' | 'alarm' | 'lease' | 'members' | 'members_removed';
const BUCKETS: readonly Bucket[] = ['key', 'meta', 'alarm', 'lease', 'members', 'members_removed'];

export interface BackendOptions {
  /** Directory holding the lmdb environment (data.mdb, lock.mdb). */
  readonly dir: string;
  readonly logger: Logger;
  readonly metrics: BackendMetrics;
  /**
   * Operations after which a batch is committed at the end of the current write transaction instead
   * of at the end of the event-loop turn (etcd: 10,000). A transaction is never split across commits,
   * so one larger than this still commits whole.
   */
  readonly batchOpsMax?: number;
  /** Called when a commit fails: the in-memory state is then ahead of the disk and the member must stop. */
  readonly onFatal: (err: Error) => void;
}

interface Op {
  readonly bucket: Bucket;
  readonly key: Buffer;
  /** undefined = delete */
  readonly value: Buffer | undefined;
}

interface Batch {
  readonly id: number;
  readonly ops: Op[];
  readonly done: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

interface PendingValue {
  readonly value: Buffer | undefined;
  readonly batchId: number;
}

export const BATCH_OPS_MAX_DEFAULT = 10_000;

/**
 * The storage backend: an lmdb environment with group commit.
 *
 * Writers stage operations synchronously; staged operations are committed together in one lmdb write
 * transaction, which fsyncs before its promise resolves. While one commit is on disk the next batch
 * fills up, so N concurrent writers share one fsync instead of paying N (etcd batches backend commits
 * the same way). Until its batch is durable, a staged value is served from the pending buffer, so the
 * writer path (which is ahead of the disk) reads its own writes — etcd's read buffer.
 *
 * Invariant: batches commit in the order they were staged; a batch's promise resolves only after it
 * and every earlier batch are durable.
 */
export class Backend {
  private env: RootDatabase;
  private dbs: Record<Bucket, Database<Buffer, Buffer>>;
  private readonly pending = new Map<string, PendingValue>();
  private readonly batchOpsMax: number;
  private staged: Batch;
  private inflight: Batch | undefined;
  private nextBatchId = 1;
  private commitScheduled = false;
  private closed = false;
  private failure: Error | undefined;
  /** While true (during defragment), staged writes wait in the pending buffer instead of committing. */
  private commitsHeld = false;
  /** Serialises defragment and snapshot copies: a copy must not read an environment being swapped out. */
  private maintenance: Promise<unknown> = Promise.resolve();
  private defragCount = 0;
  /** The directory of the current environment's lock file after a defragment (removed on the next one). */
  private defragLockDir: string | undefined;

  private constructor(
    private readonly opts: BackendOptions,
    env: RootDatabase,
  ) {
    this.env = env;
    this.batchOpsMax = opts.batchOpsMax ?? BATCH_OPS_MAX_DEFAULT;
    assert(this.batchOpsMax > 0, 'batchOpsMax must be positive');
    const dbs: Partial<Record<Bucket, Database<Buffer, Buffer>>> = {};
    for (const b of BUCKETS) {
      dbs[b] = env.openDB<Buffer, Buffer>(b, { encoding: 'binary', keyEncoding: 'binary' });
    }
    this.dbs = dbs as Record<Bucket, Database<Buffer, Buffer>>;
    this.staged = this.newBatch();
  }

  /**
   * Checks an existing environment before it is opened: LMDB crashes, rather than failing, on a damaged
   * file (see verify.ts). Throws with the reason; resolves with the buckets the file does not have.
   */
  static async verify(dir: string): Promise<Bucket[]> {
    const dataFile = join(dir, 'data.mdb');
    if (!existsSync(dataFile)) throw new Error(`backend: database file ${dataFile} is missing`);
    const bad = checkLmdbHeader(dataFile);
    if (bad !== undefined) throw new Error(`backend: ${dataFile} is not a valid lmdb file: ${bad}`);
    return (await verifyInChild(dir, BUCKETS)) as Bucket[];
  }

  /**
   * Opens the environment in `dir`. `mustExist` refuses to create a new one: an existing member whose
   * database file vanished must not silently start empty. Call verify() first on an existing one.
   */
  static open(opts: BackendOptions, mustExist: boolean): Backend {
    const dataFile = join(opts.dir, 'data.mdb');
    if (mustExist && !existsSync(dataFile)) {
      throw new Error(`backend: database file ${dataFile} is missing`);
    }
    if (existsSync(opts.dir)) {
      const unexpected = readdirSync(opts.dir).filter((f) => f !== 'data.mdb' && f !== 'lock.mdb');
      if (unexpected.length > 0) {
        throw new Error(
          `backend: ${opts.dir} holds files that are not an lmdb environment: ${unexpected.join(', ')}`,
        );
      }
    }
    mkdirSync(opts.dir, { recursive: true });
    removeDefragLeftovers(opts.dir);
    let env: RootDatabase;
    try {
      // overlappingSync off: a commit's promise resolves only once the data is fsynced.
      env = openEnv(opts.dir);
    } catch (err) {
      throw new Error(`backend: cannot open lmdb environment in ${opts.dir}: ${(err as Error).message}`);
    }
    try {
      return new Backend(opts, env);
    } catch (err) {
      void env.close();
      throw new Error(`backend: cannot open buckets in ${opts.dir}: ${(err as Error).message}`);
    }
  }

  /** Reads a value, staged or committed. */
  get(bucket: Bucket, key: Buffer): Buffer | undefined {
    const p = this.pending.get(pendingKey(bucket, key));
    if (p !== undefined) return p.value;
    return this.dbs[bucket].getBinary(key);
  }

  /**
   * Iterates committed entries with start <= key < end in key order. Staged writes are not seen: the
   * caller must only range over data it knows is durable (for example revisions <= a committed one).
   */
  *rangeCommitted(
    bucket: Bucket,
    start: Buffer | undefined,
    end: Buffer | undefined,
  ): Generator<[Buffer, Buffer]> {
    const opts: { start?: Buffer; end?: Buffer } = {};
    if (start !== undefined) opts.start = start;
    if (end !== undefined) opts.end = end;
    for (const { key, value } of this.dbs[bucket].getRange(opts)) {
      yield [key, value];
    }
  }

  put(bucket: Bucket, key: Buffer, value: Buffer): void {
    this.stage({ bucket, key, value });
  }

  delete(bucket: Bucket, key: Buffer): void {
    this.stage({ bucket, key, value: undefined });
  }

  /**
   * Marks the end of one atomic group of staged writes (a write transaction). Only here may a full
   * batch be committed early: flushing in the middle of a group would split it over two lmdb commits,
   * and a crash between them would leave half a transaction on disk.
   */
  endTxn(): void {
    if (this.staged.ops.length >= this.batchOpsMax && this.inflight === undefined) this.flush();
  }

  /** Resolves once everything staged so far is durable. */
  commit(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.staged.ops.length > 0) return this.staged.done;
    if (this.inflight !== undefined) return this.inflight.done;
    return Promise.resolve();
  }

  /** True when staged or in-flight writes are not yet durable. */
  get hasPendingWrites(): boolean {
    return this.staged.ops.length > 0 || this.inflight !== undefined;
  }

  /** Size of the database file in bytes (etcd_mvcc_db_total_size_in_bytes). */
  sizeBytes(): number {
    try {
      return statSync(join(this.opts.dir, 'data.mdb')).size;
    } catch {
      return 0;
    }
  }

  /** Bytes of pages holding live data: tree pages of every bucket plus lmdb's root and meta pages. */
  sizeInUseBytes(): number {
    let pages = 2; // lmdb's two meta pages
    const root = this.env.getStats() as LmdbStats;
    pages += root.treeBranchPageCount + root.treeLeafPageCount + root.overflowPages;
    for (const b of BUCKETS) {
      const s = this.dbs[b].getStats() as LmdbStats;
      pages += s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages;
    }
    return pages * root.pageSize;
  }

  /** Number of entries committed in a bucket. */
  entryCount(bucket: Bucket): number {
    return (this.dbs[bucket].getStats() as LmdbStats).entryCount;
  }

  /**
   * CRC-32C of every committed entry of every bucket (buckets in name order; for each, its name and then
   * each key and value in key order): etcd's Hash RPC, over the whole backend. Staged writes are
   * committed first.
   */
  async hash(): Promise<number> {
    await this.commit();
    let crc = 0;
    for (const b of [...BUCKETS].sort()) {
      crc = crc32c(Buffer.from(b), crc);
      for (const { key, value } of this.dbs[b].getRange({})) {
        crc = crc32c(key, crc);
        crc = crc32c(value, crc);
      }
    }
    return crc;
  }

  /**
   * Writes a consistent copy of the committed database to `file` (lmdb's mdb_env_copy2 with compaction,
   * run off the event loop under one read transaction, so writes keep committing while it copies).
   */
  copyTo(dir: string): Promise<string> {
    return this.exclusive(async () => {
      mkdirSync(dir, { recursive: true });
      await this.env.backup(dir, true);
      return join(dir, 'data.mdb');
    });
  }

  /** Where a snapshot copy numbered `n` goes: next to the database, removed on open if left behind. */
  snapshotDir(n: number): string {
    return `${this.opts.dir}-snapshot-${n}`;
  }

  /**
   * Rebuilds the database file without free pages (etcd's defrag), so sizeBytes drops to about
   * sizeInUseBytes. Reads are served throughout; writes are staged as usual but their commit (and so
   * their acknowledgement) waits until the new file is in place. Steps, and what a crash leaves:
   *
   *   1. hold commits; wait for the commit in flight        crash: old file, complete
   *   2. compacting copy → <db>-defrag-N/data.mdb, fsync    crash: old file; the copy is removed on open
   *   3. open the copy as a second environment (readable)   crash: as 2
   *   4. rename the copy over <db>/data.mdb, fsync <db>     crash: old or new file, both complete:
   *                                                         nothing was committed after the copy began
   *   5. swap to the new environment (synchronously, so no read sees a gap), close the old one
   *   6. release commits: the staged writes commit into the new file
   *
   * The new environment keeps its lock file in <db>-defrag-N (lmdb opened it there); the directory is
   * removed when the next defragment or open no longer needs it.
   */
  defragment(): Promise<void> {
    return this.exclusive(() => this.defragmentNow());
  }

  private async defragmentNow(): Promise<void> {
    assert(!this.closed, 'backend: defragment after close');
    if (this.failure !== undefined) throw this.failure;
    this.commitsHeld = true;
    const tmpDir = `${this.opts.dir}-defrag-${++this.defragCount}`;
    try {
      while (this.inflight !== undefined) await this.inflight.done;
      rmSync(tmpDir, { recursive: true, force: true });
      mkdirSync(tmpDir, { recursive: true });
      // lmdb's copy writes <dir>/data.mdb into an existing directory.
      const tmpFile = join(tmpDir, 'data.mdb');
      await this.env.backup(tmpDir, true);
      fsyncPath(tmpFile);
      await this.swapIn(tmpDir);
    } catch (err) {
      if (this.defragLockDir !== tmpDir) rmSync(tmpDir, { recursive: true, force: true });
      throw new Error(`backend: defragment failed: ${(err as Error).message}`);
    } finally {
      this.commitsHeld = false;
      if (this.staged.ops.length > 0 && this.inflight === undefined) this.flush();
    }
  }

  /**
   * Replaces the whole database with the lmdb image in `file` (a snapshot received from the leader),
   * with the same crash-safe swap as defragment: the image is checked in a child process (LMDB crashes
   * on damaged pages), then renamed over data.mdb. Everything staged before is committed first; the
   * caller must not stage writes until this resolves. `file` is moved, not copied.
   */
  replaceWith(file: string): Promise<void> {
    return this.exclusive(async () => {
      assert(!this.closed, 'backend: replaceWith after close');
      await this.commit();
      this.commitsHeld = true;
      const tmpDir = `${this.opts.dir}-defrag-${++this.defragCount}`;
      try {
        while (this.inflight !== undefined) await this.inflight.done;
        assert(this.staged.ops.length === 0, 'backend: writes staged during replaceWith');
        rmSync(tmpDir, { recursive: true, force: true });
        mkdirSync(tmpDir, { recursive: true });
        const tmpFile = join(tmpDir, 'data.mdb');
        try {
          renameSync(file, tmpFile);
        } catch {
          copyFileSync(file, tmpFile);
          rmSync(file, { force: true });
        }
        fsyncPath(tmpFile);
        const bad = checkLmdbHeader(tmpFile);
        if (bad !== undefined) throw new Error(`not a valid lmdb file: ${bad}`);
        const missing = await verifyInChild(tmpDir, BUCKETS);
        if (missing.includes('key') || missing.includes('meta')) throw new Error('not a Cairn database');
        await this.swapIn(tmpDir);
        this.pending.clear();
      } catch (err) {
        if (this.defragLockDir !== tmpDir) rmSync(tmpDir, { recursive: true, force: true });
        throw new Error(`backend: installing a snapshot failed: ${(err as Error).message}`);
      } finally {
        this.commitsHeld = false;
      }
    });
  }

  /** Opens the environment in `dir` (its data.mdb complete and fsynced), renames it in place, swaps. */
  private async swapIn(dir: string): Promise<void> {
    const env = openEnv(dir);
    let dbs: Record<Bucket, Database<Buffer, Buffer>>;
    try {
      dbs = openBuckets(env);
      renameSync(join(dir, 'data.mdb'), join(this.opts.dir, 'data.mdb'));
    } catch (err) {
      await env.close();
      throw err;
    }
    fsyncPath(this.opts.dir);
    const old = this.env;
    const oldLockDir = this.defragLockDir;
    this.env = env;
    this.dbs = dbs;
    this.defragLockDir = dir;
    await old.close();
    if (oldLockDir !== undefined) rmSync(oldLockDir, { recursive: true, force: true });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.maintenance.then(fn);
    this.maintenance = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.maintenance;
    await this.commit().catch(() => undefined);
    this.closed = true;
    await this.env.close();
  }

  private stage(op: Op): void {
    assert(!this.closed, 'backend: write after close');
    this.staged.ops.push(op);
    this.pending.set(pendingKey(op.bucket, op.key), { value: op.value, batchId: this.staged.id });
    if (!this.commitScheduled && this.inflight === undefined) {
      this.commitScheduled = true;
      // Commit at the end of this turn of the event loop, so everything written in it shares one fsync.
      setImmediate(() => {
        this.commitScheduled = false;
        if (this.inflight === undefined) this.flush();
      });
    }
  }

  private newBatch(): Batch {
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A batch nobody awaits must not become an unhandled rejection; failures also go to onFatal.
    done.catch(() => undefined);
    return { id: this.nextBatchId++, ops: [], done, resolve, reject };
  }

  private flush(): void {
    if (this.commitsHeld) return;
    assert(this.inflight === undefined, 'backend: one commit at a time');
    if (this.staged.ops.length === 0 || this.failure !== undefined) return;
    const batch = this.staged;
    this.staged = this.newBatch();
    this.inflight = batch;
    const started = performance.now();
    this.env
      .transaction(() => {
        for (const op of batch.ops) {
          const db = this.dbs[op.bucket];
          if (op.value === undefined) db.removeSync(op.key);
          else db.putSync(op.key, op.value);
        }
      })
      .then(
        () => {
          this.opts.metrics.commitDurationSeconds.observe((performance.now() - started) / 1000);
          for (const op of batch.ops) {
            const k = pendingKey(op.bucket, op.key);
            const p = this.pending.get(k);
            if (p !== undefined && p.batchId <= batch.id) this.pending.delete(k);
          }
          this.inflight = undefined;
          batch.resolve();
          if (this.staged.ops.length > 0) this.flush();
        },
        (err: unknown) => {
          const error = new Error(`backend: commit failed: ${(err as Error).message}`);
          this.failure = error;
          this.inflight = undefined;
          batch.reject(error);
          this.staged.reject(error);
          this.opts.logger.error('backend commit failed', { error: error.message });
          this.opts.onFatal(error);
        },
      );
  }
}

interface LmdbStats {
  pageSize: number;
  treeBranchPageCount: number;
  treeLeafPageCount: number;
  overflowPages: number;
  entryCount: number;
}

// overlappingSync off: a commit's promise resolves only once the data is fsynced.
function openEnv(dir: string): RootDatabase {
  return open({ path: dir, overlappingSync: false, maxDbs: 16, encoding: 'binary', keyEncoding: 'binary' });
}

function openBuckets(env: RootDatabase): Record<Bucket, Database<Buffer, Buffer>> {
  const dbs: Partial<Record<Bucket, Database<Buffer, Buffer>>> = {};
  for (const b of BUCKETS)
    dbs[b] = env.openDB<Buffer, Buffer>(b, { encoding: 'binary', keyEncoding: 'binary' });
  return dbs as Record<Bucket, Database<Buffer, Buffer>>;
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes what an interrupted defragment (<db>-defrag-N: a copy never renamed into place) or snapshot
 * stream (<db>-snapshot-N: the copy being sent) left next to `dir`.
 */
function removeDefragLeftovers(dir: string): void {
  const parent = dirname(dir);
  const prefixes = [basename(dir) + '-defrag-', basename(dir) + '-snapshot-'];
  if (!existsSync(parent)) return;
  for (const f of readdirSync(parent)) {
    if (prefixes.some((p) => f.startsWith(p))) rmSync(join(parent, f), { recursive: true, force: true });
  }
}

function pendingKey(bucket: Bucket, key: Buffer): string {
  return bucket + '/' + key.toString('latin1');
}
