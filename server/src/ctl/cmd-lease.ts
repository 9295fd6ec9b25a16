// `lease grant|revoke|timetolive|list|keep-alive` (etcdctl/ctlv3/command/lease_command.go, 3.4), with
// clientv3's lease client behind them (clientv3/lease.go): grant and revoke run under --command-timeout;
// timetolive, list and keep-alive use a context without a deadline and exit 2 on failure.
import { LeaseService } from '../proto/gen/etcdserverpb/rpc.js';
import type { LeaseKeepAliveRequest, LeaseKeepAliveResponse } from '../proto/gen/etcdserverpb/rpc.js';
import { failureText } from './call.js';
import { CallFailure, type EtcdClient, type RetryPolicy, type UnaryMethod } from './client.js';
import type { CommandDef, Invocation } from './command.js';
import { CtlExit, ExitCode } from './exit.js';
import { clientConfigFromCmd, commandDeadline, mustClient } from './global-flags.js';
import { GoNumError, parseGoInt } from './go-strconv.js';
import { leaseIdHex, leasePrinter, type LeasePrinter } from './printer-lease.js';
import { clientErrorText, GrpcCode, RpcError } from './rpc-error.js';

/** clientv3's retryConnWait: how often keep-alive requests are considered, and the stream reopen delay. */
const RETRY_CONN_WAIT_MS = 500;
const GRPC_INTERNAL: number = 13;
const CANCELED: number = GrpcCode.canceled;

/** leaseFromArgs: the id in hex (strconv.ParseInt(arg, 16, 64)); exits 128 on a bad one. */
function leaseFromArgs(arg: string): bigint {
  try {
    return parseGoInt(arg, 16);
  } catch (err) {
    if (!(err instanceof GoNumError)) throw err;
    throw new CtlExit(ExitCode.badArgs, `bad lease ID arg (${err.message}), expecting ID in Hex`);
  }
}

async function setup(
  inv: Invocation,
): Promise<{ client: EtcdClient; display: LeasePrinter; simple: boolean }> {
  const { cfg, display } = await clientConfigFromCmd(inv);
  const client = await mustClient(cfg, inv);
  return { client, display: leasePrinter(display.kind, inv.io.stdout), simple: display.kind === 'simple' };
}

/** A call whose failure exits with `code` and the client's error text wrapped by `wrap`. */
async function call<Req, Res>(
  client: EtcdClient,
  method: UnaryMethod<Req, Res>,
  req: Req,
  policy: RetryPolicy,
  deadline: number,
  code: number,
  wrap: (text: string) => string,
): Promise<Res> {
  try {
    return await client.call(method, req, policy, deadline);
  } catch (err) {
    if (err instanceof CallFailure) throw new CtlExit(code, wrap(failureText(err)));
    throw err;
  } finally {
    client.close();
  }
}

async function runGrant(inv: Invocation): Promise<void> {
  if (inv.args.length !== 1) throw new CtlExit(ExitCode.badArgs, 'lease grant command needs TTL argument');
  let ttl: bigint;
  try {
    ttl = parseGoInt(inv.args[0]!, 10);
  } catch (err) {
    if (!(err instanceof GoNumError)) throw err;
    throw new CtlExit(ExitCode.badArgs, `bad TTL (${err.message})`);
  }
  const deadline = commandDeadline(inv);
  const { client, display } = await setup(inv);
  const resp = await call(
    client,
    LeaseService.leaseGrant,
    { TTL: ttl, ID: 0n },
    'repeatable',
    deadline,
    ExitCode.error,
    (t) => `failed to grant lease (${t})`,
  );
  display.grant(resp);
}

async function runRevoke(inv: Invocation): Promise<void> {
  if (inv.args.length !== 1) throw new CtlExit(ExitCode.badArgs, 'lease revoke command needs 1 argument');
  const id = leaseFromArgs(inv.args[0]!);
  const deadline = commandDeadline(inv);
  const { client, display } = await setup(inv);
  const resp = await call(
    client,
    LeaseService.leaseRevoke,
    { ID: id },
    'repeatable',
    deadline,
    ExitCode.error,
    (t) => `failed to revoke lease (${t})`,
  );
  display.revoke(id, resp);
}

