import { join } from 'node:path';
import { BinaryReader, BinaryWriter } from '@bufbuild/protobuf/wire';
import type { Logger } from 'winston';
import type { Registry } from 'prom-client';
import { newBackendMetrics } from '../backend/metrics.js';
import type { ConfState } from '../raftpb/types.js';
import { Wal } from '../wal/wal.js';
import { idHex as hex } from '../transport/ids.js';
import { WalError } from '../wal/errors.js';
import { newWalMetrics } from '../wal/metrics.js';
import {
  DataDirError,
  META_CONSISTENT_INDEX,
  idBytes,
  isFreshDataDir,
  openDataDir,
  type MemberIdentity,
  type OpenedDataDir,
} from './bootstrap.js';
import type { ServerConfig } from './config.js';
import { decodeMember, loadMembership, saveMember } from './membership/backend-store.js';
import { RaftCluster } from './membership/cluster.js';
import { bootstrapCluster, InitialClusterError, parseInitialCluster } from './membership/initial-cluster.js';
import { canonicalUrl, type Member } from './membership/member.js';
import { callPeerApi } from './peer-api.js';
import { openRaftStorage, type RaftStorage } from './raft-storage.js';

/** Everything a member opens before it can run: data, Raft log, membership. */
export interface BootstrappedMember {
  dir: OpenedDataDir;
  raft: RaftStorage;
  cluster: RaftCluster;
  /** How it started: a new cluster, joining a running one, or a restart from its own data. */
  mode: 'new' | 'join' | 'restart';
}

/** How long a joining member tries to reach the cluster's members (etcd: a few seconds per peer). */
const JOIN_FETCH_TIMEOUT_MS = 5000;

/**
 * Decides what this start is and opens the member's state (etcd's bootstrap):
 *
 * - WAL present → restart: identity and membership come from the data dir; bootstrap flags are ignored.
 * - no WAL, empty data dir, --initial-cluster-state=new → a member of a new cluster: ids from
 *   --initial-cluster and the token, a bootstrap snapshot at index 1 holding every initial voter.
 * - no WAL, empty data dir, existing → joining: the cluster (and this member's id, added beforehand
 *   with MemberAdd) is fetched from the peers listed in --initial-cluster; the Raft log starts empty.
 * - no WAL but a database (made by `cairnctl snapshot restore`, or by Cairn before it had a WAL) → the
 *   data is kept and a new Raft history starts at index 1 with the membership the database holds.
 *
 * Throws DataDirError for a data dir this member must not use (another cluster's WAL, and so on).
 */
export async function bootstrapMember(
  config: ServerConfig,
  logger: Logger,
  registry: Registry,
  onFatal: (err: Error) => void,
): Promise<BootstrappedMember> {
  const walExists = await Wal.exists(config.walDir);
  const fresh = isFreshDataDir(config.dataDir);
  if (fresh && walExists) {
    throw new DataDirError(
      `wal dir ${config.walDir} holds a WAL but data dir ${config.dataDir} is empty; ` +
        'remove the WAL to start this member afresh, or point --data-dir at its data',
    );
  }
  let mode: BootstrappedMember['mode'] = walExists ? 'restart' : 'new';
  let initial: { identity: MemberIdentity; members: Member[] } | undefined;
  if (fresh) {
    if (config.initialClusterState === 'existing') {
      initial = await fetchClusterToJoin(config, logger);
      mode = 'join';
    } else {
      initial = initialClusterFromFlags(config);
    }
  }
  const dir = await openDataDir({
    dataDir: config.dataDir,
    logger: logger.child({ component: 'backend' }),
    metrics: newBackendMetrics(registry),
    onFatal,
    identity: initial?.identity,
    initialConsistentIndex: mode === 'join' ? 0 : 1,
  });
  try {
    const { backend, identity } = dir;
    if (initial !== undefined) {
      for (const m of initial.members) saveMember(backend, m);
      await backend.commit();
    }
    let membership = loadMembership(backend);
    if (membership.members.length === 0 && mode !== 'join') {
      // A database from before membership was stored: this member alone, as it ran then.
      const self: Member = {
        id: identity.memberId,
        name: config.name,
        peerURLs: config.initialAdvertisePeerUrls.map((u) => canonicalUrl(u)),
        clientURLs: [],
        isLearner: false,
      };
      saveMember(backend, self);
      await backend.commit();
      membership = { members: [self], removed: [] };
    }
    const cluster = new RaftCluster(
      identity.clusterId,
      membership.members,
      membership.removed,
      config.maxLearners,
    );
    if (!walExists && !fresh) {
      // A restored (or pre-WAL) database: a new Raft history starts at index 1 under it.
      backend.put('meta', META_CONSISTENT_INDEX, idBytes(1n));
      await backend.commit();
      logger.info('starting a new raft log for an existing database', { dataDir: config.dataDir });
    }
    const confState: ConfState | undefined =
      mode === 'join'
        ? undefined
        : {
            voters: cluster.voters().map((m) => m.id),
            learners: cluster.learners().map((m) => m.id),
            votersOutgoing: [],
            learnersNext: [],
            autoLeave: false,
          };
    let raft: RaftStorage;
    try {
      raft = await openRaftStorage({
        walDir: config.walDir,
        snapDir: join(config.dataDir, 'member', 'snap'),
        bootstrap: { metadata: encodeWalMetadata(identity), confState },
        logger: logger.child({ component: 'raft-storage' }),
        // The WAL's repair warnings and etcd_disk_wal_fsync_duration_seconds belong to the member.
        walOptions: { logger: logger.child({ component: 'wal' }), metrics: newWalMetrics(registry) },
      });
    } catch (err) {
      if (err instanceof WalError) {
        throw new DataDirError(`wal dir ${config.walDir}: ${err.message}`);
      }
      throw err;
    }
    const walIdentity = decodeWalMetadata(raft.metadata);
    if (walIdentity.clusterId !== identity.clusterId || walIdentity.memberId !== identity.memberId) {
      await raft.wal.close();
      throw new DataDirError(
        `wal dir ${config.walDir} belongs to member ${hex(walIdentity.memberId)} of cluster ` +
          `${hex(walIdentity.clusterId)}, but data dir ${config.dataDir} to member ` +
          `${hex(identity.memberId)} of cluster ${hex(identity.clusterId)}`,
      );
    }
    if (mode === 'restart' && config.initialClusterState === 'new') {
      logger.info('data dir holds a member already; ignoring the --initial-cluster* flags', {
        dataDir: config.dataDir,
      });
    }
    return { dir, raft, cluster, mode };
  } catch (err) {
    await dir.backend.close().catch(() => undefined);
    dir.release();
    throw err;
  }
}

