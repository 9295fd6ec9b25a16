// -w table: etcdctl's tablePrinter. Only member list and endpoint health/status have tables; every other
// command fails with "table not supported as output format" (exit 4) after its request.
import { bytesOf, textOf } from './byte-string.js';
import type { Sink } from './io.js';
import { unsupported, type EpHealth, type EpStatus, type Printer } from './printer.js';
import { endpointHealthRows, endpointStatusRows, memberListRows, type Rows } from './printer-rows.js';
import { renderTable } from './table-writer.js';
import type { MemberListResponse } from '../proto/gen/etcdserverpb/rpc.js';

export class TablePrinter implements Printer {
  readonly kind = 'table';

  constructor(private readonly out: Sink) {}

  private table(t: Rows): void {
    this.out.write(
      bytesOf(
        renderTable(
          t.header,
          t.rows.map((r) => r.map(textOf)),
        ),
      ),
    );
  }

  del(): void {
    unsupported('table');
  }

  get(): void {
    unsupported('table');
  }

  put(): void {
    unsupported('table');
  }

  txn(): void {
    unsupported('table');
  }

  memberList(r: MemberListResponse): void {
    this.table(memberListRows(r));
  }

  endpointHealth(list: readonly EpHealth[]): void {
    this.table(endpointHealthRows(list));
  }

  endpointStatus(list: readonly EpStatus[]): void {
    this.table(endpointStatusRows(list));
  }

  watch(): void {
    unsupported('table');
  }
}
