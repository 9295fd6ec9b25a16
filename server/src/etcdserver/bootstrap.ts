import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'winston';
import { Backend } from '../backend/backend.js';
import type { BackendMetrics } from '../backend/metrics.js';

/**
 * Data directory layout:
 *
 *   <data-dir>/
 *     member/
 *       db/data.mdb, db/lock.mdb   the lmdb environment (buckets "key" and "meta")
 *       cairn.pid                  the process that owns the directory while it runs
 *
 * The meta bucket holds the storage marker, which says this is a Cairn data dir and of which format,
 * and the member's identity. Without the marker the directory is refused: a member never silently
 * starts empty on a directory that held something else.
 */
export const STORAGE_VERSION = 'cairn-storage-v1';

const META_STORAGE_VERSION = Buffer.from('storageVersion');
export const META_CLUSTER_ID = Buffer.from('clusterID');
export const META_MEMBER_ID = Buffer.from('memberID');
/** The applied index (etcd's consistent index), written in the same commit as the data it covers. */
export const META_CONSISTENT_INDEX = Buffer.from('consistent_index');

export interface MemberIdentity {
  readonly clusterId: bigint;
  readonly memberId: bigint;
}

export class DataDirError extends Error {
  override readonly name = 'DataDirError';
}

export interface OpenedDataDir {
  readonly backend: Backend;
  readonly identity: MemberIdentity;
  readonly fresh: boolean;
  /** Releases the directory lock (the pid file). */
  readonly release: () => void;
}

export interface OpenDataDirOptions {
  readonly dataDir: string;
  readonly logger: Logger;
  readonly metrics: BackendMetrics;
  readonly onFatal: (err: Error) => void;
  /** The identity a fresh data dir is given (from --initial-cluster or the cluster joined); random if unset. */
  readonly identity?: MemberIdentity;
  /**
   * The consistent index a fresh data dir starts at: 1 for a member of a new cluster (its bootstrap
   * snapshot is index 1), 0 for one joining a running cluster (everything comes from the leader).
   */
  readonly initialConsistentIndex?: number;
}

/** A directory that does not exist or holds nothing but lost+found (a freshly formatted volume). */
export function isFreshDataDir(dataDir: string): boolean {
  return !existsSync(dataDir) || readdirSync(dataDir).every((f) => f === 'lost+found');
}

/**
 * Opens (or creates) a member's data directory and its backend. Throws DataDirError, with a message
 * meant for the operator, when the directory is not Cairn's, is corrupt, or is in use.
 */
export async function openDataDir(opts: OpenDataDirOptions): Promise<OpenedDataDir> {
  const { dataDir } = opts;
  const memberDir = join(dataDir, 'member');
  const dbDir = join(memberDir, 'db');
  // lost+found is what a freshly formatted volume holds (etcd ignores it too); it does not make the
  // directory someone else's.
  const fresh = isFreshDataDir(dataDir);
  if (!fresh) {
    if (!existsSync(join(dbDir, 'data.mdb'))) {
      const etcdLike = existsSync(join(memberDir, 'snap')) || existsSync(join(memberDir, 'wal'));
      throw new DataDirError(
        `data dir ${dataDir} is not empty and is not a Cairn data dir (member/db/data.mdb not found)` +
          (etcdLike ? '; it looks like an etcd data dir, which Cairn cannot read' : ''),
      );
    }
  }
  mkdirSync(memberDir, { recursive: true });
  const release = lockDataDir(memberDir);
  let backend: Backend;
  let missing: string[] = [];
  try {
    if (!fresh) missing = await Backend.verify(dbDir);
  } catch (err) {
    release();
    throw new DataDirError(`data dir ${dataDir} is corrupt or unreadable: ${(err as Error).message}`);
  }
  if (missing.includes('meta') || missing.includes('key')) {
    // Refuse before opening for writing, which would add our buckets to someone else's database.
    release();
    throw new DataDirError(
      `data dir ${dataDir} is not a Cairn data dir (member/db has no ${missing.join(', ')} bucket)`,
    );
  }
  try {
    backend = Backend.open(
      { dir: dbDir, logger: opts.logger, metrics: opts.metrics, onFatal: opts.onFatal },
      !fresh,
    );
  } catch (err) {
    release();
    throw new DataDirError(`data dir ${dataDir} is corrupt or unreadable: ${(err as Error).message}`);
  }
  try {
    const identity = fresh
      ? await initialise(
          backend,
          opts.identity ?? { clusterId: randomId(), memberId: randomId() },
          opts.initialConsistentIndex ?? 1,
        )
      : readIdentity(backend, dataDir);
    return { backend, identity, fresh, release };
  } catch (err) {
    await backend.close().catch(() => undefined);
    release();
    throw err;
  }
}

async function initialise(
  backend: Backend,
  identity: MemberIdentity,
  consistentIndex: number,
): Promise<MemberIdentity> {
  backend.put('meta', META_CLUSTER_ID, idBytes(identity.clusterId));
  backend.put('meta', META_MEMBER_ID, idBytes(identity.memberId));
  // Creating the member is the first applied entry (etcd's bootstrap applies its initial
  // configuration first), so a new member reports raftIndex 1, not 0.
  backend.put('meta', META_CONSISTENT_INDEX, idBytes(BigInt(consistentIndex)));
  // The marker goes last in the same commit: it is present only if the identity is.
  backend.put('meta', META_STORAGE_VERSION, Buffer.from(STORAGE_VERSION));
  await backend.commit();
  return identity;
}

function readIdentity(backend: Backend, dataDir: string): MemberIdentity {
  let marker: Buffer | undefined;
  try {
    marker = backend.get('meta', META_STORAGE_VERSION);
  } catch (err) {
    throw new DataDirError(`data dir ${dataDir} is corrupt: ${(err as Error).message}`);
  }
  if (marker === undefined) {
    throw new DataDirError(`data dir ${dataDir} is not a Cairn data dir (no storage marker in member/db)`);
  }
  if (marker.toString() !== STORAGE_VERSION) {
    throw new DataDirError(
      `data dir ${dataDir} has storage format "${marker.toString()}"; this build reads "${STORAGE_VERSION}"`,
    );
  }
  const clusterId = backend.get('meta', META_CLUSTER_ID);
  const memberId = backend.get('meta', META_MEMBER_ID);
  if (clusterId?.length !== 8 || memberId?.length !== 8) {
    throw new DataDirError(`data dir ${dataDir} is corrupt: member identity missing from the meta bucket`);
  }
  return { clusterId: clusterId.readBigUInt64BE(), memberId: memberId.readBigUInt64BE() };
}

/**
 * A pid file guards against two processes serving one data dir (lmdb itself would allow it). A stale
 * file from a crashed process is taken over.
 */
function lockDataDir(memberDir: string): () => void {
  const pidFile = join(memberDir, 'cairn.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new DataDirError(`data dir ${memberDir} is in use by process ${pid}`);
    }
  }
  writeFileSync(pidFile, `${process.pid}\n`);
  return () => rmSync(pidFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A random non-zero 64-bit id (etcd member and cluster ids are uint64). */
function randomId(): bigint {
  for (;;) {
    const id = randomBytes(8).readBigUInt64BE();
    if (id !== 0n) return id;
  }
}

export function idBytes(id: bigint): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeBigUInt64BE(id);
  return b;
}