async function runTimeToLive(inv: Invocation): Promise<void> {
  if (inv.args.length !== 1)
    throw new CtlExit(ExitCode.badArgs, 'lease timetolive command needs lease ID as argument');
  const keys = inv.flags.bool('keys');
  const { client, display } = await setup(inv);
  const id = leaseFromArgs(inv.args[0]!);
  const resp = await call(
    client,
    LeaseService.leaseTimeToLive,
    { ID: id, keys },
    'repeatable',
    Infinity,
    ExitCode.badConnection,
    (t) => t,
  );
  display.timeToLive(resp, keys);
}

async function runList(inv: Invocation): Promise<void> {
  const { client, display } = await setup(inv);
  const resp = await call(
    client,
    LeaseService.leaseLeases,
    {},
    'repeatable',
    Infinity,
    ExitCode.badConnection,
    (t) => t,
  );
  display.leases(resp);
}

type KeepAliveStream = Awaited<ReturnType<EtcdClient['openStream']>> & AsyncIterable<LeaseKeepAliveResponse>;

/** A stream failure as clientv3 reports it: the status, through toErr. */
function streamError(err: unknown): { text: string; halt: boolean } {
  const e = err as { code?: unknown; details?: unknown };
  if (typeof e.code !== 'number')
    return { text: err instanceof Error ? err.message : 'unknown error', halt: true };
  const code: number = e.code;
  const rpc = new RpcError(code, typeof e.details === 'string' ? e.details : '');
  // isHaltErr: everything but Unavailable and Internal ends the retry loop.
  return { text: clientErrorText(rpc, false), halt: code !== GrpcCode.unavailable && code !== GRPC_INTERNAL };
}

/** One request on a fresh stream and its one response (clientv3 keepAliveOnce). */
async function keepAliveOnce(client: EtcdClient, id: bigint): Promise<LeaseKeepAliveResponse> {
  const stream = (await client.openStream(LeaseService.leaseKeepAlive, false)) as KeepAliveStream;
  try {
    const req: LeaseKeepAliveRequest = { ID: id };
    stream.write(req);
    for await (const resp of stream) return resp;
    throw Object.assign(new Error('stream closed'), { code: GrpcCode.unavailable, details: 'stream closed' });
  } finally {
    stream.cancel();
  }
}

/**
 * keep-alive --once: KeepAliveOnce retries on Unavailable/Internal; a response with TTL <= 0 is
 * ErrLeaseNotFound. Failures exit 2 (ExitBadConnection).
 */
async function runKeepAliveOnce(client: EtcdClient, display: LeasePrinter, id: bigint): Promise<void> {
  try {
    for (;;) {
      let resp: LeaseKeepAliveResponse;
      try {
        resp = await keepAliveOnce(client, id);
      } catch (err) {
        const e = streamError(err);
        if (e.halt) throw new CtlExit(ExitCode.badConnection, e.text);
        continue;
      }
      if (resp.TTL <= 0n) throw new CtlExit(ExitCode.badConnection, 'etcdserver: requested lease not found');
      display.keepAlive(resp);
      return;
    }
  } finally {
    client.close();
  }
}

/**
 * keep-alive: clientv3's KeepAlive loop for one lease. A request goes out at once and then whenever a
 * third of the last TTL has passed (checked every 500 ms); each response is printed. It ends when a
 * response says the lease is gone (TTL <= 0) or no response came within the TTL (at first within
 * dial-timeout + 1 s), which is clientv3 closing the channel; a broken stream is reopened after 500 ms.
 */
