import type { EtcdServer } from '../etcdserver/server.js';
import type { ClusterServer } from '../proto/gen/etcdserverpb/rpc.js';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { HandlerContext } from './unary.js';
import { unary } from './unary.js';

const SERVICE = 'etcdserverpb.Cluster';

/**
 * The Cluster service: membership changes go through the log as conf changes (EtcdServer). MemberList
 * is linearizable when the request says so (etcd 3.5+; etcdctl 3.5+ asks by default) and answers from
 * the member's applied view otherwise (etcd 3.4 clients), so it still works on a member without leader.
 */
export function clusterService(
  ctx: HandlerContext,
  server: EtcdServer,
): Pick<ClusterServer, 'memberList' | 'memberAdd' | 'memberRemove' | 'memberUpdate' | 'memberPromote'> &
  UntypedServiceImplementation {
  return {
    memberAdd: unary(ctx, SERVICE, 'MemberAdd', (r) => server.membership.memberAdd(r)),
    memberRemove: unary(ctx, SERVICE, 'MemberRemove', (r) => server.membership.memberRemove(r)),
    memberUpdate: unary(ctx, SERVICE, 'MemberUpdate', (r) => server.membership.memberUpdate(r)),
    memberPromote: unary(ctx, SERVICE, 'MemberPromote', (r) => server.membership.memberPromote(r)),
    memberList: unary(ctx, SERVICE, 'MemberList', (r) => server.membership.memberList(r.linearizable)),
  };
}
