import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { EtcdServer } from '../etcdserver/server.js';
import { GRPC_OVERHEAD_BYTES } from '../etcdserver/config.js';
import {
  ClusterService,
  KVService,
  LeaseService,
  MaintenanceService,
  WatchService,
} from '../proto/gen/etcdserverpb/rpc.js';
import { watchService } from './watch.js';
import { clusterService } from './cluster.js';
import { kvService } from './kv.js';
import { leaseService } from './lease.js';
import { maintenanceService } from './maintenance.js';
import { withRequestSizes } from './request-size.js';
import { requiresLeader } from './stream-guard.js';
import type { HandlerContext } from './unary.js';

/** Keepalive settings of etcd's gRPC server (embed/config.go): ping every 2 h, 20 s to answer. */
const KEEPALIVE_TIME_MS = 2 * 60 * 60 * 1000;
const KEEPALIVE_TIMEOUT_MS = 20 * 1000;

export interface ClientServer {
  readonly grpc: Server;
  readonly health: HealthImplementation;
  /** host:port actually bound, per listen URL (port 0 resolves to the chosen port). */
  readonly bound: string[];
  /** The open long-lived streams' stoppers (HandlerContext.streams). */
  readonly streams: Set<() => void>;
}

/** Builds the client-facing gRPC server (KV, Maintenance, Cluster, grpc.health.v1) and binds it. */
export async function startClientServer(
  handlerCtx: HandlerContext,
  server: EtcdServer,
  listen: URL[],
): Promise<ClientServer> {
  const ctx: HandlerContext = {
    ...handlerCtx,
    guard: (method, request, md) => server.checkRequest(method, request, requiresLeader(md)),
  };
  const grpc = new Server({
    'grpc.max_receive_message_length': server.config.maxRequestBytes + GRPC_OVERHEAD_BYTES,
    'grpc.max_send_message_length': -1,
    'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
  });
  grpc.addService(withRequestSizes(KVService), kvService(ctx, server));
  grpc.addService(MaintenanceService, maintenanceService(ctx, server));
  grpc.addService(ClusterService, clusterService(ctx, server));
  grpc.addService(withRequestSizes(LeaseService), leaseService(ctx, server));
  grpc.addService(WatchService, watchService(ctx, server));
  const health = new HealthImplementation({ '': 'SERVING' });
  health.addToServer(grpc);
  const bound: string[] = [];
  for (const u of listen) {
    const host = bindHost(u.hostname);
    const port = await new Promise<number>((resolve, reject) => {
      grpc.bindAsync(`${host}:${u.port}`, ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      );
    });
    bound.push(`${host.includes(':') ? `[${host}]` : host}:${port}`);
  }
  return { grpc, health, streams: ctx.streams, bound };
}

/** "localhost" binds the IPv4 loopback (as etcd's default does in practice); brackets are stripped. */
export function bindHost(hostname: string): string {
  if (hostname === 'localhost') return '127.0.0.1';
  return hostname.replace(/^\[|\]$/g, '');
}

/** Stops accepting calls, lets running ones finish for up to `graceMs`, then cuts the rest. */
export async function stopClientServer(s: ClientServer, graceMs: number): Promise<void> {
  s.health.setStatus('', 'NOT_SERVING');
  for (const stop of [...s.streams]) stop();
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      s.grpc.forceShutdown();
      resolve();
    }, graceMs);
    s.grpc.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
