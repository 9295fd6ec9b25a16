import type { EtcdServer } from '../etcdserver/server.js';
import type { ClusterServer } from '../proto/gen/etcdserverpb/rpc.js';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { HandlerContext } from './unary.js';
import { unary } from './unary.js';

const SERVICE = 'etcdserverpb.Cluster';

/**
 * MemberList of the single-member server. Membership changes (add, remove, promote, update) arrive
 * with Raft; until then gRPC answers them UNIMPLEMENTED. Cluster headers carry no revision, as etcd's.
 */
export function clusterService(
  ctx: HandlerContext,
  server: EtcdServer,
): Pick<ClusterServer, 'memberList'> & UntypedServiceImplementation {
  return {
    memberList: unary(ctx, SERVICE, 'MemberList', () => ({
      header: { ...server.header(0), revision: 0n },
      members: server.members(),
    })),
  };
}
