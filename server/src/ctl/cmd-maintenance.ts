// etcdctl 3.4's maintenance commands (etcdctl/ctlv3/command/{defrag,alarm,ep}_command.go):
// - `defrag [--cluster]`: per endpoint, in order, Maintenance.Defragment over a direct connection;
//   "Finished defragmenting etcd member[ep]" on stdout, failures on stderr, exit 1 if any failed.
// - `alarm list` / `alarm disarm`: one Alarm call (disarm with no member: list, then deactivate each, as
//   clientv3's AlarmDisarm does); each alarm printed as Go's %+v of AlarmMember.
// - `endpoint hashkv [--rev N] [--cluster]`: per endpoint, Maintenance.HashKV.
// Output formats are kept here rather than in the Printer interface: they are these commands' only.
import {
  AlarmRequest_AlarmAction as AlarmAction,
  AlarmResponse,
  AlarmType,
  MaintenanceService,
} from '../proto/gen/etcdserverpb/rpc.js';
import type { ResponseHeader, HashKVResponse } from '../proto/gen/etcdserverpb/rpc.js';
import { bytesOf, bytesFromBuffer } from './byte-string.js';
import { CallFailure, EtcdClient } from './client.js';
import { failureText } from './call.js';
import type { CommandDef, Invocation } from './command.js';
import { parseEndpoint } from './endpoint.js';
import { CtlExit, ExitCode } from './exit.js';
import { clientConfigFromCmd, commandDeadline, keepaliveFromFlags, mustClient } from './global-flags.js';
import { JsonObject, jsonString } from './go-json.js';
import { goQuote } from './go-quote.js';
import { headerJson } from './printer-json.js';
import type { Printer } from './printer.js';
import { unsupported } from './printer.js';
import { renderTable } from './table-writer.js';
import { endpointsFromCluster } from './cluster-endpoints.js';
import { alarmMemberText } from './alarm-text.js';
import { runSafeDefrag, SAFE_ONLY_FLAGS } from './cmd-defrag-safe.js';
import { FlagError, type FlagSet } from './flag-set.js';
import { QUOTA_BACKEND_BYTES_DEFAULT } from './defrag-rule-vars.js';
import { textOf } from './byte-string.js';

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

async function eachEndpoint<T>(
  inv: Invocation,
  fn: (client: EtcdClient, deadline: number) => Promise<T>,
  onError: (ep: string, text: string) => void,
): Promise<{ ep: string; res: T }[]> {
  const { cfg } = await clientConfigFromCmd(inv);
  const main = await mustClient(cfg, inv);
  const out: { ep: string; res: T }[] = [];
  try {
    for (const ep of await endpointsFromCluster(inv)) {
      const client = new EtcdClient([parseEndpoint(ep)], 'passthrough', inv.io, keepaliveFromFlags(inv));
      client.token = main.token;
      try {
        out.push({ ep, res: await fn(client, commandDeadline(inv)) });
      } catch (err) {
        if (!(err instanceof CallFailure)) throw err;
        onError(ep, failureText(err));
      } finally {
        client.close();
      }
    }
  } finally {
    main.close();
  }
  return out;
}

async function runDefrag(inv: Invocation): Promise<void> {
  if (inv.flags.bool('safe')) return runSafeDefrag(inv);
  let failures = 0;
  const done = await eachEndpoint(
    inv,
    (client, deadline) => client.call(MaintenanceService.defragment, {}, 'nonRepeatable', deadline),
    (ep, text) => {
      failures++;
      inv.io.stderr.write(`Failed to defragment etcd member[${ep}] (${text})\n`);
    },
  );
  // etcdctl prints each success as it happens; failures and successes interleave in endpoint order.
  for (const { ep } of done) inv.io.stdout.write(`Finished defragmenting etcd member[${ep}]\n`);
  if (failures > 0) throw new CtlExit(ExitCode.error, undefined);
}

