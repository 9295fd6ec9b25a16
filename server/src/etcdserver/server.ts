import { rmSync } from 'node:fs';
import type { Logger } from 'winston';
import type { Registry } from 'prom-client';
import { executeRange } from '../apply/range.js';
import {
  checkPut,
  checkTxn,
  compareToPath,
  executeDelete,
  executePut,
  executeTxn,
  isTxnReadonly,
  txnHasPut,
} from '../apply/txn.js';
import type { Backend } from '../backend/backend.js';
import { newBackendMetrics } from '../backend/metrics.js';
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
  Member,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  ResponseHeader,
  StatusResponse,
  TxnRequest,
  TxnResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import { toNumber } from '../apply/ranges.js';
import { AlarmStore, alarmString } from './alarms.js';
import type { MemberIdentity } from './bootstrap.js';
import { META_CONSISTENT_INDEX, openDataDir } from './bootstrap.js';
import type { ServerConfig } from './config.js';
import { newServerMetrics } from './metrics.js';
import type { ServerMetrics } from './metrics.js';
import { deleteResponse, putResponse, rangeResponse, txnResponse } from './responses.js';
import { CAIRN_VERSION, ETCD_VERSION_EMULATED } from './version.js';
import { canonicalUrl } from './membership/member.js';
import { Compactor } from './compactor.js';
import type { WriteResult } from '../mvcc/kvstore.js';
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

/** What tests (and later Raft) may change about a member beyond its command-line configuration. */
export interface EtcdServerOptions {
  /** The lessor's clock (default: the system clock). */
  readonly clock?: Clock;
  /** Lessor limits (default: etcd's, with a 2 s minimum TTL). */
  readonly lessor?: Partial<LessorConfig>;
}

/**
 * The single-member server: the write path (preflight → apply → durable → answer) and the read path
 * over one MVCC store. Replication comes with Raft in a later issue; the applied index is already
 * counted and persisted in the same backend commit as the data it covers (etcd's consistent index).
 */
export class EtcdServer {
  private appliedIndex: number;
  private stopped = false;
  private readonly metrics: ServerMetrics;
  private readonly alarms: AlarmStore;
  /** Automatic compaction (--auto-compaction-*), when configured. */
  private compactor: Compactor | undefined;
  /** The member's leases (etcd's lessor); it also answers the apply path's "does this lease exist". */
  private readonly lessor: Lessor;
  private readonly leaseMetrics: LeaseMetrics;
  /** Watchers over the store (the Watch service's backend). */
  readonly watchable: WatchableStore;

  private constructor(
    readonly config: ServerConfig,
    private readonly logger: Logger,
    private readonly backend: Backend,
    private readonly store: KVStore,
    readonly identity: MemberIdentity,
    registry: Registry,
    private readonly release: () => void,
    options: EtcdServerOptions = {},
  ) {
    const ci = backend.get('meta', META_CONSISTENT_INDEX);
    this.appliedIndex = ci === undefined ? 0 : Number(ci.readBigUInt64BE());
    this.alarms = new AlarmStore(backend);
    this.leaseMetrics = newLeaseMetrics(registry);
    this.lessor = this.recoverLessor(options);
    this.watchable = new WatchableStore(store, logger.child({ component: 'watch' }));
    this.metrics = newServerMetrics(registry, {
      dbSizeBytes: () => this.backend.sizeBytes(),
      dbSizeInUseBytes: () => this.backend.sizeInUseBytes(),
      keysTotal: () => this.store.keysTotal,
      appliedIndex: () => this.appliedIndex,
      watchers: () => this.watchable.watcherCount,
      slowWatchers: () => this.watchable.unsyncedCount,
    });
  }

