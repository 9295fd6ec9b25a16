// -w fields: etcdctl's fieldsPrinter, `"Name" : value` lines (strings %q-quoted, as Go prints them).
import type {
  DeleteRangeResponse,
  MemberListResponse,
  PutResponse,
  RangeResponse,
  ResponseHeader,
  TxnResponse,
  WatchResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import type { KeyValue } from '../proto/gen/mvccpb/kv.js';
import { bytesFromBuffer, bytesOf } from './byte-string.js';
import { goQuote } from './go-quote.js';
import type { Sink } from './io.js';
import { eventTypeName, printTxnOp, type EpHealth, type EpStatus, type Printer } from './printer.js';

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

export class FieldsPrinter implements Printer {
  readonly kind = 'fields';

  constructor(private readonly out: Sink) {}

  private line(text: string): void {
    this.out.write(`${text}\n`);
  }

  private kv(pfx: string, kv: KeyValue): void {
    this.line(`"${pfx}Key" : ${goQuote(bytesFromBuffer(kv.key))}`);
    this.line(`"${pfx}CreateRevision" : ${kv.createRevision}`);
    this.line(`"${pfx}ModRevision" : ${kv.modRevision}`);
    this.line(`"${pfx}Version" : ${kv.version}`);
    this.line(`"${pfx}Value" : ${goQuote(bytesFromBuffer(kv.value))}`);
    this.line(`"${pfx}Lease" : ${kv.lease}`);
  }

  private hdr(h: ResponseHeader | undefined): void {
    this.line(`"ClusterID" : ${u64(h?.clusterId ?? 0n)}`);
    this.line(`"MemberID" : ${u64(h?.memberId ?? 0n)}`);
    this.line(`"Revision" : ${h?.revision ?? 0n}`);
    this.line(`"RaftTerm" : ${u64(h?.raftTerm ?? 0n)}`);
  }

  del(r: DeleteRangeResponse): void {
    this.hdr(r.header);
    this.line(`"Deleted" : ${r.deleted}`);
    for (const kv of r.prevKvs) this.kv('Prev', kv);
  }

  get(r: RangeResponse): void {
    this.hdr(r.header);
    for (const kv of r.kvs) this.kv('', kv);
    this.line(`"More" : ${r.more}`);
    this.line(`"Count" : ${r.count}`);
  }

  put(r: PutResponse): void {
    this.hdr(r.header);
    if (r.prevKv !== undefined) this.kv('Prev', r.prevKv);
  }

  txn(r: TxnResponse): void {
    this.hdr(r.header);
    this.line(`"Succeeded" : ${r.succeeded}`);
    for (const op of r.responses) {
      printTxnOp(this, op, (kind) => this.line(`"Unknown" : ${goQuote(kind)}`));
    }
  }

  memberList(r: MemberListResponse): void {
    this.hdr(r.header);
    for (const m of r.members) {
      this.line(`"ID" : ${u64(m.ID)}`);
      this.line(`"Name" : ${goQuote(bytesOf(m.name))}`);
      for (const u of m.peerURLs) this.line(`"PeerURL" : ${goQuote(bytesOf(u))}`);
      for (const u of m.clientURLs) this.line(`"ClientURL" : ${goQuote(bytesOf(u))}`);
      this.line(`"IsLearner" : ${m.isLearner}`);
      this.line('');
    }
  }

  endpointHealth(list: readonly EpHealth[]): void {
    for (const h of list) {
      this.line(`"Endpoint" : ${goQuote(h.ep)}`);
      this.line(`"Health" : ${h.health}`);
      this.line(`"Took" : ${h.took}`);
      this.line(`"Error" : ${h.error}`);
      this.line('');
    }
  }

  endpointStatus(list: readonly EpStatus[]): void {
    for (const { ep, resp } of list) {
      this.hdr(resp.header);
      this.line(`"Version" : ${goQuote(bytesOf(resp.version))}`);
      this.line(`"DBSize" : ${resp.dbSize}`);
      this.line(`"Leader" : ${u64(resp.leader)}`);
      this.line(`"IsLearner" : ${resp.isLearner}`);
      this.line(`"RaftIndex" : ${u64(resp.raftIndex)}`);
      this.line(`"RaftTerm" : ${u64(resp.raftTerm)}`);
      this.line(`"RaftAppliedIndex" : ${u64(resp.raftAppliedIndex)}`);
      this.line(`"Errors" : [${resp.errors.map(bytesOf).join(' ')}]`);
      this.line(`"Endpoint" : ${goQuote(ep)}`);
      this.line('');
    }
  }

  watch(r: WatchResponse): void {
    this.hdr(r.header);
    for (const e of r.events) {
      this.line(`"Type" : ${eventTypeName(e.type)}`);
      if (e.prevKv !== undefined) this.kv('Prev', e.prevKv);
      if (e.kv !== undefined) this.kv('', e.kv);
    }
  }
}