function printAlarms(inv: Invocation, display: Printer, r: AlarmResponse): void {
  const out = inv.io.stdout;
  switch (display.kind) {
    case 'simple':
      for (const m of r.alarms) out.write(`${alarmMemberText(m)}\n`);
      return;
    case 'json': {
      const alarms = r.alarms.map((m) =>
        new JsonObject().int('memberID', u64(m.memberID)).int('alarm', BigInt(m.alarm)).toString(),
      );
      out.write(
        `${new JsonObject().obj('header', headerJson(r.header)).list('alarms', alarms).toString()}\n`,
      );
      return;
    }
    case 'fields':
      fieldsHeader(inv, r.header);
      for (const m of r.alarms) {
        out.write(`"MemberID" : ${u64(m.memberID)}\n`);
        out.write(`"AlarmType" : ${AlarmType[m.alarm] ?? String(m.alarm)}\n`);
      }
      return;
    case 'protobuf':
      out.write(bytesFromBuffer(Buffer.from(AlarmResponse.encode(r).finish())));
      return;
    case 'table':
      unsupported('table');
  }
}

function fieldsHeader(inv: Invocation, h: ResponseHeader | undefined): void {
  const out = inv.io.stdout;
  out.write(`"ClusterID" : ${u64(h?.clusterId ?? 0n)}\n`);
  out.write(`"MemberID" : ${u64(h?.memberId ?? 0n)}\n`);
  out.write(`"Revision" : ${h?.revision ?? 0n}\n`);
  out.write(`"RaftTerm" : ${u64(h?.raftTerm ?? 0n)}\n`);
}

async function runAlarm(inv: Invocation, action: 'list' | 'disarm'): Promise<void> {
  if (inv.args.length !== 0) {
    throw new CtlExit(ExitCode.badArgs, `alarm ${action} command accepts no arguments`);
  }
  const { cfg, display } = await clientConfigFromCmd(inv);
  const client = await mustClient(cfg, inv);
  const deadline = commandDeadline(inv);
  const list = { action: AlarmAction.GET, memberID: 0n, alarm: AlarmType.NONE };
  let resp: AlarmResponse;
  try {
    const listed = await client.call(MaintenanceService.alarm, list, 'repeatable', deadline);
    if (action === 'list') resp = listed;
    else {
      // clientv3 AlarmDisarm with no member: list, then deactivate each; the result has no header.
      resp = { header: undefined, alarms: [] };
      for (const m of listed.alarms) {
        const req = { action: AlarmAction.DEACTIVATE, memberID: m.memberID, alarm: m.alarm };
        const r = await client.call(MaintenanceService.alarm, req, 'nonRepeatable', deadline);
        resp.alarms.push(...r.alarms);
      }
    }
  } catch (err) {
    if (err instanceof CallFailure) throw new CtlExit(ExitCode.error, failureText(err));
    throw err;
  } finally {
    client.close();
  }
  printAlarms(inv, display, resp);
}

async function runHashKV(inv: Invocation): Promise<void> {
  const rev = inv.flags.int64('rev');
  const { display } = await clientConfigFromCmd(inv);
  let failed = false;
  const list = await eachEndpoint(
    inv,
    (client, deadline) => client.call(MaintenanceService.hashKv, { revision: rev }, 'repeatable', deadline),
    (ep, text) => {
      failed = true;
      inv.io.stderr.write(`Failed to get the hash of endpoint ${ep} (${text})\n`);
    },
  );
  printHashKV(inv, display, list);
  if (failed) throw new CtlExit(ExitCode.error, undefined);
}

