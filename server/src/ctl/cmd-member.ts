// `member add|remove|update|list|promote` (etcdctl/ctlv3/command/member_command.go, 3.4).
// - Argument errors exit 128 before anything else (ETCDCTL_* and -w are read later, with the client).
// - add and update check the peer URLs as clientv3 does (types.NewURLs) after the client is created, so
//   a bad URL is exit 1 and a bad -w is exit 4 first. The request carries the URLs as given (untrimmed).
// - Changes are not retried (clientv3's nonRepeatable), list is.
// - add with -w simple also prints the environment for starting the new member: ETCD_NAME, and the new
//   cluster's ETCD_INITIAL_CLUSTER built from the response's members in their order, with the new
//   member (still nameless) under the name given on the command line.
import { ClusterService } from '../proto/gen/etcdserverpb/rpc.js';
import type { MemberAddResponse } from '../proto/gen/etcdserverpb/rpc.js';
import {
  memberAddRequest,
  memberListRequest,
  memberPromoteRequest,
  memberRemoveRequest,
  memberUpdateRequest,
} from '../proto/messages.js';
import { bytesOf, textOf } from './byte-string.js';
import { callOrExit } from './call.js';
import type { UnaryMethod } from './client.js';
import type { CommandDef, Invocation } from './command.js';
import { CtlExit, ExitCode } from './exit.js';
import { clientConfigFromCmd, commandDeadline, mustClient } from './global-flags.js';
import { goQuote } from './go-quote.js';
import { GoNumError, parseGoUint } from './go-strconv.js';
import { newUrlsError } from './go-url.js';
import { memberPrinter } from './printer-member.js';
import type { Printer } from './printer.js';
import type { Sink } from './io.js';

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

/** The single hex member id argument of remove/update/promote (strconv.ParseUint(arg, 16, 64)). */
export function memberIdArg(args: readonly string[]): bigint {
  if (args.length !== 1) throw new CtlExit(ExitCode.badArgs, 'member ID is not provided');
  try {
    return parseGoUint(args[0]!, 16);
  } catch (err) {
    if (!(err instanceof GoNumError)) throw err;
    throw new CtlExit(ExitCode.badArgs, `bad member ID arg (${err.message}), expecting ID in Hex`);
  }
}

/** --peer-urls split on commas (strings.Split: empty parts kept); empty is a bad argument. */
function peerUrlsArg(inv: Invocation): string[] {
  const value = inv.flags.string('peer-urls');
  if (value === '') throw new CtlExit(ExitCode.badArgs, 'member peer urls not provided');
  return value.split(',');
}

/** clientv3's fail-fast check of the peer URLs (exit 1, as any failed request). */
function checkPeerUrls(urls: readonly string[]): void {
  const error = newUrlsError(urls);
  if (error !== undefined) throw new CtlExit(ExitCode.error, error);
}

async function runMemberAdd(inv: Invocation): Promise<void> {
  const args = inv.args;
  if (args.length < 1) throw new CtlExit(ExitCode.badArgs, 'member name not provided');
  if (args.length > 1) {
    let text = 'too many arguments';
    for (const s of args) {
      if (s.slice(0, 4).toLowerCase() === 'http') text += `, did you mean --peer-urls=${s}`;
    }
    throw new CtlExit(ExitCode.badArgs, text);
  }
  const name = args[0]!;
  const urls = peerUrlsArg(inv);
  const deadline = commandDeadline(inv);
  const { cfg, display } = await clientConfigFromCmd(inv);
  const client = await mustClient(cfg, inv);
  try {
    checkPeerUrls(urls);
  } catch (err) {
    client.close();
    throw err;
  }
  const request = memberAddRequest(urls.map(textOf), inv.flags.bool('learner'));
  const resp = await callOrExit(client, ClusterService.memberAdd, request, 'nonRepeatable', deadline);
  memberPrinter(display.kind, inv.io.stdout).memberAdd(resp);
  if (display.kind === 'simple') printNewMemberEnv(inv.io.stdout, name, inv.flags.string('peer-urls'), resp);
}

