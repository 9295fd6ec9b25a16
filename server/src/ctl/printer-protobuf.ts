// -w protobuf: etcdctl's pbPrinter writes the response re-encoded in protobuf wire format, with no
// trailing newline. Endpoint health and status have no message to encode and fail (exit 4).
import {
  DeleteRangeResponse,
  MemberListResponse,
  PutResponse,
  RangeResponse,
  type ResponseHeader,
  TxnResponse,
  WatchResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import { bytesFromBuffer } from './byte-string.js';
import type { Sink } from './io.js';
import { unsupported, type Printer } from './printer.js';

export class ProtobufPrinter implements Printer {
  readonly kind = 'protobuf';

  constructor(private readonly out: Sink) {}

  private write(bytes: Uint8Array): void {
    this.out.write(bytesFromBuffer(bytes));
  }

  del(r: DeleteRangeResponse): void {
    this.write(DeleteRangeResponse.encode(r).finish());
  }

  get(r: RangeResponse): void {
    this.write(RangeResponse.encode(r).finish());
  }

  put(r: PutResponse): void {
    this.write(PutResponse.encode(r).finish());
  }

  txn(r: TxnResponse): void {
    this.write(TxnResponse.encode(r).finish());
  }

  memberList(r: MemberListResponse): void {
    this.write(MemberListResponse.encode(r).finish());
  }

  endpointHealth(): void {
    unsupported('protobuf');
  }

  endpointStatus(): void {
    unsupported('protobuf');
  }

  /** etcdctl re-packs clientv3's WatchResponse into a pb.WatchResponse of these fields only. */
  watch(r: WatchResponse): void {
    const header: ResponseHeader = r.header ?? { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n };
    const wr: WatchResponse = {
      header,
      watchId: 0n,
      created: r.created,
      canceled: r.canceled,
      compactRevision: r.compactRevision,
      cancelReason: '',
      fragment: false,
      events: r.events,
    };
    this.write(WatchResponse.encode(wr).finish());
  }
}