function printHashKV(inv: Invocation, display: Printer, list: { ep: string; res: HashKVResponse }[]): void {
  const out = inv.io.stdout;
  switch (display.kind) {
    case 'simple':
      for (const { ep, res } of list) out.write(`${ep}, ${res.hash}\n`);
      return;
    case 'table':
      out.write(
        bytesOf(
          renderTable(
            ['ENDPOINT', 'HASH'],
            list.map(({ ep, res }) => [textOf(ep), String(res.hash)]),
          ),
        ),
      );
      return;
    case 'json': {
      // etcd 3.4's HashKVResponse has no hash_revision, so its JSON has none either.
      const items = list.map(({ ep, res }) =>
        new JsonObject()
          .raw('Endpoint', jsonString(ep))
          .raw(
            'HashKV',
            new JsonObject()
              .obj('header', headerJson(res.header))
              .int('hash', BigInt(res.hash))
              .int('compact_revision', res.compactRevision)
              .toString(),
          )
          .toString(),
      );
      out.write(`[${items.join(',')}]\n`);
      return;
    }
    case 'fields':
      for (const { ep, res } of list) {
        fieldsHeader(inv, res.header);
        out.write(`"Endpoint" : ${goQuote(ep)}\n`);
        out.write(`"Hash" : ${res.hash}\n`);
        out.write('\n');
      }
      return;
    case 'protobuf':
      unsupported('protobuf');
  }
}

export function hashKVCommand(): CommandDef {
  return {
    use: 'hashkv',
    short: 'Prints the KV history hash for each endpoint in --endpoints',
    flags: [
      { name: 'rev', kind: 'int64', default: 0n, usage: 'maximum revision to hash (default: all revisions)' },
    ],
    run: runHashKV,
  };
}

/** `defrag`'s flags beyond etcdctl 3.4's belong to --safe: without it they are a bad command line. */
function checkDefragFlags(flags: FlagSet): void {
  if (flags.bool('safe')) return;
  const given = SAFE_ONLY_FLAGS.find((f) => flags.changed(f));
  if (given !== undefined) throw new FlagError(`--${given} can only be used with --safe`);
}

export function defragCommand(): CommandDef {
  // Cairn's --safe flags are hidden, as etcdctl 3.5's --count-only of get: the usage text stays etcdctl
  // 3.4's byte for byte (server/src/ctl/README.md documents them).
  return {
    use: 'defrag',
    short: 'Defragments the storage of the etcd members with given endpoints',
    flags: [
      {
        name: 'cluster',
        kind: 'bool',
        default: false,
        usage: 'use all endpoints from the cluster member list',
      },
      {
        name: 'safe',
        kind: 'bool',
        default: false,
        usage: 'one member at a time behind a health gate, followers first, the leader last',
        hidden: true,
      },
      {
        name: 'defrag-rule',
        kind: 'string',
        default: '',
        usage: "defragment a member only if this is true for it (e.g. 'dbSizeFree > 100*1024*1024')",
        hidden: true,
      },
      {
        name: 'max-lag',
        kind: 'int64',
        default: 1000n,
        usage: 'most applied entries a member may trail the leader by for the cluster to count as healthy',
        hidden: true,
      },
      {
        name: 'member-timeout',
        kind: 'duration',
        default: 300_000_000_000n,
        usage: "deadline of each member's Defragment",
        hidden: true,
      },
      {
        name: 'continue-on-error',
        kind: 'bool',
        default: false,
        usage: 'go on with the next member after a failed one',
        hidden: true,
      },
      {
        name: 'disarm-nospace',
        kind: 'bool',
        default: false,
        usage: 'afterwards, disarm NOSPACE alarms if every member is below its quota',
        hidden: true,
      },
      {
        name: 'quota-backend-bytes',
        kind: 'int64',
        default: BigInt(QUOTA_BACKEND_BYTES_DEFAULT),
        usage: "the members' quota where Status reports none (dbQuota of the rule)",
        hidden: true,
      },
      {
        name: 'result-file',
        kind: 'string',
        default: '',
        usage: "also write the run's result JSON here (e.g. /dev/termination-log)",
        hidden: true,
      },
    ],
    checkFlags: checkDefragFlags,
    run: runDefrag,
  };
}

export function alarmCommand(): CommandDef {
  return {
    use: 'alarm <subcommand>',
    short: 'Alarm related commands',
    children: [
      { use: 'disarm', short: 'Disarms all alarms', run: (inv) => runAlarm(inv, 'disarm') },
      { use: 'list', short: 'Lists all alarms', run: (inv) => runAlarm(inv, 'list') },
    ],
  };
}
