// etcdctl's txn input language (etcdctl/ctlv3/command/txn_command.go), parsed exactly as etcdctl 3.4
// parses it, quirks included:
//
//   compares           mod("key") > "0"      <target>("<key>") <op> "<value>"
//   <blank line>       targets: ver|version, c|create, m|mod, val|value, lease; ops: = != > <
//   success ops        put key value [--lease=..] | get key [end] [--prefix ...] | del key [--prev-kv ...]
//   <blank line>
//   failure ops
//   <blank line>
//
// - Comparisons are read with fmt.Sscanf(rest, "%q) %s %q"), so key and value are Go string literals.
// - Operations are split by argify's regex and run through throw-away put/get/del commands (prefixes
//   such as `g` for get work); "..." words are Go-unquoted, and '...' words are cut with a bug etcdctl
//   has (`[1 : len(words)-1]`), which can panic.
// - An unknown operator is a Go panic in clientv3.Compare ("Unknown result op"), and any `lease(...)`
//   compare panics with "bad value" (its value is passed as a string): both exit 2.
import {
  Compare_CompareResult,
  Compare_CompareTarget,
  type Compare,
  type RequestOp,
} from '../proto/gen/etcdserverpb/rpc.js';
import { bufferOf } from './byte-string.js';
import { getCommand, getGetOp } from './cmd-get.js';
import { delCommand, getDelOp } from './cmd-del.js';
import { getPutOp, putCommand } from './cmd-put.js';
import { Command, findCommand, type Invocation } from './command.js';
import { CtlExit, ExitCode, GoPanic } from './exit.js';
import { FlagError } from './flag-set.js';
import { goQuote, GoSyntaxError, goUnquote } from './go-quote.js';
import { goSscanf } from './go-scan.js';
import { GoNumError, parseGoInt } from './go-strconv.js';
import { BytesStdin, type CtlIO } from './io.js';
import { compareOf, requestOpDeleteRange, requestOpPut, requestOpRange } from '../proto/messages.js';
import { cobraDefaultUsage } from './usage.js';

/** Parse failures that etcdctl reports with ExitWithError(ExitInvalidInput, ...). */
export class TxnSyntaxError extends Error {}

const results: Record<string, Compare_CompareResult> = {
  '=': Compare_CompareResult.EQUAL,
  '!=': Compare_CompareResult.NOT_EQUAL,
  '>': Compare_CompareResult.GREATER,
  '<': Compare_CompareResult.LESS,
};

/** clientv3.Compare's operator switch. */
function compareResult(op: string): Compare_CompareResult {
  const r = results[op];
  if (r === undefined) throw new GoPanic('Unknown result op');
  return r;
}

/** parseCompare: one comparison line (already trimmed). Throws TxnSyntaxError or GoPanic. */
export function parseCompare(line: string): Compare {
  const lparen = line.indexOf('(');
  if (lparen < 0) throw new TxnSyntaxError(`malformed comparison: ${line}`);
  const target = line.slice(0, lparen);
  const scan = goSscanf(line.slice(lparen + 1), [
    { verb: 'q' },
    { literal: ') ' },
    { verb: 's' },
    { literal: ' ' },
    { verb: 'q' },
  ]);
  const [key = '', op = '', val = ''] = scan.values;
  if (scan.n !== 3) {
    throw new TxnSyntaxError(
      `malformed comparison: ${line}; got ${target}(${goQuote(key)}) ${op} ${goQuote(val)}`,
    );
  }
  const numeric = (t: Compare_CompareTarget, c: 'version' | 'createRevision' | 'modRevision'): Compare => {
    let v: bigint;
    try {
      v = parseGoInt(val, 10);
    } catch (err) {
      if (!(err instanceof GoNumError)) throw err;
      throw new TxnSyntaxError(`invalid txn compare request: ${line}`);
    }
    return compareOf({
      result: compareResult(op),
      target: t,
      key: bufferOf(key),
      targetUnion: { $case: c, value: v },
    });
  };
  switch (target) {
    case 'ver':
    case 'version':
      return numeric(Compare_CompareTarget.VERSION, 'version');
    case 'c':
    case 'create':
      return numeric(Compare_CompareTarget.CREATE, 'createRevision');
    case 'm':
    case 'mod':
      return numeric(Compare_CompareTarget.MOD, 'modRevision');
    case 'val':
    case 'value':
      return compareOf({
        result: compareResult(op),
        target: Compare_CompareTarget.VALUE,
        key: bufferOf(key),
        targetUnion: { $case: 'value', value: bufferOf(val) },
      });
    case 'lease':
      compareResult(op);
      throw new GoPanic('bad value'); // clientv3.mustInt64 of the value string
    default:
      throw new TxnSyntaxError(`malformed comparison: ${line} (unknown target ${target})`);
  }
}

