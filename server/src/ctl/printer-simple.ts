// -w simple (the default): etcdctl's simplePrinter. Keys and values are printed raw, one per line
// (`--hex` prints them as \x.. escapes); `endpoint health` reports on stderr.
import type {
  DeleteRangeResponse,
  MemberListResponse,
  PutResponse,
  RangeResponse,
  TxnResponse,
  WatchResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import type { KeyValue } from '../proto/gen/mvccpb/kv.js';
import { bytesFromBuffer } from './byte-string.js';
import type { Sink } from './io.js';
import { eventTypeName, printTxnOp, type EpHealth, type EpStatus, type Printer } from './printer.js';
import { endpointStatusRows, memberListRows } from './printer-rows.js';

/** addHexPrefix(hex.EncodeToString(b)): "\x66\x6f\x6f". */
function hexEscaped(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').replace(/(..)/g, '\\x$1');
}

export class SimplePrinter implements Printer {
  readonly kind = 'simple';
  /** get --print-value-only. */
  valueOnly = false;

  constructor(
    private readonly isHex: boolean,
    private readonly out: Sink,
    private readonly err: Sink,
  ) {}

  private kv(kv: KeyValue): void {
    const k = this.isHex ? hexEscaped(kv.key) : bytesFromBuffer(kv.key);
    const v = this.isHex ? hexEscaped(kv.value) : bytesFromBuffer(kv.value);
    if (!this.valueOnly) this.out.write(`${k}\n`);
    this.out.write(`${v}\n`);
  }

  del(r: DeleteRangeResponse): void {
    this.out.write(`${r.deleted}\n`);
    for (const kv of r.prevKvs) this.kv(kv);
  }

  get(r: RangeResponse): void {
    for (const kv of r.kvs) this.kv(kv);
  }

  put(r: PutResponse): void {
    this.out.write('OK\n');
    if (r.prevKv !== undefined) this.kv(r.prevKv);
  }

  txn(r: TxnResponse): void {
    this.out.write(r.succeeded ? 'SUCCESS\n' : 'FAILURE\n');
    for (const op of r.responses) {
      this.out.write('\n');
      // etcdctl: fmt.Printf("unexpected response %+v\n", r); a nested txn cannot be written in its syntax.
      printTxnOp(this, op, (kind) => this.out.write(`unexpected response ${kind}\n`));
    }
  }

  memberList(r: MemberListResponse): void {
    for (const row of memberListRows(r).rows) this.out.write(`${row.join(', ')}\n`);
  }

  endpointHealth(list: readonly EpHealth[]): void {
    for (const h of list) {
      if (h.error === '')
        this.err.write(`${h.ep} is healthy: successfully committed proposal: took = ${h.took}\n`);
      else this.err.write(`${h.ep} is unhealthy: failed to commit proposal: ${h.error}\n`);
    }
  }

  endpointStatus(list: readonly EpStatus[]): void {
    for (const row of endpointStatusRows(list).rows) this.out.write(`${row.join(', ')}\n`);
  }

  watch(r: WatchResponse): void {
    for (const e of r.events) {
      this.out.write(`${eventTypeName(e.type)}\n`);
      if (e.prevKv !== undefined) this.kv(e.prevKv);
      if (e.kv !== undefined) this.kv(e.kv);
    }
  }
}
