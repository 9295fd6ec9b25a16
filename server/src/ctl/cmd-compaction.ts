// `compaction [options] <revision>` (etcdctl/ctlv3/command/compaction_command.go). Prints
// "compacted revision N" whatever -w says (etcdctl uses fmt.Println here, not its printer).
//
// Cairn's own `--keep-revisions N` (instead of <revision>; what the operator's maintenance runs): compact
// to the current revision minus N, so the last N revisions stay readable (N=0: only the current one).
// A target at or below the revision already compacted is nothing to do, not an error: a scheduled run
// that finds no new history must not fail.
import { KVService } from '../proto/gen/etcdserverpb/rpc.js';
import { callOrExit, failureText } from './call.js';
import { CallFailure, type EtcdClient } from './client.js';
import type { CommandDef, Invocation } from './command.js';
import { CtlExit, ExitCode } from './exit.js';
import { clientConfigFromCmd, commandDeadline, mustClient } from './global-flags.js';
import { GoNumError, parseGoInt } from './go-strconv.js';
import { compactionRequest, rangeRequest } from '../proto/messages.js';

/** The server's answer to a Compact at or below the compacted revision (etcd's ErrCompacted). */
const ERR_COMPACTED = 'etcdserver: mvcc: required revision has been compacted';

async function runCompaction(inv: Invocation): Promise<void> {
  if (inv.flags.changed('keep-revisions')) return runKeepRevisions(inv);
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

/** The cluster's current revision: a linearizable Range's header (served under a NOSPACE alarm too). */
async function currentRevision(client: EtcdClient, deadline: number): Promise<bigint> {
  const req = rangeRequest({ key: Buffer.from([0]), limit: 1n, countOnly: true });
  const resp = await client.call(KVService.range, req, 'repeatable', deadline);
  return resp.header?.revision ?? 0n;
}

async function runKeepRevisions(inv: Invocation): Promise<void> {
  if (inv.args.length !== 0) {
    throw new CtlExit(ExitCode.badArgs, 'compaction takes either <revision> or --keep-revisions, not both');
  }
  const keep = inv.flags.int64('keep-revisions');
  if (keep < 0n) throw new CtlExit(ExitCode.error, `--keep-revisions must not be negative (got ${keep})`);
  const { cfg } = await clientConfigFromCmd(inv);
  const client = await mustClient(cfg, inv);
  try {
    const current = await currentRevision(client, commandDeadline(inv));
    const rev = current - keep;
    if (rev <= 0n) {
      inv.io.stdout.write(`nothing to compact: revision ${current}, keeping ${keep}\n`);
      return;
    }
    const req = compactionRequest(rev, inv.flags.bool('physical'));
    try {
      await client.call(KVService.compact, req, 'nonRepeatable', commandDeadline(inv));
    } catch (err) {
      if (err instanceof CallFailure && err.rpc.desc === ERR_COMPACTED) {
        inv.io.stdout.write(`nothing to compact: revision ${rev} is already compacted\n`);
        return;
      }
      throw err;
    }
    inv.io.stdout.write(`compacted revision ${rev}\n`);
  } catch (err) {
    if (err instanceof CallFailure) throw new CtlExit(ExitCode.error, failureText(err));
    throw err;
  } finally {
    client.close();
  }
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
      {
        // Cairn's own; hidden so that the usage text stays etcdctl 3.4's (server/src/ctl/README.md has it).
        name: 'keep-revisions',
        kind: 'int64',
        default: 0n,
        usage: 'compact to the current revision minus this many, instead of <revision>',
        hidden: true,
      },
    ],
    run: runCompaction,
  };
}
