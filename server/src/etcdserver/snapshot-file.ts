import { createHash } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  closeSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { Backend } from '../backend/backend.js';
import { newBackendMetrics } from '../backend/metrics.js';
import { bytesToRevision } from '../mvcc/revision.js';
import { newLogger } from '../util/logger.js';
import { META_CLUSTER_ID, META_MEMBER_ID } from './bootstrap.js';
import { saveMember } from './membership/backend-store.js';
import { bootstrapCluster, InitialClusterError, parseInitialCluster } from './membership/initial-cluster.js';

/**
 * A snapshot file as `etcdctl snapshot save` / `cairnctl snapshot save` write it:
 *
 *   +------------------------------------+----------------+
 *   | lmdb image (compacted copy), zero-  | SHA-256 of the |
 *   | padded to a multiple of 512 bytes   | image: 32 bytes|
 *   +------------------------------------+----------------+
 *
 * so its size % 512 == 32 (etcd's hasChecksum). A bare image (size % 512 != 32, e.g. a data.mdb) is
 * accepted with --skip-hash-check, as etcd accepts a bare bbolt file.
 */
export const SHA256_BYTES = 32;

export class SnapshotFileError extends Error {
  override readonly name = 'SnapshotFileError';
}

export function hasChecksum(size: number): boolean {
  return size % 512 === SHA256_BYTES;
}

/** What `snapshot status` reports (etcd snapshot.Status). */
export interface SnapshotStatus {
  /** CRC-32C over every bucket (name, keys, values), as etcd's status hash and the Hash RPC. */
  readonly hash: number;
  /** The newest main revision in the key bucket. */
  readonly revision: number;
  /** Entries in all buckets. */
  readonly totalKey: number;
  /** Bytes of the database image (without the trailing SHA-256). */
  readonly totalSize: number;
}

/** Checks the trailing SHA-256 (unless skipped) and returns the image's size. */
export function verifySnapshotFile(file: string, skipHashCheck: boolean): number {
  const size = statSync(file).size;
  if (!hasChecksum(size)) {
    if (!skipHashCheck) throw new SnapshotFileError('snapshot missing hash but --skip-hash-check=false');
    return size;
  }
  const imageSize = size - SHA256_BYTES;
  if (skipHashCheck) return imageSize;
  const fd = openSync(file, 'r');
  try {
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let off = 0; off < imageSize;) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, imageSize - off), off);
      if (n <= 0) throw new SnapshotFileError('snapshot file shrank while being read');
      h.update(buf.subarray(0, n));
      off += n;
    }
    const want = Buffer.alloc(SHA256_BYTES);
    readSync(fd, want, 0, SHA256_BYTES, imageSize);
    const got = h.digest();
    if (!got.equals(want)) {
      throw new SnapshotFileError(`expected sha256 [${[...want].join(' ')}], got [${[...got].join(' ')}]`);
    }
  } finally {
    closeSync(fd);
  }
  return imageSize;
}

/**
 * Copies the image of `file` into `dbDir/data.mdb` (without the hash) and checks that it is a Cairn lmdb
 * database (in a child process first: LMDB crashes on damaged pages).
 */
async function installImage(file: string, dbDir: string, imageSize: number): Promise<void> {
  mkdirSync(dbDir, { recursive: true });
  const target = join(dbDir, 'data.mdb');
  copyFileSync(file, target);
  truncateSync(target, imageSize);
  let missing: string[];
  try {
    missing = await Backend.verify(dbDir);
  } catch {
    throw new SnapshotFileError('invalid database');
  }
  if (missing.includes('key') || missing.includes('meta')) throw new SnapshotFileError('invalid database');
}

function openBackend(dbDir: string): Backend {
  return Backend.open(
    {
      dir: dbDir,
      logger: newLogger('error', true),
      metrics: newBackendMetrics(new Registry()),
      onFatal: () => undefined,
    },
    true,
  );
}

/** etcd snapshot status, over our file format. Throws SnapshotFileError("invalid database") for others. */
export async function snapshotStatus(file: string): Promise<SnapshotStatus> {
  const size = statSync(file).size;
  const imageSize = hasChecksum(size) ? size - SHA256_BYTES : size;
  const tmp = mkdtempSync(join(tmpdir(), 'cairn-snapshot-status-'));
  try {
    await installImage(file, join(tmp, 'db'), imageSize);
    const backend = openBackend(join(tmp, 'db'));
    try {
      let revision = 0;
      for (const [k] of backend.rangeCommitted('key', undefined, undefined)) {
        revision = Math.max(revision, bytesToRevision(k).main);
      }
      const totalKey = backend.entryCount('key') + backend.entryCount('meta') + backend.entryCount('alarm');
      return { hash: await backend.hash(), revision, totalKey, totalSize: imageSize };
    } finally {
      await backend.close();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface RestoreOptions {
  readonly file: string;
  readonly dataDir: string;
  readonly name: string;
  /** --initial-cluster: name=peerURL,... */
  readonly initialCluster: string;
  readonly initialClusterToken: string;
  readonly initialAdvertisePeerUrls: string[];
  readonly skipHashCheck: boolean;
}

export interface RestoredMember {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  readonly peerUrls: string[];
}

/**
 * etcd snapshot restore for a Cairn member: checks the hash, writes <data-dir>/member/db/data.mdb from
 * the image and gives it a new identity — member and cluster ids derived as etcd derives them
 * (membership.NewMember: SHA-1 of the sorted peer URLs and the cluster token; the cluster id: SHA-1 of
 * the sorted member ids) — so members restored from one snapshot with one --initial-cluster agree.
 * Keys, revisions, compaction state and alarms are kept; the membership is replaced by the
 * --initial-cluster members.
 */
export async function restoreSnapshot(o: RestoreOptions): Promise<RestoredMember> {
  let cluster;
  try {
    cluster = bootstrapCluster({
      name: o.name,
      initialCluster: parseInitialCluster(o.initialCluster),
      token: o.initialClusterToken,
      advertisePeerUrls: o.initialAdvertisePeerUrls,
    });
  } catch (err) {
    if (err instanceof InitialClusterError) throw new SnapshotFileError(err.message);
    throw err;
  }
  try {
    statSync(o.dataDir);
    throw new SnapshotFileError(`data-dir "${o.dataDir}" exists`);
  } catch (err) {
    if (err instanceof SnapshotFileError) throw err;
  }
  const imageSize = verifySnapshotFile(o.file, o.skipHashCheck);
  const { clusterId } = cluster;
  const memberId = cluster.self.id;
  const dbDir = join(o.dataDir, 'member', 'db');
  try {
    await installImage(o.file, dbDir, imageSize);
    const backend = openBackend(dbDir);
    try {
      backend.put('meta', META_CLUSTER_ID, u64Bytes(clusterId));
      backend.put('meta', META_MEMBER_ID, u64Bytes(memberId));
      // The snapshot's membership is the old cluster's: the restored member starts a new cluster of
      // the --initial-cluster members (and a new Raft log at index 1, see member-bootstrap.ts).
      for (const bucket of ['members', 'members_removed'] as const) {
        for (const [k] of backend.rangeCommitted(bucket, undefined, undefined)) backend.delete(bucket, k);
      }
      for (const m of cluster.members) saveMember(backend, m);
      await backend.commit();
    } finally {
      await backend.close();
    }
  } catch (err) {
    rmSync(o.dataDir, { recursive: true, force: true });
    throw err;
  }
  return { clusterId, memberId, peerUrls: cluster.self.peerURLs };
}

function u64Bytes(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
}