  /** Opens the member's data dir and store. Throws DataDirError for a data dir it must not use. */
  static async start(
    config: ServerConfig,
    logger: Logger,
    registry: Registry,
    onFatal: (err: Error) => void,
    options: EtcdServerOptions = {},
  ): Promise<EtcdServer> {
    const dir = await openDataDir({
      dataDir: config.dataDir,
      logger: logger.child({ component: 'backend' }),
      metrics: newBackendMetrics(registry),
      onFatal,
    });
    let store: KVStore;
    try {
      store = KVStore.open({
        backend: dir.backend,
        logger: logger.child({ component: 'mvcc' }),
        metrics: newMvccMetrics(registry),
      });
    } catch (err) {
      await dir.backend.close().catch(() => undefined);
      dir.release();
      throw err;
    }
    const s = new EtcdServer(
      config,
      logger,
      dir.backend,
      store,
      dir.identity,
      registry,
      dir.release,
      options,
    );
    logger.info(dir.fresh ? 'started a new member' : 'restored member', {
      name: config.name,
      dataDir: config.dataDir,
      memberId: hex(dir.identity.memberId),
      clusterId: hex(dir.identity.clusterId),
      revision: store.currentRev,
      compactRevision: store.compactRev,
      appliedIndex: s.appliedIndex,
    });
    s.startAutoCompaction();
    return s;
  }

  private startAutoCompaction(): void {
    if (this.config.autoCompaction === undefined) return;
    this.compactor = new Compactor({
      config: this.config.autoCompaction,
      logger: this.logger.child({ component: 'compactor' }),
      revision: () => this.store.currentRev,
      compact: async (rev) => {
        await this.compact({ revision: BigInt(rev), physical: false }, 0);
      },
    });
    this.compactor.start();
  }

  /** The response header etcd fills on every response (v3rpc header.go). */
  header(rev: number): ResponseHeader {
    return {
      clusterId: this.identity.clusterId,
      memberId: this.identity.memberId,
      revision: BigInt(rev),
      raftTerm: BigInt(RAFT_TERM),
    };
  }

  private readonly headerFn = (rev: number): ResponseHeader => this.header(rev);

  range(r: RangeRequest): RangeResponse {
    this.checkRunning();
    this.metrics.rangeTotal.inc();
    return rangeResponse(this.headerFn, executeRange(this.store.read(), r));
  }

  async put(r: PutRequest, requestBytes: number): Promise<PutResponse> {
    this.preflight(requestBytes);
    this.checkSpace();
    this.checkQuota(putCost(r));
    this.metrics.putTotal.inc();
    const w = this.store.write((txn) => {
      this.apply();
      checkPut(txn, r, this.lessor);
      return executePut(txn, r);
    });
    this.lessor.applyChanges(w.changes);
    await w.durable;
    return putResponse(this.headerFn, w.rev, w.result.prevKv);
  }

  async deleteRange(r: DeleteRangeRequest, requestBytes: number): Promise<DeleteRangeResponse> {
    this.preflight(requestBytes);
    this.metrics.deleteTotal.inc();
    const w = this.store.write((txn) => {
      this.apply();
      return executeDelete(txn, r);
    });
    this.lessor.applyChanges(w.changes);
    await w.durable;
    return deleteResponse(this.headerFn, w.rev, w.result.deleted, w.result.prevKvs);
  }

  async txn(r: TxnRequest, requestBytes: number): Promise<TxnResponse> {
    this.metrics.txnTotal.inc();
    if (isTxnReadonly(r)) {
      // A read-only txn is a read: served from the durable view, no write, no revision.
      this.checkRunning();
      const view = this.store.read();
      const path = compareToPath(view, r);
      checkTxn(view, r, path, this.lessor, false);
      return txnResponse(this.headerFn, view.rev, executeTxn(view, r, path));
    }
    this.preflight(requestBytes);
    if (txnHasPut(r)) this.checkSpace();
    this.checkQuota(txnCost(r));
    const w = this.store.write((txn) => {
      this.apply();
      const path = compareToPath(txn, r);
      checkTxn(txn, r, path, this.lessor, true);
      return executeTxn(txn, r, path);
    });
    this.lessor.applyChanges(w.changes);
    await w.durable;
    return txnResponse(this.headerFn, w.rev, w.result);
  }

  async compact(r: CompactionRequest, requestBytes: number): Promise<CompactionResponse> {
    this.preflight(requestBytes);
    this.apply();
    const result = await this.store.compact(toNumber(r.revision));
    if (r.physical) await result.physical;
    else await this.backend.commit();
    return { header: this.header(this.store.currentRev) };
  }

