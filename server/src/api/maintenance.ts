import type { EtcdServer } from '../etcdserver/server.js';
import type { MaintenanceServer } from '../proto/gen/etcdserverpb/rpc.js';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { HandlerContext } from './unary.js';
import { unary } from './unary.js';

const SERVICE = 'etcdserverpb.Maintenance';

/**
 * The Maintenance RPCs of the single-member server: Status and Alarm. Defragment, Hash, HashKV,
 * Snapshot and MoveLeader arrive with the maintenance issue; until then gRPC answers them UNIMPLEMENTED.
 */
export function maintenanceService(
  ctx: HandlerContext,
  server: EtcdServer,
): Pick<MaintenanceServer, 'status' | 'alarm'> & UntypedServiceImplementation {
  return {
    status: unary(ctx, SERVICE, 'Status', () => server.status()),
    alarm: unary(ctx, SERVICE, 'Alarm', (r) => server.alarm(r)),
  };
}
