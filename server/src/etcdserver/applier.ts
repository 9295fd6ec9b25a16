import type { Logger } from 'winston';
import {
  checkPut,
  checkTxn,
  compareToPath,
  executeDelete,
  executePut,
  executeTxn,
  txnHasPut,
} from '../apply/txn.js';
import { toNumber } from '../apply/ranges.js';
import type { Backend } from '../backend/backend.js';
import { EtcdError } from '../errors.js';
import { MvccError } from '../mvcc/errors.js';
import type { Lessor } from '../lease/lessor.js';
import type { KVStore } from '../mvcc/kvstore.js';
import { AlarmRequest_AlarmAction as AlarmAction, AlarmType } from '../proto/gen/etcdserverpb/rpc.js';
import type { ResponseHeader } from '../proto/gen/etcdserverpb/rpc.js';
import type { InternalRaftRequest } from '../proto/gen/etcdserverpb/raft_internal.js';
import { type AlarmStore, alarmString } from './alarms.js';
import { META_CONSISTENT_INDEX, idBytes } from './bootstrap.js';
import { saveMember } from './membership/backend-store.js';
import type { RaftCluster } from './membership/cluster.js';
import { deleteResponse, putResponse, txnResponse } from './responses.js';

/** What the member that proposed a request gets back once it is applied. */
export type ApplyResult =
  | { readonly response: unknown; readonly error?: undefined; readonly physical?: Promise<void> }
  | { readonly error: Error; readonly response?: undefined };

export interface ApplierDeps {
  readonly backend: Backend;
  readonly store: KVStore;
  readonly lessor: () => Lessor;
  readonly alarms: AlarmStore;
  readonly cluster: RaftCluster;
  readonly header: (rev: number) => ResponseHeader;
  readonly logger: Logger;
}

/**
 * Applies committed requests to the state machine (etcd's applierV3 over the MVCC store). Every member
 * applies the same entries in the same order, so everything here must be deterministic: no clock, no
 * randomness, no local state but what the log built. The entry's index is staged as the consistent
 * index in the same backend commit as the request's effects, so a restart neither re-applies nor skips
 * it. A request that fails (a compare on a missing lease, NOSPACE) still counts as applied.
 */
export class Applier {
  constructor(private readonly d: ApplierDeps) {}

  /** Stages `index` as applied. Called inside the write transaction of the entry, or alone. */
  setConsistentIndex(index: number): void {
    this.d.backend.put('meta', META_CONSISTENT_INDEX, idBytes(BigInt(index)));
  }

  async apply(index: number, r: InternalRaftRequest): Promise<ApplyResult> {
    try {
      return await this.dispatch(index, r);
    } catch (err) {
      // A client's request that fails by the rules (every member fails it alike) is an answer.
      if (err instanceof EtcdError || err instanceof MvccError) return { error: err };
      throw err;
    }
  }

  private async dispatch(index: number, r: InternalRaftRequest): Promise<ApplyResult> {
    const { store, backend } = this.d;
    const noSpace = this.d.alarms.get(AlarmType.NOSPACE).length > 0;
    const corrupt = this.d.alarms.get(AlarmType.CORRUPT).length > 0;
    if (r.put !== undefined) {
      const put = r.put;
      const w = store.write((txn) => {
        this.setConsistentIndex(index);
        if (corrupt) throw new EtcdError('ErrCorrupt');
        if (noSpace) throw new EtcdError('ErrNoSpace');
        checkPut(txn, put, this.d.lessor());
        return executePut(txn, put);
      });
      this.d.lessor().applyChanges(w.changes);
      return { response: putResponse(this.d.header, w.rev, w.result.prevKv) };
    }
    if (r.deleteRange !== undefined) {
      const del = r.deleteRange;
      const w = store.write((txn) => {
        this.setConsistentIndex(index);
        if (corrupt) throw new EtcdError('ErrCorrupt');
        return executeDelete(txn, del);
      });
      this.d.lessor().applyChanges(w.changes);
      return { response: deleteResponse(this.d.header, w.rev, w.result.deleted, w.result.prevKvs) };
    }
    if (r.txn !== undefined) {
      const t = r.txn;
      const w = store.write((txn) => {
        this.setConsistentIndex(index);
        if (corrupt) throw new EtcdError('ErrCorrupt');
        if (noSpace && txnHasPut(t)) throw new EtcdError('ErrNoSpace');
        const path = compareToPath(txn, t);
        checkTxn(txn, t, path, this.d.lessor(), true);
        return executeTxn(txn, t, path);
      });
      this.d.lessor().applyChanges(w.changes);
      return { response: txnResponse(this.d.header, w.rev, w.result) };
    }
    if (r.compaction !== undefined) {
      this.setConsistentIndex(index);
      const result = await store.compact(toNumber(r.compaction.revision));
      return { response: { header: this.d.header(store.currentRev) }, physical: result.physical };
    }
    if (r.leaseGrant !== undefined) {
      this.setConsistentIndex(index);
      if (noSpace) throw new EtcdError('ErrNoSpace');
      const l = this.d.lessor().grant(r.leaseGrant.ID, r.leaseGrant.TTL);
      return {
        response: { header: this.d.header(store.currentRev), ID: l.id, TTL: BigInt(l.ttlSeconds), error: '' },
      };
    }
    if (r.leaseRevoke !== undefined) {
      const id = r.leaseRevoke.ID;
      const w = store.write((txn) => {
        this.setConsistentIndex(index);
        this.d.lessor().revoke(id, txn);
      });
      this.d.lessor().applyChanges(w.changes);
      return { response: { header: this.d.header(w.rev) } };
    }
    if (r.alarm !== undefined) {
      this.setConsistentIndex(index);
      return { response: this.applyAlarm(r.alarm.action, r.alarm.memberID, r.alarm.alarm) };
    }
    if (r.clusterMemberAttrSet !== undefined) {
      this.setConsistentIndex(index);
      const a = r.clusterMemberAttrSet;
      this.d.cluster.setAttributes(
        a.memberID,
        a.memberAttributes?.name ?? '',
        a.memberAttributes?.clientUrls ?? [],
      );
      const m = this.d.cluster.member(a.memberID);
      if (m !== undefined) saveMember(backend, m);
      return { response: {} };
    }
    // An entry this version does not know (a newer member's request): applied as a no-op, as etcd does.
    this.setConsistentIndex(index);
    this.d.logger.warn('applied an unknown request as a no-op', { index });
    return { response: {} };
  }

  private applyAlarm(action: AlarmAction, memberID: bigint, alarm: AlarmType): unknown {
    const alarms = [];
    switch (action) {
      case AlarmAction.GET:
        alarms.push(...this.d.alarms.get(alarm));
        break;
      case AlarmAction.ACTIVATE: {
        if (alarm === AlarmType.NONE) break;
        const m = this.d.alarms.activate(memberID, alarm);
        alarms.push(m);
        this.d.logger.warn('alarm raised', { alarm: alarmString(m), memberId: memberID.toString(16) });
        break;
      }
      case AlarmAction.DEACTIVATE: {
        const m = this.d.alarms.deactivate(memberID, alarm);
        if (m !== undefined) {
          alarms.push(m);
          this.d.logger.info('alarm cleared', { alarm: alarmString(m), memberId: memberID.toString(16) });
        }
        break;
      }
      default:
        break;
    }
    return { header: this.d.header(this.d.store.currentRev), alarms };
  }
}
