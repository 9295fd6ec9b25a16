// Output formats (-w/--write-out), one printer per format as in etcdctl/ctlv3/command/printer*.go.
// A format that does not support a command fails *after* the request was made, exactly like etcdctl:
// `etcdctl -w table put k v` writes the key and then exits 4 with "table not supported as output format".
import type {
  DeleteRangeResponse,
  MemberListResponse,
  PutResponse,
  RangeResponse,
  ResponseOp,
  StatusResponse,
  TxnResponse,
  WatchResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import { CtlExit, ExitCode } from './exit.js';

/** One `endpoint health` result (etcdctl's epHealth). Strings are byte strings. */
export interface EpHealth {
  ep: string;
  health: boolean;
  /** Go Duration.String() of the check, e.g. "1.234567ms". */
  took: string;
  /** Empty when healthy. */
  error: string;
}

/** One `endpoint status` result (etcdctl's epStatus). */
export interface EpStatus {
  ep: string;
  resp: StatusResponse;
}

export interface Printer {
  /** simplePrinter's valueOnly (get --print-value-only); undefined for other formats. */
  readonly kind: 'simple' | 'json' | 'table' | 'fields' | 'protobuf';
  del(r: DeleteRangeResponse): void;
  get(r: RangeResponse): void;
  put(r: PutResponse): void;
  txn(r: TxnResponse): void;
  memberList(r: MemberListResponse): void;
  endpointHealth(list: readonly EpHealth[]): void;
  endpointStatus(list: readonly EpStatus[]): void;
  /** display.Watch: one clientv3.WatchResponse as the watch command receives it (see watch-stream.ts). */
  watch(r: WatchResponse): void;
}

/** mvccpb.Event_EventType.String(): "PUT", "DELETE", or the number for an unknown value. */
export function eventTypeName(t: number): string {
  return t === 0 ? 'PUT' : t === 1 ? 'DELETE' : String(t);
}

/** printerUnsupported: every method exits 4. */
export function unsupported(format: string): never {
  throw new CtlExit(ExitCode.badFeature, `${format} not supported as output format`);
}

/**
 * The per-op part of etcdctl's txn printers: each op response goes to the printer's del/put/get, and
 * anything else (a nested txn, which etcdctl's syntax cannot produce) to `unknown`.
 */
export function printTxnOp(
  p: Pick<Printer, 'del' | 'put' | 'get'>,
  op: ResponseOp,
  unknown: (kind: string) => void,
): void {
  const resp = op.response;
  switch (resp?.$case) {
    case 'responseDeleteRange':
      return p.del(resp.value);
    case 'responsePut':
      return p.put(resp.value);
    case 'responseRange':
      return p.get(resp.value);
    default:
      return unknown(resp?.$case ?? '<nil>');
  }
}