  status(): StatusResponse {
    this.checkRunning();
    return {
      header: this.header(this.store.readRev),
      version: ETCD_VERSION_EMULATED,
      dbSize: BigInt(this.backend.sizeBytes()),
      leader: this.identity.memberId,
      raftIndex: BigInt(this.appliedIndex),
      raftTerm: BigInt(RAFT_TERM),
      raftAppliedIndex: BigInt(this.appliedIndex),
      errors: this.alarms.get(AlarmType.NONE).map(alarmString),
      dbSizeInUse: BigInt(this.backend.sizeInUseBytes()),
      isLearner: false,
      storageVersion: ETCD_VERSION_EMULATED,
      dbSizeQuota: BigInt(this.config.quotaBackendBytes),
      downgradeInfo: { enabled: false, targetVersion: '' },
    };
  }

  /** Lists, raises or clears alarms (etcd applyAlarm). Raising NONE does nothing. */
  async alarm(r: AlarmRequest): Promise<AlarmResponse> {
    this.checkRunning();
    const alarms = [];
    switch (r.action) {
      case AlarmAction.GET:
        alarms.push(...this.alarms.get(r.alarm));
        break;
      case AlarmAction.ACTIVATE: {
        if (r.alarm === AlarmType.NONE) break;
        this.apply();
        const m = this.alarms.activate(r.memberID, r.alarm);
        alarms.push(m);
        this.logger.warn('alarm raised', { alarm: AlarmType[m.alarm], memberId: hex(m.memberID) });
        await this.backend.commit();
        break;
      }
      case AlarmAction.DEACTIVATE: {
        this.apply();
        const m = this.alarms.deactivate(r.memberID, r.alarm);
        if (m !== undefined) {
          alarms.push(m);
          this.logger.info('alarm cleared', { alarm: AlarmType[m.alarm], memberId: hex(m.memberID) });
        }
        await this.backend.commit();
        break;
      }
      default:
        break;
    }
    return { header: this.header(this.store.readRev), alarms };
  }

  members(): Member[] {
    return [
      {
        ID: this.identity.memberId,
        name: this.config.name,
        peerURLs: this.config.initialAdvertisePeerUrls.map((u) => canonicalUrl(u)),
        clientURLs: this.config.advertiseClientUrls.map((u) => canonicalUrl(u)),
        isLearner: false,
      },
    ];
  }

  get version(): string {
    return CAIRN_VERSION;
  }

  /** Stops serving, waits for in-flight writes and compactions to reach the disk, closes the backend. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.compactor?.stop();
    this.lessor.stop();
    await this.backend.close();
    this.release();
    this.logger.info('stopped member', { appliedIndex: this.appliedIndex, revision: this.store.currentRev });
  }

  private checkRunning(): void {
    if (this.stopped) throw new EtcdError('ErrStopped');
  }

  /**
   * LeaseGrant (etcd applier LeaseGrant): ID 0 gets a random positive id, a TTL below the minimum is
   * raised to it. Like a put it adds data, so it is refused under NOSPACE. The lease record is durable
   * before the answer.
   */
  async leaseGrant(r: LeaseGrantRequest, requestBytes: number): Promise<LeaseGrantResponse> {
    this.preflight(requestBytes);
    this.checkSpace();
    this.checkQuota(LEASE_OVERHEAD_BYTES);
    this.apply();
    const l = this.lessor.grant(r.ID, r.TTL);
    await this.backend.commit();
    return { header: this.header(this.store.currentRev), ID: l.id, TTL: BigInt(l.ttlSeconds), error: '' };
  }

  /** LeaseRevoke: the lease's keys are deleted in one write transaction (one revision). */
  async leaseRevoke(r: LeaseRevokeRequest, requestBytes: number): Promise<LeaseRevokeResponse> {
    this.preflight(requestBytes);
    const w = this.revokeLease(r.ID);
    await w.durable;
    return { header: this.header(w.rev) };
  }

