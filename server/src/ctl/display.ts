// etcdctl's NewPrinter / initDisplayFromCmd: -w and --hex pick the printer.
import type { FlagSet } from './flag-set.js';
import { CtlExit, ExitCode } from './exit.js';
import type { CtlIO } from './io.js';
import type { Printer } from './printer.js';
import { FieldsPrinter } from './printer-fields.js';
import { JsonPrinter } from './printer-json.js';
import { ProtobufPrinter } from './printer-protobuf.js';
import { SimplePrinter } from './printer-simple.js';
import { TablePrinter } from './printer-table.js';

export function newPrinter(format: string, isHex: boolean, io: CtlIO): Printer | undefined {
  switch (format) {
    case 'simple':
      return new SimplePrinter(isHex, io.stdout, io.stderr);
    case 'fields':
      return new FieldsPrinter(io.stdout);
    case 'json':
      return new JsonPrinter(io.stdout);
    case 'protobuf':
      return new ProtobufPrinter(io.stdout);
    case 'table':
      return new TablePrinter(io.stdout);
    default:
      return undefined;
  }
}

/** initDisplayFromCmd: exits 4 with "unsupported output format" for an unknown -w. */
export function initDisplay(flags: FlagSet, io: CtlIO): Printer {
  const p = newPrinter(flags.string('write-out'), flags.bool('hex'), io);
  if (p === undefined) throw new CtlExit(ExitCode.badFeature, 'unsupported output format');
  return p;
}