/** argify: splits an operation line into words (Go's RE2 \s is ASCII whitespace). */
export function argify(line: string): string[] {
  const re = /"(?:[^"\\]|\\.)*"|'[^']*'|[^'"\t\n\f\r ][^\t\n\f\r ]*[^'"\t\n\f\r ]?/g;
  const words = line.match(re) ?? [];
  return words.map((w) => {
    if (w.length === 0) return w;
    if (w[0] === "'") {
      // etcdctl slices with the number of words instead of the word's length.
      const high = words.length - 1;
      if (high > w.length)
        throw new GoPanic(`runtime error: slice bounds out of range [:${high}] with length ${w.length}`);
      if (1 > high) throw new GoPanic(`runtime error: slice bounds out of range [1:${high}]`);
      return w.slice(1, high);
    }
    if (w[0] === '"') {
      try {
        return goUnquote(w);
      } catch (err) {
        if (err instanceof GoSyntaxError) throw new CtlExit(ExitCode.invalidInput, err.message);
        throw err;
      }
    }
    return w;
  });
}

/**
 * parseRequestUnion: one operation line (already trimmed). Throws TxnSyntaxError, or CtlExit for the
 * argument errors of put/get/del (which exit the process in etcdctl too). A flag error also prints the
 * operation's usage to stderr, as the cobra command etcdctl runs does.
 */
export async function parseRequestOp(line: string, io: CtlIO): Promise<RequestOp> {
  const args = argify(line);
  if (args.length < 2) throw new TxnSyntaxError(`invalid txn compare request: ${line}`);
  const invalid = (): TxnSyntaxError => new TxnSyntaxError(`invalid txn request: ${line}`);

  let op: RequestOp | undefined;
  // The operation reads stdin for a missing put value; etcdctl's bufio reader has normally consumed
  // all of it by then, so it finds nothing.
  const emptyStdin = new BytesStdin('');
  const root = new Command(
    {
      use: '',
      short: '',
      children: [
        putCommand(async (inv: Invocation) => {
          op = requestOpPut(await getPutOp(inv.args, inv.flags, emptyStdin));
        }),
        getCommand((inv: Invocation) => {
          op = requestOpRange(getGetOp(inv.args, inv.flags));
          return Promise.resolve();
        }),
        delCommand((inv: Invocation) => {
          op = requestOpDeleteRange(getDelOp(inv.args, inv.flags));
          return Promise.resolve();
        }),
        // cobra adds these two to every root; as operations etcdctl would wait forever for an op.
        { use: 'help [command]', short: 'Help about any command' },
        { use: 'completion', short: 'Generate the autocompletion script for the specified shell' },
      ],
    },
    undefined,
  );
  const found = findCommand(root, args);
  const cmd = found.command;
  if (found.error !== undefined || cmd === root || !cmd.runnable) throw invalid();
  const flags = cmd.flagSet();
  let positional: string[];
  try {
    positional = flags.parse(found.args);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    io.stderr.write(`${cobraDefaultUsage(cmd)}\n`);
    throw invalid();
  }
  if (flags.bool('help')) throw invalid();
  await cmd.def.run!({ command: cmd, flags, args: positional, io });
  if (op === undefined) throw invalid();
  return op;
}
