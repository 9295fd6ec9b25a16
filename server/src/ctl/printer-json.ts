// -w json: etcdctl's jsonPrinter, i.e. Go's json.Marshal of the gogo-generated response structs (field
// order and `json:"...,omitempty"` names from etcd 3.4's rpc.pb.go / kv.pb.go), one line per response.
// []byte is base64, 64-bit integers are bare numbers, oneofs appear under their Go field names
// ({"Response":{"ResponsePut":{...}}}).
import type {
  DeleteRangeResponse,
  Member,
  MemberListResponse,
  PutResponse,
  RangeResponse,
  ResponseHeader,
  ResponseOp,
  StatusResponse,
  TxnResponse,
  WatchResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import type { Event, KeyValue } from '../proto/gen/mvccpb/kv.js';
import { bytesOf } from './byte-string.js';
import { JsonObject, jsonString } from './go-json.js';
import type { Sink } from './io.js';
import type { EpHealth, EpStatus, Printer } from './printer.js';

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

export function headerJson(h: ResponseHeader | undefined): string | undefined {
  if (h === undefined) return undefined;
  return new JsonObject()
    .int('cluster_id', u64(h.clusterId))
    .int('member_id', u64(h.memberId))
    .int('revision', h.revision)
    .int('raft_term', u64(h.raftTerm))
    .toString();
}

export function keyValueJson(kv: KeyValue): string {
  return new JsonObject()
    .bytes('key', kv.key)
    .int('create_revision', kv.createRevision)
    .int('mod_revision', kv.modRevision)
    .int('version', kv.version)
    .bytes('value', kv.value)
    .int('lease', kv.lease)
    .toString();
}

export function rangeResponseJson(r: RangeResponse): string {
  return new JsonObject()
    .obj('header', headerJson(r.header))
    .list('kvs', r.kvs.map(keyValueJson))
    .bool('more', r.more)
    .int('count', r.count)
    .toString();
}

export function putResponseJson(r: PutResponse): string {
  return new JsonObject()
    .obj('header', headerJson(r.header))
    .obj('prev_kv', r.prevKv === undefined ? undefined : keyValueJson(r.prevKv))
    .toString();
}

export function deleteRangeResponseJson(r: DeleteRangeResponse): string {
  return new JsonObject()
    .obj('header', headerJson(r.header))
    .int('deleted', r.deleted)
    .list('prev_kvs', r.prevKvs.map(keyValueJson))
    .toString();
}

function responseOpJson(op: ResponseOp): string {
  const r = op.response;
  let inner: string;
  switch (r?.$case) {
    case 'responseRange':
      inner = `{"ResponseRange":${rangeResponseJson(r.value)}}`;
      break;
    case 'responsePut':
      inner = `{"ResponsePut":${putResponseJson(r.value)}}`;
      break;
    case 'responseDeleteRange':
      inner = `{"ResponseDeleteRange":${deleteRangeResponseJson(r.value)}}`;
      break;
    case 'responseTxn':
      inner = `{"ResponseTxn":${txnResponseJson(r.value)}}`;
      break;
    default:
      inner = 'null';
  }
  return `{"Response":${inner}}`;
}

export function txnResponseJson(r: TxnResponse): string {
  return new JsonObject()
    .obj('header', headerJson(r.header))
    .bool('succeeded', r.succeeded)
    .list('responses', r.responses.map(responseOpJson))
    .toString();
}

export function memberJson(m: Member): string {
  return new JsonObject()
    .int('ID', u64(m.ID))
    .str('name', bytesOf(m.name))
    .list(
      'peerURLs',
      m.peerURLs.map((u) => jsonString(bytesOf(u))),
    )
    .list(
      'clientURLs',
      m.clientURLs.map((u) => jsonString(bytesOf(u))),
    )
    .bool('isLearner', m.isLearner)
    .toString();
}

export function memberListResponseJson(r: MemberListResponse): string {
  return new JsonObject()
    .obj('header', headerJson(r.header))
    .list('members', r.members.map(memberJson))
    .toString();
}

/** etcd 3.4's StatusResponse: fields added by later versions (storageVersion, dbSizeQuota, ...) are not printed. */
export function statusResponseJson(r: StatusResponse): string {
  return new JsonObject()
    .obj('header', headerJson(r.header))
    .str('version', bytesOf(r.version))
    .int('dbSize', r.dbSize)
    .int('leader', u64(r.leader))
    .int('raftIndex', u64(r.raftIndex))
    .int('raftTerm', u64(r.raftTerm))
    .int('raftAppliedIndex', u64(r.raftAppliedIndex))
    .list(
      'errors',
      r.errors.map((e) => jsonString(bytesOf(e))),
    )
    .int('dbSizeInUse', r.dbSizeInUse)
    .bool('isLearner', r.isLearner)
    .toString();
}

export function endpointHealthJson(list: readonly EpHealth[]): string {
  const items = list.map((h) =>
    new JsonObject()
      .raw('endpoint', jsonString(h.ep))
      .raw('health', h.health ? 'true' : 'false')
      .raw('took', jsonString(h.took))
      .str('error', h.error)
      .toString(),
  );
  return `[${items.join(',')}]`;
}

export function endpointStatusJson(list: readonly EpStatus[]): string {
  const items = list.map((s) =>
    new JsonObject().raw('Endpoint', jsonString(s.ep)).raw('Status', statusResponseJson(s.resp)).toString(),
  );
  return `[${items.join(',')}]`;
}

function eventJson(e: Event): string {
  return new JsonObject()
    .int('type', e.type)
    .obj('kv', e.kv === undefined ? undefined : keyValueJson(e.kv))
    .obj('prev_kv', e.prevKv === undefined ? undefined : keyValueJson(e.prevKv))
    .toString();
}

/**
 * Watch responses whose Go Events slice is nil (clientv3's closing response after a stream error), which
 * encoding/json writes as null rather than [].
 */
export const nilEventsResponses = new WeakSet<WatchResponse>();

/**
 * clientv3.WatchResponse: Header is a struct (always written), Events a slice without omitempty (clientv3
 * always makes it, so an empty one is []), and the exported fields without json tags keep their Go names.
 */
export function watchResponseJson(r: WatchResponse): string {
  return new JsonObject()
    .raw('Header', headerJson(r.header) ?? '{}')
    .raw('Events', nilEventsResponses.has(r) ? 'null' : `[${r.events.map(eventJson).join(',')}]`)
    .raw('CompactRevision', r.compactRevision.toString())
    .raw('Canceled', r.canceled ? 'true' : 'false')
    .raw('Created', r.created ? 'true' : 'false')
    .toString();
}

export class JsonPrinter implements Printer {
  readonly kind = 'json';

  constructor(private readonly out: Sink) {}

  private line(json: string): void {
    this.out.write(`${json}\n`);
  }

  del(r: DeleteRangeResponse): void {
    this.line(deleteRangeResponseJson(r));
  }

  get(r: RangeResponse): void {
    this.line(rangeResponseJson(r));
  }

  put(r: PutResponse): void {
    this.line(putResponseJson(r));
  }

  txn(r: TxnResponse): void {
    this.line(txnResponseJson(r));
  }

  memberList(r: MemberListResponse): void {
    this.line(memberListResponseJson(r));
  }

  endpointHealth(list: readonly EpHealth[]): void {
    this.line(endpointHealthJson(list));
  }

  endpointStatus(list: readonly EpStatus[]): void {
    this.line(endpointStatusJson(list));
  }

  watch(r: WatchResponse): void {
    this.line(watchResponseJson(r));
  }
}