/** The ETCD_* lines etcdctl prints after adding a member (simple output only). */
function printNewMemberEnv(out: Sink, name: string, peerUrls: string, resp: MemberAddResponse): void {
  const newId = resp.member?.ID ?? 0n;
  const conf: string[] = [];
  for (const m of resp.members) {
    const n = m.ID === newId ? name : bytesOf(m.name);
    for (const u of m.peerURLs) conf.push(`${n}=${bytesOf(u)}`);
  }
  out.write('\n');
  out.write(`ETCD_NAME=${goQuote(name)}\n`);
  out.write(`ETCD_INITIAL_CLUSTER=${goQuote(conf.join(','))}\n`);
  out.write(`ETCD_INITIAL_ADVERTISE_PEER_URLS=${goQuote(peerUrls)}\n`);
  out.write('ETCD_INITIAL_CLUSTER_STATE="existing"\n');
}

async function runMemberRemove(inv: Invocation): Promise<void> {
  const id = memberIdArg(inv.args);
  const resp = await callWithId(inv, ClusterService.memberRemove, memberRemoveRequest(id));
  memberPrinter(resp.display.kind, inv.io.stdout).memberRemove(id, resp.resp);
}

/** remove and promote: one member id, one non-repeatable call (etcdctl never retries them). */
async function callWithId<Req, Res>(
  inv: Invocation,
  method: UnaryMethod<Req, Res>,
  request: Req,
): Promise<{ resp: Res; display: Printer }> {
  const deadline = commandDeadline(inv);
  const { cfg, display } = await clientConfigFromCmd(inv);
  const client = await mustClient(cfg, inv);
  const resp = await callOrExit(client, method, request, 'nonRepeatable', deadline);
  return { resp, display };
}

async function runMemberUpdate(inv: Invocation): Promise<void> {
  const id = memberIdArg(inv.args);
  const urls = peerUrlsArg(inv);
  const deadline = commandDeadline(inv);
  const { cfg, display } = await clientConfigFromCmd(inv);
  const client = await mustClient(cfg, inv);
  try {
    checkPeerUrls(urls);
  } catch (err) {
    client.close();
    throw err;
  }
  const request = memberUpdateRequest(id, urls.map(textOf));
  const resp = await callOrExit(client, ClusterService.memberUpdate, request, 'nonRepeatable', deadline);
  memberPrinter(display.kind, inv.io.stdout).memberUpdate(id, resp);
}

async function runMemberPromote(inv: Invocation): Promise<void> {
  const id = memberIdArg(inv.args);
  const resp = await callWithId(inv, ClusterService.memberPromote, memberPromoteRequest(id));
  memberPrinter(resp.display.kind, inv.io.stdout).memberPromote(id, resp.resp);
}

export function memberCommand(): CommandDef {
  return {
    use: 'member <subcommand>',
    short: 'Membership related commands',
    children: [
      {
        use: 'add <memberName> [options]',
        short: 'Adds a member into the cluster',
        flags: [
          {
            name: 'peer-urls',
            kind: 'string',
            default: '',
            usage: 'comma separated peer URLs for the new member.',
          },
          {
            name: 'learner',
            kind: 'bool',
            default: false,
            usage: 'indicates if the new member is raft learner',
          },
        ],
        run: runMemberAdd,
      },
      {
        use: 'remove <memberID>',
        short: 'Removes a member from the cluster',
        run: runMemberRemove,
      },
      {
        use: 'update <memberID> [options]',
        short: 'Updates a member in the cluster',
        flags: [
          {
            name: 'peer-urls',
            kind: 'string',
            default: '',
            usage: 'comma separated peer URLs for the updated member.',
          },
        ],
        run: runMemberUpdate,
      },
      {
        use: 'list',
        short: 'Lists all members in the cluster',
        long: `When --write-out is set to simple, this command prints out comma-separated member lists for each endpoint.
The items in the lists are ID, Status, Name, Peer Addrs, Client Addrs, Is Learner.
`,
        run: runMemberList,
      },
      {
        use: 'promote <memberID>',
        short: 'Promotes a non-voting member in the cluster',
        long: `Promotes a non-voting learner member to a voting one in the cluster.
`,
        run: runMemberPromote,
      },
    ],
  };
}
