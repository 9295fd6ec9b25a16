// `get [options] <key> [range_end]` (etcdctl/ctlv3/command/get_command.go). getGetOp is shared with
// txn's operation parser. --count-only is etcdctl 3.5's (only with -w fields); 3.4 has no such flag.
import {
  KVService,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  type RangeRequest,
} from '../proto/gen/etcdserverpb/rpc.js';
import { bufferOf } from './byte-string.js';
import { callOrExit } from './call.js';
import type { CommandDef, Invocation } from './command.js';
import { CtlExit, ExitCode } from './exit.js';
import type { FlagDef, FlagSet } from './flag-set.js';
import { clientConfigFromCmd, commandDeadline, mustClient } from './global-flags.js';
import { goQuote } from './go-quote.js';
import { withFromKey, withPrefix } from './key-range.js';
import { rangeRequest } from '../proto/messages.js';
import { SimplePrinter } from './printer-simple.js';

const getFlags: readonly FlagDef[] = [
  { name: 'consistency', kind: 'string', default: 'l', usage: 'Linearizable(l) or Serializable(s)' },
  {
    name: 'order',
    kind: 'string',
    default: '',
    usage: 'Order of results; ASCEND or DESCEND (ASCEND by default)',
  },
  {
    name: 'sort-by',
    kind: 'string',
    default: '',
    usage: 'Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION',
  },
  { name: 'limit', kind: 'int64', default: 0n, usage: 'Maximum number of results' },
  { name: 'prefix', kind: 'bool', default: false, usage: 'Get keys with matching prefix' },
  {
    name: 'from-key',
    kind: 'bool',
    default: false,
    usage: 'Get keys that are greater than or equal to the given key using byte compare',
  },
  { name: 'rev', kind: 'int64', default: 0n, usage: 'Specify the kv revision' },
  { name: 'keys-only', kind: 'bool', default: false, usage: 'Get only the keys' },
  // etcdctl 3.5's flag; hidden so that usage texts stay those of etcdctl 3.4, which has no such flag.
  { name: 'count-only', kind: 'bool', default: false, usage: 'Get only the count', hidden: true },
  {
    name: 'print-value-only',
    kind: 'bool',
    default: false,
    usage: 'Only write values when using the "simple" output format',
  },
];

const sortTargets: Record<string, RangeRequest_SortTarget> = {
  CREATE: RangeRequest_SortTarget.CREATE,
  KEY: RangeRequest_SortTarget.KEY,
  MODIFY: RangeRequest_SortTarget.MOD,
  VALUE: RangeRequest_SortTarget.VALUE,
  VERSION: RangeRequest_SortTarget.VERSION,
};

/** getGetOp: validates the arguments and builds the request (exits 128 or 4 on bad arguments). */
export function getGetOp(args: readonly string[], flags: FlagSet): RangeRequest {
  if (args.length === 0) {
    throw new CtlExit(
      ExitCode.badArgs,
      'get command needs one argument as key and an optional argument as range_end',
    );
  }
  const prefix = flags.bool('prefix');
  const fromKey = flags.bool('from-key');
  const keysOnly = flags.bool('keys-only');
  const countOnly = flags.bool('count-only');
  if (prefix && fromKey) {
    throw new CtlExit(
      ExitCode.badArgs,
      '`--prefix` and `--from-key` cannot be set at the same time, choose one',
    );
  }
  if (keysOnly && countOnly) {
    throw new CtlExit(
      ExitCode.badArgs,
      '`--keys-only` and `--count-only` cannot be set at the same time, choose one',
    );
  }
  const consistency = flags.string('consistency');
  if (consistency !== 's' && consistency !== 'l') {
    throw new CtlExit(ExitCode.badFeature, `unknown consistency flag ${goQuote(consistency)}`);
  }
  let key = args[0]!;
  let end = '';
  if (args.length > 1) {
    if (prefix || fromKey) {
      throw new CtlExit(
        ExitCode.badArgs,
        'too many arguments, only accept one argument when `--prefix` or `--from-key` is set',
      );
    }
    end = args[1]!;
  }
  const rev = flags.int64('rev');

  let sortOrder = RangeRequest_SortOrder.NONE;
  const orderText = flags.string('order');
  switch (orderText.toUpperCase()) {
    case 'ASCEND':
      sortOrder = RangeRequest_SortOrder.ASCEND;
      break;
    case 'DESCEND':
      sortOrder = RangeRequest_SortOrder.DESCEND;
      break;
    case '':
      break;
    default:
      throw new CtlExit(ExitCode.badFeature, `bad sort order ${orderText}`);
  }
  const targetText = flags.string('sort-by');
  let sortTarget = RangeRequest_SortTarget.KEY;
  if (targetText !== '') {
    const t = sortTargets[targetText.toUpperCase()];
    if (t === undefined) throw new CtlExit(ExitCode.badFeature, `bad sort target ${targetText}`);
    sortTarget = t;
  }
  // clientv3.WithSort: the server already returns keys in ascending order, so KEY/ASCEND is sent as NONE.
  if (sortTarget === RangeRequest_SortTarget.KEY && sortOrder === RangeRequest_SortOrder.ASCEND) {
    sortOrder = RangeRequest_SortOrder.NONE;
  }

  if (prefix) ({ key, end } = withPrefix(key));
  if (fromKey) ({ key, end } = withFromKey(key));

  return rangeRequest({
    key: bufferOf(key),
    rangeEnd: bufferOf(end),
    limit: flags.int64('limit'),
    revision: rev > 0n ? rev : 0n,
    sortOrder,
    sortTarget,
    serializable: consistency === 's',
    keysOnly,
    countOnly,
  });
}

async function runGet(inv: Invocation): Promise<void> {
  const req = getGetOp(inv.args, inv.flags);
  const deadline = commandDeadline(inv);
  const { cfg, display } = await clientConfigFromCmd(inv);
  const resp = await callOrExit(await mustClient(cfg, inv), KVService.range, req, 'repeatable', deadline);
  if (inv.flags.bool('count-only') && display.kind !== 'fields') {
    throw new CtlExit(ExitCode.badArgs, '--count-only is only for `--write-out=fields`');
  }
  if (inv.flags.bool('print-value-only')) {
    if (!(display instanceof SimplePrinter)) {
      throw new CtlExit(ExitCode.badArgs, 'print-value-only is only for `--write-out=simple`');
    }
    display.valueOnly = true;
  }
  display.get(resp);
}

/** The get command; txn's operation parser substitutes its own `run`. */
export function getCommand(run: (inv: Invocation) => Promise<void> = runGet): CommandDef {
  return {
    use: 'get [options] <key> [range_end]',
    short: 'Gets the key or a range of keys',
    flags: getFlags,
    run,
  };
}
