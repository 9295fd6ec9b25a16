// `endpoint health|status [--cluster]` (etcdctl/ctlv3/command/ep_command.go, 3.4).
// - health: per endpoint, concurrently, a fresh client does Get("health") within --command-timeout; the
//   endpoint is healthy if that succeeds or is denied permission (the request went through consensus).
//   etcdctl 3.4 does not look at alarms (3.5 added an AlarmList). Results print in completion order;
//   any unhealthy endpoint ends with "Error: unhealthy cluster" (exit 1).
// - status: per endpoint, in order, Maintenance.Status over a direct connection; failures are reported
//   on stderr, the rest printed, and the exit code is 1 if any failed.
// With --cluster the endpoints are the client URLs of the member list instead of --endpoints.
import { KVService, MaintenanceService } from '../proto/gen/etcdserverpb/rpc.js';
import { bufferOf } from './byte-string.js';
import { CallFailure, EtcdClient, type Credentials } from './client.js';
import { failureText } from './call.js';
import type { CommandDef, Invocation } from './command.js';
import { initDisplay } from './display.js';
import { parseEndpoint } from './endpoint.js';
import { CtlExit, ExitCode } from './exit.js';
import { applyEnvironment } from './env-flags.js';
import {
  clientConfigFromCmd,
  keepaliveFromFlags,
  commandDeadline,
  credentialsFromCmd,
  dialDeadline,
  mustClient,
  newClient,
} from './global-flags.js';
import { formatGoDuration } from '../util/go-duration.js';
import { rangeRequest, statusRequest } from '../proto/messages.js';
import type { EpHealth, EpStatus } from './printer.js';
import { hashKVCommand } from './cmd-maintenance.js';
import { endpointsFromCluster } from './cluster-endpoints.js';

async function checkHealth(inv: Invocation, ep: string, creds: Credentials | undefined): Promise<EpHealth> {
  const client = await newClient([parseEndpoint(ep)], creds, inv.flags.duration('dial-timeout'), inv);
  if (typeof client === 'string') return { ep, health: false, took: '', error: client };
  const started = inv.io.monotonicNs();
  const deadline = commandDeadline(inv);
  let error = '';
  try {
    await client.call(KVService.range, rangeRequest({ key: bufferOf('health') }), 'repeatable', deadline);
  } catch (err) {
    if (!(err instanceof CallFailure)) throw err;
    const text = failureText(err);
    if (text !== 'etcdserver: permission denied') error = text;
  } finally {
    client.close();
  }
  const took = formatGoDuration(inv.io.monotonicNs() - started);
  return { ep, health: error === '', took, error };
}

async function runHealth(inv: Invocation): Promise<void> {
  applyEnvironment(inv.command.inheritedFlags(), inv.io); // without --debug's listing, as etcdctl
  const display = initDisplay(inv.flags, inv.io);
  const creds = await credentialsFromCmd(inv);
  const endpoints = await endpointsFromCluster(inv);
  for (const ep of endpoints) {
    const scheme = parseEndpoint(ep).scheme;
    if (scheme === 'https' || scheme === 'unixs') {
      throw new CtlExit(ExitCode.badFeature, `TLS endpoints (${ep}) are not supported by cairnctl yet`);
    }
  }
  const results: EpHealth[] = [];
  await Promise.all(endpoints.map(async (ep) => results.push(await checkHealth(inv, ep, creds))));
  display.endpointHealth(results);
  if (results.some((h) => h.error !== '')) throw new CtlExit(ExitCode.error, 'unhealthy cluster');
}

async function runStatus(inv: Invocation): Promise<void> {
  const { cfg, display } = await clientConfigFromCmd(inv);
  // etcdctl creates a client for all endpoints; Status then dials each endpoint directly, and each of
  // those dials authenticates again through the first client.
  const main = await mustClient(cfg, inv);
  const results: EpStatus[] = [];
  let failed = false;
  for (const ep of await endpointsFromCluster(inv)) {
    const deadline = commandDeadline(inv);
    const client = new EtcdClient([parseEndpoint(ep)], 'passthrough', inv.io, keepaliveFromFlags(inv));
    try {
      if (cfg.creds !== undefined && cfg.creds.user !== '' && cfg.creds.password !== '') {
        const failure = await main.authenticate(cfg.creds, dialDeadline(cfg.dialTimeoutNs));
        if (failure !== undefined) {
          failed = true;
          inv.io.stderr.write(
            `Failed to get the status of endpoint ${ep} (failed to dial endpoint ${ep} with maintenance client: ${failure})\n`,
          );
          continue;
        }
        client.token = main.token;
      }
      const resp = await client.call(MaintenanceService.status, statusRequest(), 'repeatable', deadline);
      results.push({ ep, resp });
    } catch (err) {
      if (!(err instanceof CallFailure)) throw err;
      failed = true;
      inv.io.stderr.write(`Failed to get the status of endpoint ${ep} (${failureText(err)})\n`);
    } finally {
      client.close();
    }
  }
  main.close();
  display.endpointStatus(results);
  if (failed) throw new CtlExit(ExitCode.error, undefined);
}

export function endpointCommand(): CommandDef {
  return {
    use: 'endpoint <subcommand>',
    short: 'Endpoint related commands',
    persistentFlags: [
      {
        name: 'cluster',
        kind: 'bool',
        default: false,
        usage: 'use all endpoints from the cluster member list',
      },
    ],
    children: [
      {
        use: 'health',
        short: 'Checks the healthiness of endpoints specified in `--endpoints` flag',
        run: runHealth,
      },
      {
        use: 'status',
        short: 'Prints out the status of endpoints specified in `--endpoints` flag',
        long: `When --write-out is set to simple, this command prints out comma-separated status lists for each endpoint.
The items in the lists are endpoint, ID, version, db size, is leader, is learner, raft term, raft index, raft applied index, errors.
`,
        run: runStatus,
      },
      hashKVCommand(),
    ],
  };
}
