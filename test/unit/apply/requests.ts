/**
 * Builders for etcd v3 requests and a throwaway KVStore, shared by the apply, api and etcdserver unit
 * tests. The generated protobuf types have no defaults, so every field is filled here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { Backend } from '../../../server/src/backend/backend.js';
import { newBackendMetrics } from '../../../server/src/backend/metrics.js';
import type { KeyValue } from '../../../server/src/mvcc/kv.js';
import { KVStore } from '../../../server/src/mvcc/kvstore.js';
import { newMvccMetrics } from '../../../server/src/mvcc/metrics.js';
import type {
  Compare,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from '../../../server/src/proto/gen/etcdserverpb/rpc.js';
import {
  Compare_CompareResult,
  Compare_CompareTarget,
} from '../../../server/src/proto/gen/etcdserverpb/rpc.js';
import { putRequest, rangeRequest } from '../../../server/src/proto/messages.js';
import { newLogger } from '../../../server/src/util/logger.js';

export const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Range over [key, end); end '' = the single key, '\0' = every key >= key. */
export function rangeReq(key: string, end = '', p: Partial<RangeRequest> = {}): RangeRequest {
  return rangeRequest({ key: b(key), rangeEnd: b(end), ...p });
}

export function putReq(key: string, value = '', p: Partial<PutRequest> = {}): PutRequest {
  return putRequest({ key: b(key), value: b(value), ...p });
}

export function delReq(key: string, end = '', p: Partial<DeleteRangeRequest> = {}): DeleteRangeRequest {
  return { key: b(key), rangeEnd: b(end), prevKv: false, ...p };
}

export function txnReq(p: Partial<TxnRequest> = {}): TxnRequest {
  return { compare: [], success: [], failure: [], ...p };
}

export const rangeOp = (key: string, end = '', p: Partial<RangeRequest> = {}): RequestOp => ({
  request: { $case: 'requestRange', value: rangeReq(key, end, p) },
});
export const putOp = (key: string, value = '', p: Partial<PutRequest> = {}): RequestOp => ({
  request: { $case: 'requestPut', value: putReq(key, value, p) },
});
export const delOp = (key: string, end = '', p: Partial<DeleteRangeRequest> = {}): RequestOp => ({
  request: { $case: 'requestDeleteRange', value: delReq(key, end, p) },
});
export const txnOp = (p: Partial<TxnRequest> = {}): RequestOp => ({
  request: { $case: 'requestTxn', value: txnReq(p) },
});
/** A RequestOp with no request set (etcd rejects it with "key not found"). */
export const emptyOp = (): RequestOp => ({ request: undefined });

export type CmpTarget = 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE';
export type CmpResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';

/** A Compare of `target` of key (or of every key in [key, end)) against `value`. */
export function cmp(
  key: string,
  target: CmpTarget,
  result: CmpResult,
  value: bigint | string,
  end = '',
): Compare {
  let targetUnion: Compare['targetUnion'];
  switch (target) {
    case 'VALUE':
      targetUnion = { $case: 'value', value: typeof value === 'string' ? b(value) : b(String(value)) };
      break;
    case 'VERSION':
      targetUnion = { $case: 'version', value: BigInt(value) };
      break;
    case 'CREATE':
      targetUnion = { $case: 'createRevision', value: BigInt(value) };
      break;
    case 'MOD':
      targetUnion = { $case: 'modRevision', value: BigInt(value) };
      break;
    case 'LEASE':
      targetUnion = { $case: 'lease', value: BigInt(value) };
      break;
  }
  return {
    key: b(key),
    rangeEnd: b(end),
    target: Compare_CompareTarget[target],
    result: Compare_CompareResult[result],
    targetUnion,
  };
}

/** `key:value` of each kv, the compact form the tests compare against. */
export const kvs = (list: readonly KeyValue[]): string[] =>
  list.map((kv) => `${kv.key.toString('latin1')}:${kv.value.toString('latin1')}`);

export const keys = (list: readonly { key: Buffer }[]): string[] =>
  list.map((kv) => kv.key.toString('latin1'));

export interface StoreFixture {
  readonly store: KVStore;
  readonly backend: Backend;
  readonly dir: string;
}

const dirs: string[] = [];
const backends: Backend[] = [];

/** A KVStore on a new lmdb environment in a temp dir; call closeStores() in an after() hook. */
export function openStore(): StoreFixture {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-apply-'));
  dirs.push(dir);
  const registry = new Registry();
  const logger = newLogger('error', true);
  const backend = Backend.open(
    {
      dir: join(dir, 'db'),
      logger,
      metrics: newBackendMetrics(registry),
      onFatal: (err) => {
        throw err;
      },
    },
    false,
  );
  backends.push(backend);
  const store = KVStore.open({ backend, logger, metrics: newMvccMetrics(registry) });
  return { store, backend, dir };
}

export async function closeStores(): Promise<void> {
  for (const be of backends.splice(0)) await be.close().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Puts each pair in its own write transaction (one revision each); returns the last revision. */
export async function putAll(
  store: KVStore,
  pairs: readonly [string, string][],
  lease = 0n,
): Promise<number> {
  let rev = store.currentRev;
  for (const [k, v] of pairs) {
    const w = store.write((txn) => txn.put(b(k), b(v), lease));
    await w.durable;
    rev = w.rev;
  }
  return rev;
}

/** Deletes [key, end) (wire conventions are not applied: end undefined = the single key). */
export async function deleteKeys(store: KVStore, key: string, end?: string): Promise<number> {
  const w = store.write((txn) =>
    txn.deleteRange(end === undefined ? { key: b(key) } : { key: b(key), end: b(end) }),
  );
  await w.durable;
  return w.rev;
}
