// etcdctl's global flags (the root's persistent flags, etcdctl/ctlv3/ctl.go) and clientConfigFromCmd:
// ETCDCTL_* variables, endpoints, keepalive, output format, credentials. TLS and DNS discovery arrive
// with the TLS issue; until then their flags do not exist here (etcdctl's "unknown flag" error).
import { EtcdClient, type Credentials, type KeepAlive } from './client.js';
import type { Invocation } from './command.js';
import { initDisplay } from './display.js';
import { parseEndpoint, type ParsedEndpoint } from './endpoint.js';
import { applyEnvironment, flagToEnv } from './env-flags.js';
import { CtlExit, ExitCode } from './exit.js';
import type { FlagDef } from './flag-set.js';
import type { Printer } from './printer.js';

const second = 1_000_000_000n;

export const globalFlagDefs: readonly FlagDef[] = [
  { name: 'endpoints', kind: 'stringSlice', default: ['127.0.0.1:2379'], usage: 'gRPC endpoints' },
  { name: 'debug', kind: 'bool', default: false, usage: 'enable client-side debug logging' },
  {
    name: 'write-out',
    shorthand: 'w',
    kind: 'string',
    default: 'simple',
    usage: 'set the output format (fields, json, protobuf, simple, table)',
  },
  { name: 'hex', kind: 'bool', default: false, usage: 'print byte strings as hex encoded strings' },
  {
    name: 'dial-timeout',
    kind: 'duration',
    default: 2n * second,
    usage: 'dial timeout for client connections',
  },
  {
    name: 'command-timeout',
    kind: 'duration',
    default: 5n * second,
    usage: 'timeout for short running command (excluding dial timeout)',
  },
  {
    name: 'keepalive-time',
    kind: 'duration',
    default: 2n * second,
    usage: 'keepalive time for client connections',
  },
  {
    name: 'keepalive-timeout',
    kind: 'duration',
    default: 6n * second,
    usage: 'keepalive timeout for client connections',
  },
  {
    name: 'user',
    kind: 'string',
    default: '',
    usage: 'username[:password] for authentication (prompt if password is not supplied)',
  },
  {
    name: 'password',
    kind: 'string',
    default: '',
    usage: "password for authentication (if this option is used, --user option shouldn't include password)",
  },
];

export interface ClientConfig {
  endpoints: ParsedEndpoint[];
  keepalive: KeepAlive;
  creds: Credentials | undefined;
  /** --dial-timeout, read when etcdctl reads it (after ETCDCTL_*). */
  dialTimeoutNs: bigint;
}

/**
 * Dial timeouts below this fail client creation. etcdctl 3.4 dials without blocking, so --dial-timeout
 * only matters when it runs out while grpc.DialContext is still setting up (a few tens of µs): then
 * clientv3.New fails with "context deadline exceeded". 50µs is where that stops happening in practice.
 */
const dialSetupNs = 50_000n;

/** Whether clientv3.New would fail with this dial timeout. */
export function dialTimesOut(dialTimeoutNs: bigint): boolean {
  return dialTimeoutNs > 0n && dialTimeoutNs < dialSetupNs;
}

/** Applies ETCDCTL_* to the command's inherited flags, and --debug's listing of them. */
export function applyEnvFromCmd(inv: Invocation): void {
  const inherited = inv.command.inheritedFlags();
  applyEnvironment(inherited, inv.io);
  if (inv.flags.bool('debug')) {
    for (const f of inherited) inv.io.stderr.write(`${flagToEnv(f.name)}=${f.toString()}\n`);
  }
}

/**
 * authCfgFromCmd: --user "name:password", or --user name with --password, or --user name and a password
 * read from stdin after a "Password: " prompt (etcdctl's speakeasy also turns terminal echo off; cairnctl
 * does not). Authentication happens only when both name and password are non-empty.
 */
