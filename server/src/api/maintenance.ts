import type { EtcdServer } from '../etcdserver/server.js';
import type { MaintenanceServer } from '../proto/gen/etcdserverpb/rpc.js';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { snapshotHandler } from './snapshot.js';
import type { HandlerContext } from './unary.js';
import { unary } from './unary.js';

const SERVICE = 'etcdserverpb.Maintenance';

/** The Maintenance RPCs. Downgrade is not offered (gRPC answers it UNIMPLEMENTED). */
export function maintenanceService(
  ctx: HandlerContext,
  server: EtcdServer,
): Pick<
  MaintenanceServer,
  'status' | 'alarm' | 'hash' | 'hashKv' | 'defragment' | 'snapshot' | 'moveLeader'
> &
  UntypedServiceImplementation {
  return {
    status: unary(ctx, SERVICE, 'Status', () => server.status()),
    alarm: unary(ctx, SERVICE, 'Alarm', (r) => server.alarm(r)),
    hash: unary(ctx, SERVICE, 'Hash', () => server.hash()),
    hashKv: unary(ctx, SERVICE, 'HashKV', (r) => server.hashKV(r)),
    defragment: unary(ctx, SERVICE, 'Defragment', () => server.defragment()),
    snapshot: snapshotHandler(ctx, server),
    moveLeader: unary(ctx, SERVICE, 'MoveLeader', (r) => server.membership.moveLeader(r)),
  };
}