async function runKeepAlive(
  inv: Invocation,
  client: EtcdClient,
  display: LeasePrinter,
  id: bigint,
): Promise<void> {
  const dialTimeoutMs = Number(inv.flags.duration('dial-timeout') / 1_000_000n);
  let firstTimeoutMs = dialTimeoutMs + 1000;
  if (firstTimeoutMs === 1000) firstTimeoutMs = 5000;
  let deadline = Date.now() + firstTimeoutMs;
  let nextKeepAlive = Date.now();
  try {
    await new Promise<void>((resolve, reject) => {
      let stream: KeepAliveStream | undefined;
      let done = false;
      const timers = new Set<NodeJS.Timeout>();
      const later = (fn: () => void, ms: number): void => {
        const t = setTimeout(() => {
          timers.delete(t);
          fn();
        }, ms);
        timers.add(t);
      };
      const finish = (err?: unknown): void => {
        if (done) return;
        done = true;
        for (const t of timers) clearTimeout(t);
        stream?.cancel();
        if (err === undefined) resolve();
        else reject(err instanceof Error ? err : new Error('keep-alive failed'));
      };
      // clientv3's sendKeepAliveLoop: a request whenever nextKeepAlive has passed (it only moves when an
      // answer comes, so an unanswered request is repeated every 500 ms).
      const sendIfDue = (): void => {
        if (stream !== undefined && nextKeepAlive <= Date.now()) {
          const req: LeaseKeepAliveRequest = { ID: id };
          stream.write(req);
        }
      };
      // clientv3's deadlineLoop: no answer within the deadline closes the keep-alive, stream or not.
      const tick = (): void => {
        if (done) return;
        if (deadline < Date.now()) {
          finish();
          return;
        }
        sendIfDue();
        later(tick, RETRY_CONN_WAIT_MS);
      };
      const open = (): void => {
        if (done) return;
        client.openStream(LeaseService.leaseKeepAlive, true).then(
          (s) => {
            if (done) {
              s.cancel();
              return;
            }
            const ks = s as KeepAliveStream;
            stream = ks;
            ks.on('data', (resp: LeaseKeepAliveResponse) => {
              if (resp.ID !== id) return;
              if (resp.TTL <= 0n) {
                finish();
                return;
              }
              const ttlMs = Number(resp.TTL) * 1000;
              nextKeepAlive = Date.now() + ttlMs / 3;
              deadline = Date.now() + ttlMs;
              display.keepAlive(resp);
            });
            ks.on('error', (err: unknown) => {
              if (stream !== ks || done) return;
              stream = undefined;
              const e = streamError(err);
              if (e.halt && (err as { code?: unknown }).code !== CANCELED) {
                finish(new CtlExit(ExitCode.badConnection, e.text));
                return;
              }
              later(open, RETRY_CONN_WAIT_MS);
            });
            ks.on('end', () => {
              if (stream !== ks || done) return;
              stream = undefined;
              later(open, RETRY_CONN_WAIT_MS);
            });
            sendIfDue();
          },
          (err: unknown) => finish(err),
        );
      };
      later(tick, RETRY_CONN_WAIT_MS);
      open();
    });
  } finally {
    client.close();
  }
}

async function runLeaseKeepAlive(inv: Invocation): Promise<void> {
  if (inv.args.length !== 1)
    throw new CtlExit(ExitCode.badArgs, 'lease keep-alive command needs lease ID as argument');
  const id = leaseFromArgs(inv.args[0]!);
  const { client, display, simple } = await setup(inv);
  if (inv.flags.bool('once')) {
    await runKeepAliveOnce(client, display, id);
    return;
  }
  await runKeepAlive(inv, client, display, id);
  if (simple) inv.io.stdout.write(`lease ${leaseIdHex(id)} expired or revoked.\n`);
}

export function leaseCommand(): CommandDef {
  return {
    use: 'lease <subcommand>',
    short: 'Lease related commands',
    children: [
      { use: 'grant <ttl>', short: 'Creates leases', run: runGrant },
      { use: 'revoke <leaseID>', short: 'Revokes leases', run: runRevoke },
      {
        use: 'timetolive <leaseID> [options]',
        short: 'Get lease information',
        flags: [{ name: 'keys', kind: 'bool', default: false, usage: 'Get keys attached to this lease' }],
        run: runTimeToLive,
      },
      { use: 'list', short: 'List all active leases', run: runList },
      {
        use: 'keep-alive [options] <leaseID>',
        short: 'Keeps leases alive (renew)',
        flags: [
          {
            name: 'once',
            kind: 'bool',
            default: false,
            usage: 'Resets the keep-alive time to its original value and exits immediately',
          },
        ],
        run: runLeaseKeepAlive,
      },
    ],
  };
}
