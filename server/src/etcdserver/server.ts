import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Logger } from 'winston';
import type { Registry } from 'prom-client';
import { executeRange } from '../apply/range.js';
import { checkTxn, compareToPath, executeTxn, isTxnReadonly, txnHasPut } from '../apply/txn.js';
import type { Backend } from '../backend/backend.js';
import { EtcdError } from '../errors.js';
import { KVStore } from '../mvcc/kvstore.js';
import { WatchableStore } from '../mvcc/watchable-store.js';
import { newMvccMetrics } from '../mvcc/metrics.js';
import { AlarmRequest_AlarmAction as AlarmAction, AlarmType } from '../proto/gen/etcdserverpb/rpc.js';
import type {
  AlarmRequest,
  AlarmResponse,
  CompactionRequest,
  DefragmentResponse,
  HashKVRequest,
  HashKVResponse,
  HashResponse,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseHeader,
  StatusResponse,
  TxnRequest,
  TxnResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import { RaftError } from '../raft/errors.js';
import { StateType, type SoftState } from '../raft/ready.js';
import { Prng } from '../raft/rng.js';
import { decodeConfChange, decodeConfChangeV2 } from '../raftpb/codec.js';
import {
  EntryType,
  MessageType,
  NONE,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
} from '../raftpb/types.js';
import { idHex as hex } from '../transport/ids.js';
import { Transport } from '../transport/transport.js';
import type { SnapshotPayload } from '../transport/types.js';
import { toNumber } from '../apply/ranges.js';
import { AlarmStore, alarmString } from './alarms.js';
import { Applier, type ApplyResult } from './applier.js';
import {
  META_CLUSTER_ID,
  META_CONSISTENT_INDEX,
  META_MEMBER_ID,
  idBytes,
  type MemberIdentity,
} from './bootstrap.js';
import type { ServerConfig } from './config.js';
import { newServerMetrics } from './metrics.js';
import type { ServerMetrics } from './metrics.js';
import { rangeResponse, txnResponse } from './responses.js';
import { CAIRN_VERSION, ETCD_VERSION_EMULATED } from './version.js';
import { canonicalUrl } from './membership/member.js';
import { encodeMember, loadMembership, saveMember, saveRemoved } from './membership/backend-store.js';
import type { MembershipChange, RaftCluster } from './membership/cluster.js';
import { bootstrapMember } from './member-bootstrap.js';
import { Compactor } from './compactor.js';
import type { Clock } from '../lease/clock.js';
import { systemClock } from '../lease/clock.js';
import type { LessorConfig } from '../lease/lessor.js';
import { Lessor } from '../lease/lessor.js';
import type { LeaseMetrics } from '../lease/metrics.js';
import { newLeaseMetrics } from '../lease/metrics.js';
import type {
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import { IdGenerator } from './id-generator.js';
import { membershipChange } from './membership/conf-change.js';
import { MembershipOps } from './membership-ops.js';
import {
  LEASE_OVERHEAD_BYTES,
  internalRequestBytes,
  isTxnSerializable,
  learnerMayServe,
  putCost,
  txnCost,
} from './request-rules.js';
import { callPeerApi, closePeerApiSessions, PEER_API_PREFIXES, servePeerApi } from './peer-api.js';
import { RaftNode } from './raft-node.js';
import type { RaftStorage } from './raft-storage.js';
import { decodeRaftRequest, encodeRaftRequest, type RaftRequestBody } from './raft-request.js';
import { ReadIndexer } from './read-index.js';
import { Wait } from './wait.js';
import { IndexWaiter } from './wait-index.js';

/** What tests may change about a member beyond its command-line configuration. */
export interface EtcdServerOptions {
  /** The lessor's clock (default: the system clock). */
  readonly clock?: Clock;
  /** Lessor limits (default: etcd's, with a 2 s minimum TTL). */
  readonly lessor?: Partial<LessorConfig>;
}

type AppliedResult = Extract<ApplyResult, { error?: undefined }>;

/** etcd refuses new proposals when this many committed entries wait to be applied ("too many requests"). */
const MAX_GAP_BETWEEN_APPLY_AND_COMMIT = 5000;
/** etcd's readIndexRetryTime. */
const READ_INDEX_RETRY_MS = 500;
/** An apply slower than this is logged (etcd's warnApplyDuration). */
const SLOW_APPLY_MS = 100;
/** How long a member without a leader keeps hasleader streams open (etcd: 3 election timeouts). */
const NO_LEADER_STREAM_ELECTIONS = 3;
/** Snapshot files kept in the snap dir (etcd --max-snapshots). */
const MAX_SNAPSHOT_FILES = 5;

/**
 * A member of a replicated cluster (etcd's EtcdServer): every write is a Raft proposal that each member
 * applies at the same log index; the member that proposed it answers its client once it is applied and
 * durable. Linearizable reads go through ReadIndex; serializable reads and Status are local.
 */
export class EtcdServer {
  private appliedIndex: number;
  private snapshotIndex: number;
  private confState: ConfState;
  private term = 0;
  private committedIndex = 0;
  private lead = NONE;
  private raftState = StateType.StateFollower;
  private leaderlessSince: number | undefined = Date.now();
  private stopped = false;
  private removedSelf = false;
  private readonly metrics: ServerMetrics;
  private readonly alarms: AlarmStore;
  private compactor: Compactor | undefined;
  private lessorValue: Lessor;
  private readonly leaseMetrics: LeaseMetrics;
  private readonly applier: Applier;
  private readonly wait = new Wait<ApplyResult>();
  private readonly applied = new IndexWaiter();
  private readonly idGen: IdGenerator;
  private readonly readIndexer: ReadIndexer;
  readonly raftNode: RaftNode;
  readonly transport: Transport;
  /** Watchers over the store (the Watch service's backend). */
  readonly watchable: WatchableStore;
  /** Stream cancellers of hasleader streams, run when the member has had no leader for a while. */
  readonly leaderStreams = new Set<() => void>();
  private leaderMonitor: NodeJS.Timeout | undefined;
  private publishTimer: NodeJS.Timeout | undefined;
  /** A conf change was applied since the last snapshot. */
  private confChanged = false;
  private readonly requestTimeoutMs: number;

  private constructor(
    readonly config: ServerConfig,
    private readonly logger: Logger,
    private readonly backend: Backend,
    private readonly store: KVStore,
    readonly identity: MemberIdentity,
    readonly cluster: RaftCluster,
    raft: RaftStorage,
    registry: Registry,
    private readonly release: () => void,
    private readonly onFatal: (err: Error) => void,
    private readonly options: EtcdServerOptions,
  ) {
    this.appliedIndex = readConsistentIndex(backend);
    this.applied.trigger(this.appliedIndex);
    this.snapshotIndex = raft.snapshot.metadata.index;
    this.confState = raft.snapshot.metadata.confState;
    this.term = raft.hardState.term;
    this.committedIndex = raft.hardState.commit;
    this.requestTimeoutMs = 5000 + 2 * config.electionMs;
    this.alarms = new AlarmStore(backend);
    this.leaseMetrics = newLeaseMetrics(registry);
    this.lessorValue = this.recoverLessor();
    this.watchable = new WatchableStore(store, logger.child({ component: 'watch' }));
    this.idGen = new IdGenerator(identity.memberId, Date.now());
    this.applier = new Applier({
      backend,
      store,
      lessor: () => this.lessorValue,
      alarms: this.alarms,
      cluster,
      header: (rev) => this.header(rev),
      logger: logger.child({ component: 'apply' }),
    });
    this.metrics = newServerMetrics(registry, {
      dbSizeBytes: () => this.backend.sizeBytes(),
      dbSizeInUseBytes: () => this.backend.sizeInUseBytes(),
      keysTotal: () => this.store.keysTotal,
      appliedIndex: () => this.appliedIndex,
      watchers: () => this.watchable.watcherCount,
      slowWatchers: () => this.watchable.unsyncedCount,
      hasLeader: () => this.lead !== NONE,
      isLeader: () => this.isLeader(),
      committedIndex: () => this.committedIndex,
      pendingProposals: () => this.wait.size,
      isLearner: () => this.isLearner(),
      quotaBackendBytes: () => this.config.quotaBackendBytes,
    });
    this.transport = new Transport({
      clusterId: identity.clusterId,
      memberId: identity.memberId,
      raft: {
        process: (m) => {
          if (!this.isolated) this.raftNode.step(m);
        },
        onSnapshot: (m, payload) =>
          this.isolated ? Promise.reject(new Error('isolated')) : this.onSnapshotReceived(m, payload),
        reportUnreachable: (id) => this.raftNode.reportUnreachable(id),
        reportSnapshot: (id, ok) => this.raftNode.reportSnapshot(id, ok),
        isRemoved: (id) => this.cluster.isRemoved(id),
        onRemoved: () => this.stopRemoved(),
      },
      snapshotDir: raft.snapshotter.dir,
      registry,
      logger: logger.child({ component: 'rafthttp' }),
    });
    const seed = randomBytes(4).readUInt32BE();
    this.raftNode = new RaftNode({
      id: identity.memberId,
      raft: {
        electionTicks: Math.max(2, Math.round(config.electionMs / config.heartbeatMs)),
        heartbeatTicks: 1,
        maxSizePerMsgBytes: 1024 * 1024,
        maxInflightMsgs: 512,
        maxUncommittedEntriesBytes: 1 << 30,
        checkQuorum: true,
        preVote: config.preVote,
      },
      tickMs: config.heartbeatMs,
      storage: raft.storage,
      applied: raft.snapshot.metadata.index,
      wal: raft.wal,
      snapshotter: raft.snapshotter,
      send: (msgs) => this.send(msgs),
      app: {
        apply: (c) => this.applyAll(c.snapshot, c.entries),
        onSoftState: (ss) => this.onSoftState(ss),
        onHardState: (hs) => this.onHardState(hs),
        onReadStates: (rs) => this.readIndexer.onReadStates(rs),
        onFatal: (err) => this.onFatal(err),
      },
      rng: new Prng(seed),
      logger: logger.child({ component: 'raft' }),
    });
    this.raftStorage = raft;
    this.membership = new MembershipOps({
      cluster,
      config,
      memberId: identity.memberId,
      logger,
      requestTimeoutMs: this.requestTimeoutMs,
      checkRunning: () => this.checkRunning(),
      isLeader: () => this.isLeader(),
      leader: () => this.lead,
      header: (rev) => this.header(rev),
      readRev: () => this.store.readRev,
      nextId: () => this.idGen.next(),
      proposeAndWait: (id, propose) => this.proposeAndWait(id, propose),
      proposeConfChange: (cc) => this.raftNode.proposeConfChange(cc),
      transferLeader: (to) => this.raftNode.transferLeader(to),
      progress: () => this.raftNode.status().progress,
      linearizableRead: () => this.linearizableRead(),
      callLeader: (path, body) => this.callLeader(path, body),
      activeSince: (id) => this.transport.activeSince(id),
    });
    this.readIndexer = new ReadIndexer({
      readIndex: (ctx) => this.raftNode.readIndex(ctx),
      waitApplied: (index) => this.applied.wait(index),
      timeoutMs: this.requestTimeoutMs,
      retryMs: READ_INDEX_RETRY_MS,
    });
  }

  private readonly raftStorage: RaftStorage;

  /**
   * Opens (or creates) the member's data, WAL and snapshots, and starts Raft. Throws DataDirError for a
   * data dir it must not use. The caller serves the peer endpoints (handlePeerStream) on
   * --listen-peer-urls.
   */
  static async start(
    config: ServerConfig,
    logger: Logger,
    registry: Registry,
    onFatal: (err: Error) => void,
    options: EtcdServerOptions = {},
  ): Promise<EtcdServer> {
    const b = await bootstrapMember(config, logger, registry, onFatal);
    let store: KVStore;
    try {
      store = KVStore.open({
        backend: b.dir.backend,
        logger: logger.child({ component: 'mvcc' }),
        metrics: newMvccMetrics(registry),
      });
    } catch (err) {
      await b.raft.wal.close().catch(() => undefined);
      await b.dir.backend.close().catch(() => undefined);
      b.dir.release();
      throw err;
    }
    const s = new EtcdServer(
      config,
      logger,
      b.dir.backend,
      store,
      b.dir.identity,
      b.cluster,
      b.raft,
      registry,
      b.dir.release,
      onFatal,
      options,
    );
    logger.info(b.mode === 'restart' ? 'restarted member' : 'started a new member', {
      name: config.name,
      mode: b.mode,
      dataDir: config.dataDir,
      memberId: hex(s.identity.memberId),
      clusterId: hex(s.identity.clusterId),
      members: b.cluster.members().map((m) => hex(m.id)),
      revision: store.currentRev,
      appliedIndex: s.appliedIndex,
      snapshotIndex: s.snapshotIndex,
    });
    s.run();
    const voters = s.confState.voters;
    // Alone, it is its own leader within a moment: it returns ready, so a caller's first request does
    // not meet a member without a leader. Members of larger clusters need their peers for that: the
    // caller serves the peer URLs first, then waits for readyNotify().
    if (voters.length === 1 && voters[0] === s.identity.memberId) await s.readyNotify();
    return s;
  }

  /**
   * Resolves once the member has a leader and its attributes are applied (etcd ReadyNotify), and a
   * read through the log has completed, so Status reports a settled index. Clients are served after it.
   */
  async readyNotify(): Promise<void> {
    await this.published;
    for (;;) {
      // A removed member never becomes ready: `removed` settles instead.
      if (this.removedSelf) return new Promise<void>(() => undefined);
      if (this.stopped) return;
      try {
        if (this.isLearner()) return; // a learner has no ReadIndex of its own to wait for
        await this.linearizableRead();
        return;
      } catch {
        // no leader yet, or it changed: try again
      }
    }
  }

  private run(): void {
    if (this.cluster.isRemoved(this.identity.memberId)) {
      // Its own database says it was removed: nothing to rejoin (etcd stops such a member too).
      this.stopRemoved();
      return;
    }
    for (const m of this.cluster.members()) {
      if (m.id !== this.identity.memberId) this.transport.addPeer(m.id, m.peerURLs);
    }
    this.transport.start();
    this.raftNode.start();
    // A member alone in its configuration need not wait an election timeout to lead (etcd fast-forwards
    // its election ticks for the same reason).
    const voters = this.confState.voters;
    if (voters.length === 1 && voters[0] === this.identity.memberId) this.raftNode.campaign();
    this.startAutoCompaction();
    this.publishAttributes();
    this.leaderMonitor = setInterval(() => this.checkLeaderless(), this.config.electionMs);
    this.leaderMonitor.unref();
  }

  private startAutoCompaction(): void {
    if (this.config.autoCompaction === undefined) return;
    this.compactor = new Compactor({
      config: this.config.autoCompaction,
      logger: this.logger.child({ component: 'compactor' }),
      revision: () => this.store.currentRev,
      compact: async (rev) => {
        // Only the leader compacts (etcd's compactor runs everywhere but followers' proposals would
        // compact the same revisions again); followers apply the leader's compaction from the log.
        if (!this.isLeader()) return;
        await this.compact({ revision: BigInt(rev), physical: false }, 0);
      },
    });
    this.compactor.start();
  }

  /**
   * Publishes this member's name and client URLs through the log (etcd publishV3), retried until it is
   * applied: until then other members list it without a name ("unstarted").
   */
  /** Resolves once this member's attributes are applied (etcd ReadyNotify): it has a leader and a log. */
  private published: Promise<void> = Promise.resolve();

  private publishAttributes(): void {
    let resolvePublished!: () => void;
    this.published = new Promise<void>((resolve) => (resolvePublished = resolve));
    const attempt = (): void => {
      this.publishTimer = undefined;
      if (this.stopped || this.removedSelf) return;
      const self = this.cluster.member(this.identity.memberId);
      const clientURLs = this.config.advertiseClientUrls.map((u) => canonicalUrl(u));
      if (self !== undefined && self.name === this.config.name && sameList(self.clientURLs, clientURLs)) {
        resolvePublished();
        return;
      }
      this.propose({
        clusterMemberAttrSet: {
          memberID: this.identity.memberId,
          memberAttributes: { name: this.config.name, clientUrls: clientURLs },
        },
      }).then(
        () => {
          resolvePublished();
          this.logger.info('published local member to cluster through raft', { name: this.config.name });
        },
        () => {
          this.publishTimer = setTimeout(attempt, PUBLISH_RETRY_MS);
        },
      );
    };
    this.publishTimer = setTimeout(attempt, 0);
  }

  // ---- Raft driver callbacks ------------------------------------------------------------------------

  private onSoftState(ss: SoftState): void {
    const wasLeader = this.raftState === StateType.StateLeader;
    if (ss.lead !== this.lead) {
      if (ss.lead !== NONE) this.metrics.leaderChanges.inc();
      this.logger.info(ss.lead === NONE ? 'lost leader' : 'elected leader', {
        leader: hex(ss.lead),
        term: this.term,
      });
      const hadLeader = this.lead !== NONE;
      this.lead = ss.lead;
      this.leaderlessSince = ss.lead === NONE ? Date.now() : undefined;
      this.readIndexer.onLeaderChange(hadLeader);
    }
    this.raftState = ss.raftState;
    const isLeader = ss.raftState === StateType.StateLeader;
    if (isLeader && !wasLeader) {
      // etcd: a new leader gives every lease its full TTL plus an election timeout, so leases never
      // expire because leadership moved.
      this.lessorValue.promote();
    } else if (!isLeader && wasLeader) {
      this.lessorValue.demote();
    }
  }

  private onHardState(hs: HardState): void {
    this.term = hs.term;
    this.committedIndex = hs.commit;
  }

  /** The isolate failpoint (tests): every peer message in or out is dropped while set. */
  isolated = false;

  setIsolated(on: boolean): void {
    this.isolated = on;
    this.logger.warn(on ? 'failpoint: isolated from peers' : 'failpoint: peers reachable again');
  }

  /** Sends a Ready's messages; a MsgSnap gets the current database attached on its own (async) path. */
  private send(msgs: Message[]): void {
    if (this.isolated) return;
    const rest: Message[] = [];
    for (const m of msgs) {
      if (m.type === MessageType.MsgSnap) void this.sendSnapshot(m);
      else rest.push(m);
    }
    if (rest.length > 0) this.transport.send(rest);
  }

  /**
   * etcd's merged snapshot: the Raft snapshot's metadata with the whole database as data. The database
   * is newer than the snapshot's index; the follower skips the entries it already holds through the
   * consistent index stored inside it.
   */
  private async sendSnapshot(m: Message): Promise<void> {
    let copy: { file: string; remove(): void } | undefined;
    let fd: number | undefined;
    try {
      copy = await this.snapshotCopy();
      fd = openSync(copy.file, 'r');
      const size = fstatSync(fd).size;
      const snap = m.snapshot!;
      this.logger.info('sending database snapshot', {
        to: hex(m.to),
        index: snap.metadata.index,
        bytes: size,
      });
      // Streamed from the copy chunk by chunk; the copy goes once the transport is done with it.
      const file = { fd, copy };
      fd = undefined;
      copy = undefined;
      this.transport.sendSnapshotBody(m, {
        size,
        read: (offset, length) => {
          const buf = Buffer.allocUnsafe(length);
          const n = readSync(file.fd, buf, 0, length, offset);
          if (n !== length) throw new Error(`short read of the database copy at ${offset}`);
          return buf;
        },
        close: () => {
          closeSync(file.fd);
          file.copy.remove();
        },
      });
    } catch (err) {
      this.logger.warn('failed to prepare snapshot for follower', {
        to: hex(m.to),
        error: (err as Error).message,
      });
      this.raftNode.reportSnapshot(m.to, false);
    } finally {
      if (fd !== undefined) closeSync(fd);
      copy?.remove();
    }
  }

  /** A snapshot's data arrived in a file; Raft decides whether to take it (then apply installs it). */
  private onSnapshotReceived(m: Message, payload: SnapshotPayload): Promise<void> {
    this.logger.info('received database snapshot', {
      from: hex(m.from),
      index: m.snapshot?.metadata.index,
      bytes: payload.sizeBytes,
    });
    this.raftNode.step(m);
    return Promise.resolve();
  }

  /** Applies a Ready's snapshot and committed entries, in order (the Ready loop awaits this). */
  private async applyAll(snapshot: Snapshot | undefined, entries: Entry[]): Promise<void> {
    const started = performance.now();
    if (snapshot !== undefined && snapshot.metadata.index > 0) await this.installSnapshot(snapshot);
    for (const e of entries) {
      if (e.index <= this.appliedIndex && e.type === EntryType.EntryNormal) continue;
      switch (e.type) {
        case EntryType.EntryNormal:
          await this.applyNormal(e);
          break;
        case EntryType.EntryConfChange:
          this.applyConfChange(e, decodeConfChange(e.data));
          break;
        case EntryType.EntryConfChangeV2: {
          // Cairn proposes only v1 changes; a v2 entry is handed to Raft as is.
          this.confState = this.raftNode.rawNode.applyConfChange(decodeConfChangeV2(e.data));
          if (e.index > this.appliedIndex) this.applier.setConsistentIndex(e.index);
          break;
        }
      }
      if (e.index > this.appliedIndex) this.appliedIndex = e.index;
    }
    const last = this.appliedIndex;
    if (entries.length > 0) {
      // Reads may be served at an index only once it is durable: they read the durable view.
      void this.backend.commit().then(
        () => this.applied.trigger(last),
        () => undefined,
      );
    }
    const took = performance.now() - started;
    if (took > SLOW_APPLY_MS && entries.length > 0) {
      this.metrics.slowApplies.inc();
      this.logger.warn('apply request took too long', { tookMs: Math.round(took), entries: entries.length });
    }
    // After a membership change the snapshot must be taken at once (etcd#13741): a member just added
    // may need a snapshot to catch up, and Raft drops one whose configuration does not include it.
    const force = this.confChanged && this.appliedIndex > this.snapshotIndex;
    if (force || this.appliedIndex - this.snapshotIndex > this.config.snapshotCount) {
      this.confChanged = false;
      await this.triggerSnapshot();
    }
  }

  private async applyNormal(e: Entry): Promise<void> {
    if (e.data.length === 0) {
      // The empty entry a new leader appends: nothing to apply, but its index is applied.
      this.applier.setConsistentIndex(e.index);
      return;
    }
    const { id, request } = decodeRaftRequest(e.data);
    const result = await this.applier.apply(e.index, request);
    if (!this.wait.isRegistered(id)) return;
    // Answer once what the answer describes is on disk.
    this.backend.commit().then(
      () => this.wait.trigger(id, result),
      (err: Error) => this.wait.cancel(id, err),
    );
  }

  /**
   * A membership change (etcd applyConfChange): validated against the membership every member holds,
   * so all accept or all refuse; a refused one is applied to Raft as a no-op (node id 0).
   */
  private applyConfChange(e: Entry, cc: ConfChange): void {
    const fresh = e.index > this.appliedIndex;
    let change: MembershipChange | undefined;
    let error: Error | undefined;
    try {
      change = membershipChange(cc);
      if (fresh) this.cluster.validate(change);
    } catch (err) {
      error = err instanceof EtcdError ? err : new EtcdError('ErrMemberBadURLs', (err as Error).message);
    }
    if (error !== undefined || change === undefined) {
      this.confState = this.raftNode.rawNode.applyConfChange({ ...cc, nodeId: NONE });
    } else {
      this.confState = this.raftNode.rawNode.applyConfChange(cc);
      if (fresh) this.applyMembership(change);
    }
    if (fresh) this.applier.setConsistentIndex(e.index);
    this.confChanged = true;
    if (this.wait.isRegistered(cc.id)) {
      const result: ApplyResult = error !== undefined ? { error } : { response: {} };
      this.backend.commit().then(
        () => this.wait.trigger(cc.id, result),
        (err: Error) => this.wait.cancel(cc.id, err),
      );
    }
  }

  /** This member was removed from the cluster: it stops serving for good (etcd exits). */
  private stopRemoved(): void {
    if (this.removedSelf) return;
    this.removedSelf = true;
    this.logger.warn('the member has been permanently removed from the cluster; stopping');
    this.resolveRemoved();
  }

  private resolveRemoved: () => void = () => undefined;

  /** Resolves when this member learns it was removed from the cluster; the process then stops (etcd exits 0). */
  readonly removed: Promise<void> = new Promise<void>((resolve) => {
    this.resolveRemoved = resolve;
  });

  private applyMembership(change: MembershipChange): void {
    this.cluster.apply(change);
    const self = this.identity.memberId;
    switch (change.type) {
      case 'add':
        saveMember(this.backend, change.member);
        if (change.member.id !== self) this.transport.addPeer(change.member.id, change.member.peerURLs);
        this.logger.info('added member', { id: hex(change.member.id), learner: change.member.isLearner });
        return;
      case 'promote':
      case 'update': {
        const m = this.cluster.member(change.id)!;
        saveMember(this.backend, m);
        if (change.type === 'update' && m.id !== self) this.transport.updatePeer(m.id, m.peerURLs);
        this.logger.info(`${change.type === 'promote' ? 'promoted' : 'updated'} member`, { id: hex(m.id) });
        return;
      }
      case 'remove':
        saveRemoved(this.backend, change.id);
        this.logger.info('removed member', { id: hex(change.id) });
        if (change.id === self) {
          // After this entry is durable: then stop serving (etcd exits the member).
          void this.backend.commit().then(() => this.stopRemoved());
        } else {
          this.transport.removePeer(change.id);
        }
        return;
    }
  }

  /**
   * Installs a database received from the leader (etcd applySnapshot): the file replaces the backend,
   * then the store, the lessor, alarms and membership are rebuilt from it and watchers resynchronise.
   */
  private async installSnapshot(snapshot: Snapshot): Promise<void> {
    const started = performance.now();
    const file = this.raftStorage.snapshotter.dbFilePath(snapshot.metadata.index);
    this.logger.info('installing database snapshot', {
      index: snapshot.metadata.index,
      term: snapshot.metadata.term,
    });
    const delivered = this.store.readRev;
    await this.store.reload(async () => {
      await this.backend.replaceWith(file);
      // The image carries the leader's identity in its meta bucket: this member's goes back at once.
      this.backend.put('meta', META_CLUSTER_ID, idBytes(this.identity.clusterId));
      this.backend.put('meta', META_MEMBER_ID, idBytes(this.identity.memberId));
      await this.backend.commit();
    });
    const ci = readConsistentIndex(this.backend);
    this.appliedIndex = Math.max(ci, snapshot.metadata.index);
    this.snapshotIndex = snapshot.metadata.index;
    this.confState = snapshot.metadata.confState;
    const membership = loadMembership(this.backend);
    this.cluster.replace(membership.members, membership.removed);
    for (const m of membership.members) {
      if (m.id === this.identity.memberId) continue;
      this.transport.addPeer(m.id, m.peerURLs);
      this.transport.updatePeer(m.id, m.peerURLs);
    }
    for (const id of membership.removed) this.transport.removePeer(id);
    this.lessorValue.stop();
    this.lessorValue = this.recoverLessor();
    if (this.isLeader()) this.lessorValue.promote();
    this.watchable.restore(delivered);
    this.applied.trigger(this.appliedIndex);
    this.metrics.snapshotApplySeconds.observe((performance.now() - started) / 1000);
    this.logger.info('installed database snapshot', {
      index: snapshot.metadata.index,
      appliedIndex: this.appliedIndex,
      revision: this.store.currentRev,
    });
  }

  /**
   * Compacts the Raft log behind a snapshot (etcd triggerSnapshot): once the applied state is durable, a
   * snapshot record (no data: the database is the state) goes to the snap dir and the WAL, the in-memory
   * log keeps `snapshotCatchUpEntries` entries for slow followers, and old WAL segments are released.
   */
  private async triggerSnapshot(): Promise<void> {
    const started = performance.now();
    // The WAL before this index is about to be released: the database must hold it on disk.
    await this.backend.commit();
    const index = this.appliedIndex;
    const { storage, snapshotter, wal } = this.raftStorage;
    if (index <= storage.firstIndex() - 1) return;
    const snap = storage.createSnapshot(index, this.confState, new Uint8Array(0));
    snapshotter.save(snap);
    await wal.saveSnapshot({ index, term: snap.metadata.term, confState: snap.metadata.confState });
    this.snapshotIndex = index;
    const compactTo = index - this.config.snapshotCatchUpEntries;
    if (compactTo > storage.firstIndex()) storage.compact(compactTo);
    await wal.releaseLockTo(index);
    snapshotter.purge(MAX_SNAPSHOT_FILES);
    this.metrics.snapshotSaveSeconds.observe((performance.now() - started) / 1000);
    this.logger.info('saved snapshot', { index, compactedTo: Math.max(compactTo, 0) });
  }

  // ---- proposals and reads --------------------------------------------------------------------------

  /**
   * Proposes a request and waits until it is applied (etcd processInternalRaftRequestOnce). Fails with
   * "too many requests" when applying lags committing by more than 5000 entries, "request is too large"
   * above --max-request-bytes, "no leader" when there is none to take it, and a timeout error when it
   * is not applied within the request timeout.
   */
  private async propose(body: RaftRequestBody): Promise<AppliedResult> {
    this.checkRunning();
    if (this.committedIndex > this.appliedIndex + MAX_GAP_BETWEEN_APPLY_AND_COMMIT) {
      throw new EtcdError('ErrTooManyRequests');
    }
    const id = this.idGen.next();
    const data = encodeRaftRequest(id, body);
    if (data.length > this.config.maxRequestBytes) throw new EtcdError('ErrRequestTooLarge');
    return this.proposeAndWait(id, () => this.raftNode.propose(data));
  }

  private async proposeAndWait(id: bigint, proposeFn: () => void): Promise<AppliedResult> {
    const leaderAtStart = this.lead;
    const done = this.wait.register(id);
    try {
      proposeFn();
    } catch (err) {
      this.wait.cancel(id, new EtcdError('ErrStopped'));
      done.catch(() => undefined);
      this.metrics.proposalsFailed.inc();
      if (err instanceof RaftError && err.code === 'ErrProposalDropped') {
        throw new EtcdError(this.lead === NONE ? 'ErrNoLeader' : 'ErrProposalDropped');
      }
      throw err;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>(() => {
      timer = setTimeout(() => {
        this.metrics.proposalsFailed.inc();
        const code =
          this.lead === NONE || this.lead !== leaderAtStart ? 'ErrTimeoutDueToLeaderFail' : 'ErrTimeout';
        this.wait.cancel(id, new EtcdError(code));
      }, this.requestTimeoutMs);
    });
    try {
      const result = await Promise.race([done, timeout]);
      if (result.error !== undefined) throw result.error;
      return result;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits until a read issued now may be served locally (etcd linearizableReadNotify). */
  private async linearizableRead(): Promise<void> {
    this.checkRunning();
    await this.readIndexer.read();
  }

  isLeader(): boolean {
    return this.raftState === StateType.StateLeader;
  }

  isLearner(): boolean {
    return this.cluster.isLearner(this.identity.memberId);
  }

  /** The leader's id (0 when there is none known). */
  get leader(): bigint {
    return this.lead;
  }

  /** The response header etcd fills on every response (v3rpc header.go). */
  header(rev: number): ResponseHeader {
    return {
      clusterId: this.identity.clusterId,
      memberId: this.identity.memberId,
      revision: BigInt(rev),
      raftTerm: BigInt(this.term),
    };
  }

  private readonly headerFn = (rev: number): ResponseHeader => this.header(rev);

  /**
   * Checks every client request must pass (etcd's gRPC interceptors): a learner serves only
   * serializable ranges and Status; a request that asks for a leader (`hasleader` metadata) fails
   * while there is none.
   */
  checkRequest(method: string, request: unknown, requireLeader: boolean): void {
    this.checkRunning();
    if (this.isLearner() && !learnerMayServe(method, request))
      throw new EtcdError('ErrNotSupportedForLearner');
    if (requireLeader && this.lead === NONE) throw new EtcdError('ErrNoLeader');
  }

  /** Streams (Watch, LeaseKeepAlive, Snapshot) on a learner are refused, as etcd's stream interceptor does. */
  checkStream(requireLeader: boolean): void {
    this.checkRunning();
    if (this.isLearner()) throw new EtcdError('ErrNotSupportedForLearner');
    if (requireLeader && this.lead === NONE) throw new EtcdError('ErrNoLeader');
  }

  /** etcd's monitorLeader: hasleader streams are cancelled after a few election timeouts without a leader. */
  private checkLeaderless(): void {
    if (this.leaderlessSince === undefined) return;
    if (Date.now() - this.leaderlessSince < NO_LEADER_STREAM_ELECTIONS * this.config.electionMs) return;
    for (const cancel of [...this.leaderStreams]) cancel();
  }

  async range(r: RangeRequest): Promise<RangeResponse> {
    this.checkRunning();
    this.metrics.rangeTotal.inc();
    if (!r.serializable) await this.linearizableRead();
    return rangeResponse(this.headerFn, executeRange(this.store.read(), r));
  }

  async put(r: PutRequest, requestBytes: number): Promise<PutResponse> {
    this.preflight(requestBytes);
    this.checkSpace();
    this.checkQuota(putCost(r));
    this.metrics.putTotal.inc();
    return (await this.propose({ put: r })).response as PutResponse;
  }

  async deleteRange(r: DeleteRangeRequest, requestBytes: number): Promise<DeleteRangeResponse> {
    this.preflight(requestBytes);
    this.metrics.deleteTotal.inc();
    return (await this.propose({ deleteRange: r })).response as DeleteRangeResponse;
  }

  async txn(r: TxnRequest, requestBytes: number): Promise<TxnResponse> {
    this.metrics.txnTotal.inc();
    if (isTxnReadonly(r)) {
      // A read-only txn is a read: linearizable unless every range in it is serializable.
      this.checkRunning();
      if (!isTxnSerializable(r)) await this.linearizableRead();
      const view = this.store.read();
      const path = compareToPath(view, r);
      checkTxn(view, r, path, this.lessorValue, false);
      return txnResponse(this.headerFn, view.rev, executeTxn(view, r, path));
    }
    this.preflight(requestBytes);
    if (txnHasPut(r)) this.checkSpace();
    this.checkQuota(txnCost(r));
    return (await this.propose({ txn: r })).response as TxnResponse;
  }

  async compact(r: CompactionRequest, requestBytes: number): Promise<CompactionResponse> {
    this.preflight(requestBytes);
    const result = await this.propose({ compaction: r });
    if (r.physical && result.physical !== undefined) await result.physical;
    return result.response as CompactionResponse;
  }

  status(): StatusResponse {
    this.checkRunning();
    return {
      header: this.header(this.store.readRev),
      version: ETCD_VERSION_EMULATED,
      dbSize: BigInt(this.backend.sizeBytes()),
      leader: this.lead,
      raftIndex: BigInt(this.committedIndex),
      raftTerm: BigInt(this.term),
      raftAppliedIndex: BigInt(this.appliedIndex),
      errors: this.alarms.get(AlarmType.NONE).map(alarmString),
      dbSizeInUse: BigInt(this.backend.sizeInUseBytes()),
      isLearner: this.isLearner(),
      storageVersion: ETCD_VERSION_EMULATED,
      dbSizeQuota: BigInt(this.config.quotaBackendBytes),
      downgradeInfo: { enabled: false, targetVersion: '' },
    };
  }

  /** Lists alarms locally; raising or clearing one goes through the log, so every member agrees. */
  async alarm(r: AlarmRequest): Promise<AlarmResponse> {
    this.checkRunning();
    if (r.action === AlarmAction.GET) {
      return { header: this.header(this.store.readRev), alarms: this.alarms.get(r.alarm) };
    }
    if (r.action === AlarmAction.ACTIVATE && r.alarm === AlarmType.NONE) {
      return { header: this.header(this.store.readRev), alarms: [] };
    }
    return (await this.propose({ alarm: r })).response as AlarmResponse;
  }

  /** The Cluster service and MoveLeader (membership-ops.ts). */
  readonly membership: MembershipOps;

  // ---- the peer API ---------------------------------------------------------------------------------

  /** Serves a stream on --listen-peer-urls: Raft traffic to the transport, the rest to the peer API. */
  handlePeerStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    const path = String(headers[':path'] ?? '/');
    if (PEER_API_PREFIXES.some((p) => path === p || path.startsWith(p + '/'))) {
      servePeerApi(stream, headers, (method, p, body) => this.servePeer(method, p, body));
      return;
    }
    this.transport.handleStream(stream, headers);
  }

  private async servePeer(method: string, path: string, body: unknown): Promise<unknown> {
    if (method === 'GET' && path === '/members') {
      return {
        clusterId: hex(this.identity.clusterId),
        members: this.cluster.members().map((m) => JSON.parse(encodeMember(m).toString()) as unknown),
      };
    }
    const promote = /^\/members\/promote\/([0-9a-f]{1,16})$/.exec(path);
    if (method === 'POST' && promote !== null) {
      if (!this.isLeader()) throw new EtcdError('ErrNotLeader');
      await this.membership.promoteOnLeader(BigInt('0x' + promote[1]!));
      return {};
    }
    const b = (body ?? {}) as { id?: string; keys?: boolean };
    if (method === 'POST' && path === '/leases/renew' && typeof b.id === 'string') {
      if (!this.isLeader()) throw new EtcdError('ErrNotLeader');
      return { ttl: this.lessorValue.renew(parseLeaseId(b.id)) ?? 0 };
    }
    if (method === 'POST' && path === '/leases/timetolive' && typeof b.id === 'string') {
      if (!this.isLeader()) throw new EtcdError('ErrNotLeader');
      const info = this.lessorValue.lookup(parseLeaseId(b.id), b.keys === true);
      if (info === undefined) return { found: false };
      return {
        found: true,
        ttl: info.remainingSeconds,
        grantedTtl: info.grantedTtlSeconds,
        keys: info.keys.map((k) => k.toString('base64')),
      };
    }
    throw new Error(`no peer API ${method} ${path}`);
  }

  /** Calls the leader's peer API; fails with "no leader" when there is none. */
  private async callLeader(path: string, body: unknown): Promise<unknown> {
    const leader = this.cluster.member(this.lead);
    if (this.lead === NONE || leader === undefined) throw new EtcdError('ErrNoLeader');
    let last: Error | undefined;
    // Twice over the URLs: a failed call drops its cached HTTP/2 session (one the leader had already
    // closed fails the first request on it), so the second pass dials afresh.
    for (const url of [...leader.peerURLs, ...leader.peerURLs]) {
      try {
        return await callPeerApi(url, 'POST', path, body, this.requestTimeoutMs);
      } catch (err) {
        if (err instanceof EtcdError) throw err;
        last = err as Error;
      }
    }
    this.logger.warn('cannot reach the leader', { leader: hex(this.lead), error: last?.message });
    throw new EtcdError('ErrTimeoutDueToConnectionLost');
  }

  get version(): string {
    return CAIRN_VERSION;
  }

  /** Stops Raft and the transport, fails waiting requests, closes the backend and the WAL. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.leaderMonitor);
    clearTimeout(this.publishTimer);
    this.compactor?.stop();
    this.lessorValue.stop();
    this.readIndexer.stop();
    await this.raftNode.stop();
    await this.transport.stop();
    closePeerApiSessions();
    this.wait.cancelAll(new EtcdError('ErrStopped'));
    await this.backend.close();
    await this.raftStorage.wal.close();
    this.release();
    this.logger.info('stopped member', { appliedIndex: this.appliedIndex, revision: this.store.currentRev });
  }

  private checkRunning(): void {
    if (this.stopped || this.removedSelf) throw new EtcdError('ErrStopped');
  }

  // ---- leases -----------------------------------------------------------------------------------------

  /**
   * LeaseGrant: the lease id is picked here, before proposing (etcd does so too), so every member
   * grants the same id. A TTL below the minimum is raised to it when applied.
   */
  async leaseGrant(r: LeaseGrantRequest, requestBytes: number): Promise<LeaseGrantResponse> {
    this.preflight(requestBytes);
    this.checkSpace();
    this.checkQuota(LEASE_OVERHEAD_BYTES);
    const id = r.ID === 0n ? this.lessorValue.pickId() : r.ID;
    return (await this.propose({ leaseGrant: { ID: id, TTL: r.TTL } })).response as LeaseGrantResponse;
  }

  /** LeaseRevoke: the lease's keys are deleted in one write transaction (one revision). */
  async leaseRevoke(r: LeaseRevokeRequest, requestBytes: number): Promise<LeaseRevokeResponse> {
    this.preflight(requestBytes);
    return (await this.propose({ leaseRevoke: { ID: r.ID } })).response as LeaseRevokeResponse;
  }

  /**
   * One LeaseKeepAlive renewal: the full TTL again, or TTL 0 when the lease is unknown or already
   * expired. Only the leader's lessor keeps time, so a follower forwards the renewal to it.
   */
  async leaseRenew(id: bigint): Promise<LeaseKeepAliveResponse> {
    this.checkRunning();
    const header = this.header(this.store.readRev);
    if (this.isLeader()) {
      const ttl = this.lessorValue.renew(id);
      return { header, ID: id, TTL: BigInt(ttl ?? 0) };
    }
    const answer = (await this.callLeader('/leases/renew', { id: id.toString() })) as { ttl?: number };
    return { header, ID: id, TTL: BigInt(answer.ttl ?? 0) };
  }

  /** LeaseTimeToLive: an unknown lease is not an error but TTL -1 (etcd v3rpc/lease.go). */
  async leaseTimeToLive(r: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse> {
    this.checkRunning();
    const header = this.header(this.store.readRev);
    const notFound = { header, ID: r.ID, TTL: -1n, grantedTTL: 0n, keys: [] };
    if (this.isLeader()) {
      const info = this.lessorValue.lookup(r.ID, r.keys);
      if (info === undefined) return notFound;
      return {
        header,
        ID: r.ID,
        TTL: BigInt(info.remainingSeconds),
        grantedTTL: BigInt(info.grantedTtlSeconds),
        keys: info.keys,
      };
    }
    const a = (await this.callLeader('/leases/timetolive', { id: r.ID.toString(), keys: r.keys })) as {
      found?: boolean;
      ttl?: number;
      grantedTtl?: number;
      keys?: string[];
    };
    if (a.found !== true) return notFound;
    return {
      header,
      ID: r.ID,
      TTL: BigInt(a.ttl ?? 0),
      grantedTTL: BigInt(a.grantedTtl ?? 0),
      keys: (a.keys ?? []).map((k) => Buffer.from(k, 'base64')),
    };
  }

  /** LeaseLeases: every lease id, soonest expiry first. */
  leaseLeases(): LeaseLeasesResponse {
    this.checkRunning();
    return {
      header: this.header(this.store.readRev),
      leases: this.lessorValue.leases().map((ID) => ({ ID })),
    };
  }

  /**
   * The leader's lessor found these leases expired: each is revoked through the log (etcd proposes one
   * LeaseRevoke per expired lease). A failure is logged; the lessor hands the lease out again later.
   */
  private revokeExpired(ids: readonly bigint[]): void {
    for (const id of ids) {
      if (this.stopped || !this.isLeader()) return;
      if (!this.lessorValue.exists(id)) continue;
      this.propose({ leaseRevoke: { ID: id } }).then(
        () => {
          this.leaseMetrics.expired.inc();
          this.logger.debug('revoked expired lease', { lease: hex(id) });
        },
        (err: Error) =>
          this.logger.warn('failed to revoke expired lease', { lease: hex(id), error: err.message }),
      );
    }
  }

  /** Builds the lessor from the 'lease' bucket and re-attaches the keys; the leader promotes it. */
  private recoverLessor(): Lessor {
    const lessor = new Lessor({
      backend: this.backend,
      clock: this.options.clock ?? systemClock,
      logger: this.logger.child({ component: 'lessor' }),
      metrics: this.leaseMetrics,
      // A new leader extends every lease by an election timeout (etcd Promote(extend)).
      config: { promoteExtendMs: this.config.electionMs, ...this.options.lessor },
      onExpired: (ids) => this.revokeExpired(ids),
    });
    lessor.recover();
    const all = this.store.read().range({ key: Buffer.from([0]), end: Buffer.alloc(0) });
    lessor.recoverKeys(all.kvs);
    return lessor;
  }

  // ---- maintenance ------------------------------------------------------------------------------------

  /** HashKV: the key bucket's hash up to a revision (etcd maintenance HashKV). */
  async hashKV(r: HashKVRequest): Promise<HashKVResponse> {
    this.checkRunning();
    const h = await this.store.hashKV(toNumber(r.revision));
    return {
      header: this.header(h.currentRev),
      hash: h.hash,
      compactRevision: BigInt(h.compactRevision),
      hashRevision: BigInt(h.revision),
    };
  }

  /** Hash: every bucket of the backend (etcd maintenance Hash, meant for testing). */
  async hash(): Promise<HashResponse> {
    this.checkRunning();
    const hash = await this.backend.hash();
    return { header: this.header(this.store.readRev), hash };
  }

  /** Defragment (etcd maintenance Defragment): a local operation on this member's database file. */
  async defragment(): Promise<DefragmentResponse> {
    this.checkRunning();
    const before = this.backend.sizeBytes();
    const started = performance.now();
    await this.backend.defragment();
    this.logger.info('finished defragmenting', {
      dbSizeBefore: before,
      dbSizeAfter: this.backend.sizeBytes(),
      dbSizeInUse: this.backend.sizeInUseBytes(),
      tookMs: Math.round(performance.now() - started),
    });
    return { header: undefined };
  }

  private snapshotCopies = 0;

  /**
   * A consistent copy of the whole database in a temporary file (the Snapshot stream, and the data of
   * a snapshot sent to a follower), with the revision it holds at least. The caller removes the file.
   */
  async snapshotCopy(): Promise<{ readonly file: string; readonly revision: number; remove(): void }> {
    this.checkRunning();
    await this.backend.commit();
    const revision = this.store.readRev;
    const dir = this.backend.snapshotDir(++this.snapshotCopies);
    const remove = (): void => rmSync(dir, { recursive: true, force: true });
    try {
      return { file: await this.backend.copyTo(dir), revision, remove };
    } catch (err) {
      remove();
      throw err;
    }
  }

  /**
   * etcd's quota check (v3rpc/quota.go): a request that would grow the backend past
   * --quota-backend-bytes fails with NOSPACE, and the NOSPACE alarm is raised through the log.
   */
  checkQuota(costBytes: number): void {
    if (costBytes === 0) return;
    if (this.backend.sizeBytes() + costBytes < this.config.quotaBackendBytes) return;
    if (this.alarms.get(AlarmType.NOSPACE).length === 0) {
      this.propose({
        alarm: { action: AlarmAction.ACTIVATE, memberID: this.identity.memberId, alarm: AlarmType.NOSPACE },
      }).catch((err: Error) => this.logger.warn('failed to raise the NOSPACE alarm', { error: err.message }));
    }
    throw new EtcdError('ErrNoSpace');
  }

  /** With NOSPACE active, nothing that adds data is accepted (etcd's capped applier, checked early). */
  private checkSpace(): void {
    if (this.alarms.get(AlarmType.NOSPACE).length > 0) throw new EtcdError('ErrNoSpace');
  }

  /** Checks done before a write is proposed (etcd's preflight). */
  private preflight(requestBytes: number): void {
    this.checkRunning();
    if (this.alarms.get(AlarmType.CORRUPT).length > 0) throw new EtcdError('ErrCorrupt');
    if (internalRequestBytes(requestBytes) > this.config.maxRequestBytes)
      throw new EtcdError('ErrRequestTooLarge');
  }
}

/** How often a member retries publishing its name and client URLs. */
const PUBLISH_RETRY_MS = 500;

function readConsistentIndex(backend: Backend): number {
  const ci = backend.get('meta', META_CONSISTENT_INDEX);
  return ci === undefined ? 0 : Number(ci.readBigUInt64BE());
}

/** A lease id (int64, decimal) from a peer API body; anything else is a bad request. */
function parseLeaseId(s: string): bigint {
  if (!/^-?\d{1,20}$/.test(s)) throw new Error(`bad lease id ${JSON.stringify(s)}`);
  return BigInt(s);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export { hex, internalRequestBytes, putCost, txnCost };
