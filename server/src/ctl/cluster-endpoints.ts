// The endpoints a per-endpoint command (endpoint health|status|hashkv, defrag) talks to: --endpoints as
// given, or with --cluster every member's client URLs from the member list (etcdctl's
// endpointsFromCluster).
import { ClusterService } from '../proto/gen/etcdserverpb/rpc.js';
import { memberListRequest } from '../proto/messages.js';
import { bytesOf } from './byte-string.js';
import { failureText } from './call.js';
import { CallFailure, EtcdClient } from './client.js';
import type { Invocation } from './command.js';
import { CtlExit, ExitCode } from './exit.js';
import { commandDeadline, dialTimesOut, endpointsFromFlags, keepaliveFromFlags } from './global-flags.js';

/** endpointsFromCluster: --endpoints as given, or every member's client URLs with --cluster. */
export async function endpointsFromCluster(inv: Invocation): Promise<string[]> {
  if (!inv.flags.bool('cluster')) return [...inv.flags.strings('endpoints')];
  const endpoints = endpointsFromFlags(inv);
  if (endpoints.length === 0) throw new CtlExit(ExitCode.error, 'etcdclient: no available endpoints');
  if (dialTimesOut(inv.flags.duration('dial-timeout')))
    throw new CtlExit(ExitCode.error, 'context deadline exceeded');
  const client = new EtcdClient(endpoints, 'balancer', inv.io, keepaliveFromFlags(inv));
  const deadline = commandDeadline(inv);
  try {
    const resp = await client.call(ClusterService.memberList, memberListRequest(), 'repeatable', deadline);
    return resp.members.flatMap((m) => m.clientURLs.map(bytesOf));
  } catch (err) {
    if (!(err instanceof CallFailure)) throw err;
    throw new CtlExit(
      ExitCode.error,
      `failed to fetch endpoints from etcd cluster member list: ${failureText(err)}`,
    );
  } finally {
    client.close();
  }
}
