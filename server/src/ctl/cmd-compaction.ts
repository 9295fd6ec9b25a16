// `compaction [options] <revision>` (etcdctl/ctlv3/command/compaction_command.go). Prints
// "compacted revision N" whatever -w says (etcdctl uses fmt.Println here, not its printer).
import { KVService } from '../proto/gen/etcdserverpb/rpc.js';
import { callOrExit } from './call.js';
import type { CommandDef, Invocation } from './command.js';
import { CtlExit, ExitCode } from './exit.js';
import { clientConfigFromCmd, commandDeadline, mustClient } from './global-flags.js';
import { GoNumError, parseGoInt } from './go-strconv.js';
import { compactionRequest } from '../proto/messages.js';

async function runCompaction(inv: Invocation): Promise<void> {
  if (inv.args.length !== 1) throw new CtlExit(ExitCode.badArgs, 'compaction command needs 1 argument');
  let rev: bigint;
  try {
    rev = parseGoInt(inv.args[0]!, 10);
  } catch (err) {
    if (!(err instanceof GoNumError)) throw err;
    throw new CtlExit(ExitCode.error, err.message);
  }
  const { cfg } = await clientConfigFromCmd(inv);
  const client = await mustClient(cfg, inv);
  const deadline = commandDeadline(inv);
  const req = compactionRequest(rev, inv.flags.bool('physical'));
  await callOrExit(client, KVService.compact, req, 'nonRepeatable', deadline);
  inv.io.stdout.write(`compacted revision ${rev}\n`);
}

export function compactionCommand(): CommandDef {
  return {
    use: 'compaction [options] <revision>',
    short: 'Compacts the event history in etcd',
    flags: [
      {
        name: 'physical',
        kind: 'bool',
        default: false,
        usage: "'true' to wait for compaction to physically remove all old revisions",
      },
    ],
    run: runCompaction,
  };
}