  /**
   * One LeaseKeepAlive renewal: the full TTL again, or TTL 0 when the lease is unknown or already
   * expired (etcd answers so instead of failing the stream). As in etcd, the header is taken before
   * renewing, so its revision never postdates a revoke the renewal raced with.
   */
  leaseRenew(id: bigint): LeaseKeepAliveResponse {
    this.checkRunning();
    const header = this.header(this.store.readRev);
    const ttl = this.lessor.renew(id);
    return { header, ID: id, TTL: BigInt(ttl ?? 0) };
  }

  /** LeaseTimeToLive: an unknown lease is not an error but TTL -1 (etcd v3rpc/lease.go). */
  leaseTimeToLive(r: LeaseTimeToLiveRequest): LeaseTimeToLiveResponse {
    this.checkRunning();
    const header = this.header(this.store.readRev);
    const info = this.lessor.lookup(r.ID, r.keys);
    if (info === undefined) return { header, ID: r.ID, TTL: -1n, grantedTTL: 0n, keys: [] };
    return {
      header,
      ID: r.ID,
      TTL: BigInt(info.remainingSeconds),
      grantedTTL: BigInt(info.grantedTtlSeconds),
      keys: info.keys,
    };
  }

  /** LeaseLeases: every lease id, soonest expiry first. */
  leaseLeases(): LeaseLeasesResponse {
    this.checkRunning();
    return { header: this.header(this.store.readRev), leases: this.lessor.leases().map((ID) => ({ ID })) };
  }

  /** Revokes a lease through the write path: keys deleted and lease record removed in one commit. */
  private revokeLease(id: bigint): WriteResult<void> {
    const w = this.store.write((txn) => {
      this.apply();
      this.lessor.revoke(id, txn);
    });
    this.lessor.applyChanges(w.changes);
    return w;
  }

  /**
   * Revokes the leases the lessor found expired, each in its own write transaction, as etcd proposes
   * one LeaseRevoke per expired lease. A failure is logged; the lessor hands the lease out again later.
   */
  private revokeExpired(ids: readonly bigint[]): void {
    for (const id of ids) {
      if (this.stopped) return;
      if (!this.lessor.exists(id)) continue;
      try {
        this.preflight(0);
        const w = this.revokeLease(id);
        this.leaseMetrics.expired.inc();
        this.logger.debug('revoked expired lease', { lease: hex(id), revision: w.rev });
      } catch (err) {
        this.logger.warn('failed to revoke expired lease', { lease: hex(id), error: (err as Error).message });
      }
    }
  }

  /**
   * Builds the lessor from the 'lease' bucket and re-attaches the restored keys. A single member is
   * its own leader, so it promotes the lessor at once: every lease gets its full TTL again (plus one
   * election timeout), exactly as etcd's Promote does when a member becomes leader after a restart.
   * Remaining TTLs are therefore not kept across a restart; a lease can outlive its TTL by the downtime.
   */
  private recoverLessor(options: EtcdServerOptions): Lessor {
    const lessor = new Lessor({
      backend: this.backend,
      clock: options.clock ?? systemClock,
      logger: this.logger.child({ component: 'lessor' }),
      metrics: this.leaseMetrics,
      config: options.lessor,
      onExpired: (ids) => this.revokeExpired(ids),
    });
    lessor.recover();
    const all = this.store.read().range({ key: Buffer.from([0]), end: Buffer.alloc(0) });
    lessor.recoverKeys(all.kvs);
    lessor.promote();
    return lessor;
  }

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

  /**
   * Defragment (etcd maintenance Defragment): rebuilds the database file without free pages. Reads go
   * on during it; writes are accepted but answered only once the new file is in place (see
   * Backend.defragment). etcd answers with no header.
   */
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

  private snapshotCount = 0;

  /**
   * A consistent copy of the whole database in a temporary file for the Snapshot stream, with the
   * revision it holds at least. The caller removes the file (a leftover is removed on the next start).
   */
  async snapshotCopy(): Promise<{ readonly file: string; readonly revision: number; remove(): void }> {
    this.checkRunning();
    await this.backend.commit();
    const revision = this.store.readRev;
    const dir = this.backend.snapshotDir(++this.snapshotCount);
    const remove = (): void => rmSync(dir, { recursive: true, force: true });
    try {
      return { file: await this.backend.copyTo(dir), revision, remove };
    } catch (err) {
      remove();
      throw err;
    }
  }

