// `put [options] <key> <value>` (etcdctl/ctlv3/command/put_command.go). The value comes from stdin when
// it is not an argument; getPutOp is shared with txn's operation parser.
import { KVService, type PutRequest } from '../proto/gen/etcdserverpb/rpc.js';
import { bufferOf } from './byte-string.js';
import { callOrExit } from './call.js';
import type { CommandDef, Invocation } from './command.js';
import { CtlExit, ExitCode } from './exit.js';
import type { FlagDef, FlagSet } from './flag-set.js';
import { clientConfigFromCmd, commandDeadline, mustClient } from './global-flags.js';
import { GoNumError, parseGoInt } from './go-strconv.js';
import type { StdinReader } from './io.js';
import { putRequest } from '../proto/messages.js';

const putFlags: readonly FlagDef[] = [
  { name: 'lease', kind: 'string', default: '0', usage: 'lease ID (in hexadecimal) to attach to the key' },
  {
    name: 'prev-kv',
    kind: 'bool',
    default: false,
    usage: 'return the previous key-value pair before modification',
  },
  { name: 'ignore-value', kind: 'bool', default: false, usage: 'updates the key using its current value' },
  { name: 'ignore-lease', kind: 'bool', default: false, usage: 'updates the key using its current lease' },
];

const needsArgs = 'put command needs 1 argument and input from stdin or 2 arguments';

/** argOrStdin: args[i], or all of stdin (which must not be empty). */
async function argOrStdin(
  args: readonly string[],
  stdin: StdinReader,
  i: number,
): Promise<string | undefined> {
  if (i < args.length) return args[i];
  const all = await stdin.readAll();
  return all === '' ? undefined : all;
}

/** getPutOp: validates the arguments and builds the request (exits 128 on bad arguments). */
export async function getPutOp(
  args: readonly string[],
  flags: FlagSet,
  stdin: StdinReader,
): Promise<PutRequest> {
  if (args.length === 0) throw new CtlExit(ExitCode.badArgs, needsArgs);
  const key = args[0]!;
  const ignoreValue = flags.bool('ignore-value');
  if (ignoreValue && args.length > 1) {
    throw new CtlExit(ExitCode.badArgs, "put command needs only 1 argument when 'ignore-value' is set");
  }
  let value = '';
  if (!ignoreValue) {
    const v = await argOrStdin(args, stdin, 1);
    if (v === undefined) throw new CtlExit(ExitCode.badArgs, needsArgs);
    value = v;
  }
  let lease: bigint;
  try {
    lease = parseGoInt(flags.string('lease'), 16);
  } catch (err) {
    if (!(err instanceof GoNumError)) throw err;
    throw new CtlExit(ExitCode.badArgs, `bad lease ID (${err.message}), expecting ID in Hex`);
  }
  return putRequest({
    key: bufferOf(key),
    value: bufferOf(value),
    lease,
    prevKv: flags.bool('prev-kv'),
    ignoreValue,
    ignoreLease: flags.bool('ignore-lease'),
  });
}

async function runPut(inv: Invocation): Promise<void> {
  const req = await getPutOp(inv.args, inv.flags, inv.io.stdin);
  const deadline = commandDeadline(inv);
  const { cfg, display } = await clientConfigFromCmd(inv);
  const resp = await callOrExit(await mustClient(cfg, inv), KVService.put, req, 'nonRepeatable', deadline);
  display.put(resp);
}

/** The put command; txn's operation parser substitutes its own `run`. */
export function putCommand(run: (inv: Invocation) => Promise<void> = runPut): CommandDef {
  return {
    use: 'put [options] <key> <value> (<value> can also be given from stdin)',
    short: 'Puts the given key into the store',
    long: `
Puts the given key into the store.

When <value> begins with '-', <value> is interpreted as a flag.
Insert '--' for workaround:

$ put <key> -- <value>
$ put -- <key> <value>

If <value> isn't given as a command line argument and '--ignore-value' is not specified,
this command tries to read the value from standard input.

If <lease> isn't given as a command line argument and '--ignore-lease' is not specified,
this command tries to read the value from standard input.

For example,
$ cat file | put <key>
will store the content of the file to <key>.
`,
    flags: putFlags,
    run,
  };
}
