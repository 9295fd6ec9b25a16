// `del [options] <key> [range_end]` (etcdctl/ctlv3/command/del_command.go). getDelOp is shared with
// txn's operation parser.
import { KVService, type DeleteRangeRequest } from '../proto/gen/etcdserverpb/rpc.js';
import { bufferOf } from './byte-string.js';
import { callOrExit } from './call.js';
import type { CommandDef, Invocation } from './command.js';
import { CtlExit, ExitCode } from './exit.js';
import type { FlagDef, FlagSet } from './flag-set.js';
import { clientConfigFromCmd, commandDeadline, mustClient } from './global-flags.js';
import { withFromKey, withPrefix } from './key-range.js';
import { deleteRangeRequest } from '../proto/messages.js';

const delFlags: readonly FlagDef[] = [
  { name: 'prefix', kind: 'bool', default: false, usage: 'delete keys with matching prefix' },
  { name: 'prev-kv', kind: 'bool', default: false, usage: 'return deleted key-value pairs' },
  {
    name: 'from-key',
    kind: 'bool',
    default: false,
    usage: 'delete keys that are greater than or equal to the given key using byte compare',
  },
];

/** getDelOp: validates the arguments and builds the request (exits 128 on bad arguments). */
export function getDelOp(args: readonly string[], flags: FlagSet): DeleteRangeRequest {
  if (args.length === 0 || args.length > 2) {
    throw new CtlExit(
      ExitCode.badArgs,
      'del command needs one argument as key and an optional argument as range_end',
    );
  }
  const prefix = flags.bool('prefix');
  const fromKey = flags.bool('from-key');
  if (prefix && fromKey) {
    throw new CtlExit(
      ExitCode.badArgs,
      '`--prefix` and `--from-key` cannot be set at the same time, choose one',
    );
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
  if (prefix) ({ key, end } = withPrefix(key));
  if (fromKey) ({ key, end } = withFromKey(key));
  return deleteRangeRequest({ key: bufferOf(key), rangeEnd: bufferOf(end), prevKv: flags.bool('prev-kv') });
}

async function runDel(inv: Invocation): Promise<void> {
  const req = getDelOp(inv.args, inv.flags);
  const deadline = commandDeadline(inv);
  const { cfg, display } = await clientConfigFromCmd(inv);
  const resp = await callOrExit(
    await mustClient(cfg, inv),
    KVService.deleteRange,
    req,
    'nonRepeatable',
    deadline,
  );
  display.del(resp);
}

/** The del command; txn's operation parser substitutes its own `run`. */
export function delCommand(run: (inv: Invocation) => Promise<void> = runDel): CommandDef {
  return {
    use: 'del [options] <key> [range_end]',
    short: 'Removes the specified key or range of keys [key, range_end)',
    flags: delFlags,
    run,
  };
}