export async function credentialsFromCmd(inv: Invocation): Promise<Credentials | undefined> {
  const user = inv.flags.string('user');
  if (user === '') return undefined;
  const password = inv.flags.string('password');
  if (password !== '') return { user, password };
  const colon = user.indexOf(':');
  if (colon >= 0) return { user: user.slice(0, colon), password: user.slice(colon + 1) };
  inv.io.stdout.write('Password: ');
  const { line } = await inv.io.stdin.readLine();
  inv.io.stdout.write('\n');
  return { user, password: line.replace(/\r?\n$/, '') };
}

/** The deadline of clientv3.New's dial (and of its Authenticate): --dial-timeout from now, if positive. */
export function dialDeadline(dialTimeoutNs: bigint): number {
  return dialTimeoutNs > 0n ? Date.now() + Number(dialTimeoutNs / 1_000_000n) : Infinity;
}

/** --keepalive-time / --keepalive-timeout (clientv3's DialKeepAliveTime/Timeout): gRPC pings. */
export function keepaliveFromFlags(inv: Invocation): KeepAlive {
  return {
    timeMs: Number(inv.flags.duration('keepalive-time') / 1_000_000n),
    timeoutMs: Number(inv.flags.duration('keepalive-timeout') / 1_000_000n),
  };
}

/** A new client (clientv3.New): authenticates when credentials are given; returns the failure text. */
export async function newClient(
  endpoints: ParsedEndpoint[],
  creds: Credentials | undefined,
  dialTimeoutNs: bigint,
  inv: Invocation,
): Promise<EtcdClient | string> {
  if (dialTimesOut(dialTimeoutNs)) return 'context deadline exceeded';
  const client = new EtcdClient(endpoints, 'balancer', inv.io, keepaliveFromFlags(inv));
  if (creds === undefined || creds.user === '' || creds.password === '') return client;
  const failure = await client.authenticate(creds, dialDeadline(dialTimeoutNs));
  if (failure === undefined) return client;
  client.close();
  return failure;
}

/**
 * endpointsFromCmd: the --endpoints values, trimmed. (With --insecure-discovery, its default, etcdctl
 * clears the discovery domain, so -d alone changes nothing.)
 */
export function endpointsFromFlags(inv: Invocation): ParsedEndpoint[] {
  return inv.flags.strings('endpoints').map((e) => parseEndpoint(e.trim()));
}

/** clientConfigFromCmd: env, endpoints, security, credentials, then the display (which may exit 4). */
export async function clientConfigFromCmd(inv: Invocation): Promise<{ cfg: ClientConfig; display: Printer }> {
  applyEnvFromCmd(inv);
  const endpoints = endpointsFromFlags(inv);
  const dialTimeoutNs = inv.flags.duration('dial-timeout');
  const creds = await credentialsFromCmd(inv);
  const display = initDisplay(inv.flags, inv.io);
  return { cfg: { endpoints, creds, dialTimeoutNs, keepalive: keepaliveFromFlags(inv) }, display };
}

/** mustClient: clientv3.New, exiting 2 when it fails (no endpoint, dial timeout, authentication). */
export async function mustClient(cfg: ClientConfig, inv: Invocation): Promise<EtcdClient> {
  if (cfg.endpoints.length === 0)
    throw new CtlExit(ExitCode.badConnection, 'etcdclient: no available endpoints');
  for (const ep of cfg.endpoints) {
    if (ep.scheme === 'https' || ep.scheme === 'unixs') {
      throw new CtlExit(ExitCode.badFeature, `cairnctl does not speak TLS, so it cannot use ${ep.raw}`);
    }
  }
  const client = await newClient(cfg.endpoints, cfg.creds, cfg.dialTimeoutNs, inv);
  if (typeof client === 'string') throw new CtlExit(ExitCode.badConnection, client);
  return client;
}

/** commandCtx: a deadline --command-timeout from now, read at the moment etcdctl reads it. */
export function commandDeadline(inv: Invocation): number {
  const ns = inv.flags.duration('command-timeout');
  return Date.now() + Number(ns / 1_000_000n);
}