  /**
   * etcd's quota check (v3rpc/quota.go, storage/quota.go): a request that would grow the backend past
   * --quota-backend-bytes raises the NOSPACE alarm and fails. `costBytes` is etcd's estimate of what the
   * request adds (0 for requests that add nothing, which always pass).
   */
  checkQuota(costBytes: number): void {
    if (costBytes === 0) return;
    if (this.backend.sizeBytes() + costBytes < this.config.quotaBackendBytes) return;
    if (this.alarms.get(AlarmType.NOSPACE).length === 0) {
      this.apply();
      this.alarms.activate(this.identity.memberId, AlarmType.NOSPACE);
      this.logger.warn('alarm raised', { alarm: 'NOSPACE', memberId: hex(this.identity.memberId) });
    }
    throw new EtcdError('ErrNoSpace');
  }

  /**
   * Active alarms cap what may be written (etcd's capped and corrupt appliers): with NOSPACE, nothing
   * that adds data (puts, txns holding a put); with CORRUPT, no write at all. Deletes and compaction stay
   * possible under NOSPACE so that space can be reclaimed.
   */
  private checkSpace(): void {
    if (this.alarms.get(AlarmType.NOSPACE).length > 0) throw new EtcdError('ErrNoSpace');
  }

  /**
   * Checks done before a write is applied (etcd's preflight): the server is running and the request
   * fits in maxRequestBytes. The quota and the commit/apply gap come with alarms and Raft.
   */
  private preflight(requestBytes: number): void {
    this.checkRunning();
    if (this.alarms.get(AlarmType.CORRUPT).length > 0) throw new EtcdError('ErrCorrupt');
    if (internalRequestBytes(requestBytes) > this.config.maxRequestBytes)
      throw new EtcdError('ErrRequestTooLarge');
  }

  /**
   * Counts one applied write request and stages the new applied index with the data it covers, in
   * the same backend commit, so a restart never re-applies or skips it.
   */
  private apply(): void {
    this.appliedIndex++;
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64BE(BigInt(this.appliedIndex));
    this.backend.put('meta', META_CONSISTENT_INDEX, b);
  }
}

/**
 * etcd compares --max-request-bytes with the size of the marshalled InternalRaftRequest that wraps the
 * client's request: the request as field 3..7 (1-byte tag + length varint) plus a RequestHeader
 * (field 100: 2-byte tag, 1-byte length, 1-byte tag + up to 10-byte request id). Counting the same
 * bytes puts the limit exactly where etcd puts it. With Raft, the real entry size replaces this.
 */
export function internalRequestBytes(requestBytes: number): number {
  const REQUEST_HEADER_BYTES = 2 + 1 + 1 + 10;
  let lenBytes = 1;
  for (let n = requestBytes; n >= 0x80; n = Math.floor(n / 128)) lenBytes++;
  return REQUEST_HEADER_BYTES + 1 + lenBytes + requestBytes;
}

/** etcd's quota cost of a lease grant (storage/quota.go leaseOverhead). */
const LEASE_OVERHEAD_BYTES = 64;

/** etcd's per-key overhead in the quota cost of a put (storage/quota.go kvOverhead). */
const KV_OVERHEAD_BYTES = 256;

/** etcd costPut: what a put is estimated to add to the backend. */
export function putCost(r: PutRequest): number {
  return KV_OVERHEAD_BYTES + r.key.length + r.value.length;
}

/** etcd costTxn: the larger of the branches' top-level puts (nested txns are not counted, as in etcd). */
export function txnCost(r: TxnRequest): number {
  const branch = (ops: TxnRequest['success']): number => {
    let n = 0;
    for (const op of ops) if (op.request?.$case === 'requestPut') n += putCost(op.request.value);
    return n;
  };
  return Math.max(branch(r.success), branch(r.failure));
}

/** A single member without Raft has one term; Raft (a later issue) makes this the real term. */
const RAFT_TERM = 1;

export function hex(id: bigint): string {
  return id.toString(16);
}
