// `move-leader <transferee-member-id>` (etcdctl/ctlv3/command/move_leader_command.go, 3.4).
// MoveLeader must reach the leader (a follower answers "etcdserver: not leader"), so etcdctl first asks
// each --endpoints entry in turn for its Status, over a client of its own, and stops at the first that
// reports itself as leader; then it calls MoveLeader on that client. One --command-timeout covers all of it.
// - A Status failure ends the command at once (exit 1), even if a later endpoint is the leader.
// - No leader among the endpoints: "no leader endpoint given at [ep1 ep2]" with the bad-arguments code.
// - Moving leadership to the current leader succeeds ("from X to X"); an unknown id is the server's
//   "etcdserver: bad leader transferee".
import { MaintenanceService } from '../proto/gen/etcdserverpb/rpc.js';
import { moveLeaderRequest, statusRequest } from '../proto/messages.js';
import { callOrExit, failureText } from './call.js';
import { CallFailure, EtcdClient } from './client.js';
import type { CommandDef, Invocation } from './command.js';
import { CtlExit, ExitCode } from './exit.js';
import { clientConfigFromCmd, commandDeadline, keepaliveFromFlags, mustClient } from './global-flags.js';
import { GoNumError, parseGoUint } from './go-strconv.js';
import { memberPrinter } from './printer-member.js';

function targetArg(args: readonly string[]): bigint {
  if (args.length !== 1) throw new CtlExit(ExitCode.badArgs, 'move-leader command needs 1 argument');
  try {
    return parseGoUint(args[0]!, 16);
  } catch (err) {
    if (err instanceof GoNumError) throw new CtlExit(ExitCode.badArgs, err.message);
    throw err;
  }
}

async function runMoveLeader(inv: Invocation): Promise<void> {
  const target = targetArg(inv.args);
  const { cfg, display } = await clientConfigFromCmd(inv);
  // etcdctl creates (and closes) a client for all endpoints first: its failures (no endpoint, dial timeout,
  // authentication) end the command before any Status.
  (await mustClient(cfg, inv)).close();
  const deadline = commandDeadline(inv);

  let leaderClient: EtcdClient | undefined;
  let leaderId = 0n;
  for (const ep of cfg.endpoints) {
    const client = await mustClient({ ...cfg, endpoints: [ep] }, inv);
    // clientv3's Maintenance.Status dials the endpoint itself (a passthrough target in its log lines).
    const direct = new EtcdClient([ep], 'passthrough', inv.io, keepaliveFromFlags(inv));
    direct.token = client.token;
    try {
      const resp = await direct.call(MaintenanceService.status, statusRequest(), 'repeatable', deadline);
      if ((resp.header?.memberId ?? 0n) === resp.leader) {
        leaderClient = client;
        leaderId = resp.leader;
        break;
      }
    } catch (err) {
      client.close();
      if (err instanceof CallFailure) throw new CtlExit(ExitCode.error, failureText(err));
      throw err;
    } finally {
      direct.close();
    }
    client.close();
  }
  if (leaderClient === undefined) {
    throw new CtlExit(
      ExitCode.badArgs,
      `no leader endpoint given at [${cfg.endpoints.map((e) => e.raw).join(' ')}]`,
    );
  }
  const resp = await callOrExit(
    leaderClient,
    MaintenanceService.moveLeader,
    moveLeaderRequest(target),
    'repeatable',
    deadline,
  );
  memberPrinter(display.kind, inv.io.stdout).moveLeader(leaderId, target, resp);
}

export function moveLeaderCommand(): CommandDef {
  return {
    use: 'move-leader <transferee-member-id>',
    short: 'Transfers leadership to another etcd cluster member.',
    run: runMoveLeader,
  };
}