function initialClusterFromFlags(config: ServerConfig): { identity: MemberIdentity; members: Member[] } {
  try {
    const c = bootstrapCluster({
      name: config.name,
      initialCluster: parseInitialCluster(config.initialCluster),
      token: config.initialClusterToken,
      advertisePeerUrls: config.initialAdvertisePeerUrls.map((u) => canonicalUrl(u)),
    });
    return { identity: { clusterId: c.clusterId, memberId: c.self.id }, members: c.members };
  } catch (err) {
    if (err instanceof InitialClusterError) throw new DataDirError(err.message);
    throw err;
  }
}

/**
 * etcd's GetClusterFromRemotePeers: asks the other members listed in --initial-cluster for the cluster,
 * then finds this member in it by its advertised peer URLs (it must have been added with MemberAdd).
 */
async function fetchClusterToJoin(
  config: ServerConfig,
  logger: Logger,
): Promise<{ identity: MemberIdentity; members: Member[] }> {
  let parsed: Map<string, string[]>;
  try {
    parsed = parseInitialCluster(config.initialCluster);
  } catch (err) {
    throw new DataDirError((err as Error).message);
  }
  const own = new Set(config.initialAdvertisePeerUrls.map((u) => canonicalUrl(u)));
  const urls = [...parsed.entries()]
    .filter(([name]) => name !== config.name)
    .flatMap(([, us]) => us)
    .filter((u) => !own.has(canonicalUrl(u)));
  const errors: string[] = [];
  for (const url of urls) {
    let answer: { clusterId?: string; members?: unknown[] };
    try {
      answer = (await callPeerApi(url, 'GET', '/members', undefined, JOIN_FETCH_TIMEOUT_MS)) as typeof answer;
    } catch (err) {
      errors.push((err as Error).message);
      continue;
    }
    if (typeof answer.clusterId !== 'string' || !Array.isArray(answer.members)) {
      errors.push(`${url}: unexpected /members answer`);
      continue;
    }
    const members = answer.members.map((m) => decodeMember(Buffer.from(JSON.stringify(m))));
    const self = members.find((m) => m.peerURLs.some((u) => own.has(canonicalUrl(u))));
    if (self === undefined) {
      throw new DataDirError(
        `member with peer URLs ${[...own].join(',')} is not in the cluster at ${url}; add it first ` +
          '(member add) or start with --initial-cluster-state=new',
      );
    }
    const clusterId = BigInt('0x' + answer.clusterId);
    logger.info('joining a running cluster', { clusterId: hex(clusterId), memberId: hex(self.id), via: url });
    return { identity: { clusterId, memberId: self.id }, members };
  }
  throw new DataDirError(
    `cannot fetch cluster info from peer urls (--initial-cluster-state=existing): ${errors.join('; ') || 'no other members listed in --initial-cluster'}`,
  );
}

/** The WAL's metadata record (etcd pb.Metadata: NodeID = 1, ClusterID = 2). */
export function encodeWalMetadata(id: MemberIdentity): Uint8Array {
  return new BinaryWriter().uint32(8).uint64(id.memberId).uint32(16).uint64(id.clusterId).finish();
}

export function decodeWalMetadata(bytes: Uint8Array): MemberIdentity {
  const r = new BinaryReader(bytes);
  let memberId = 0n;
  let clusterId = 0n;
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag === 8) memberId = BigInt.asUintN(64, BigInt(r.uint64()));
    else if (tag === 16) clusterId = BigInt.asUintN(64, BigInt(r.uint64()));
    else r.skip(tag & 7);
  }
  return { memberId, clusterId };
}
