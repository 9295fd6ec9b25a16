// `member list` (etcdctl/ctlv3/command/member_command.go). add/remove/update/promote come with
// membership changes (Raft).
import { ClusterService } from '../proto/gen/etcdserverpb/rpc.js';
import { callOrExit } from './call.js';
import type { CommandDef, Invocation } from './command.js';
import { clientConfigFromCmd, commandDeadline, mustClient } from './global-flags.js';
import { memberListRequest } from '../proto/messages.js';

async function runMemberList(inv: Invocation): Promise<void> {
  const deadline = commandDeadline(inv);
  const { cfg, display } = await clientConfigFromCmd(inv);
  const resp = await callOrExit(
    await mustClient(cfg, inv),
    ClusterService.memberList,
    memberListRequest(),
    'repeatable',
    deadline,
  );
  display.memberList(resp);
}

export function memberCommand(): CommandDef {
  return {
    use: 'member <subcommand>',
    short: 'Membership related commands',
    children: [
      {
        use: 'list',
        short: 'Lists all members in the cluster',
        long: `When --write-out is set to simple, this command prints out comma-separated member lists for each endpoint.
The items in the lists are ID, Status, Name, Peer Addrs, Client Addrs, Is Learner.
`,
        run: runMemberList,
      },
    ],
  };
}
