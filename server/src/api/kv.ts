import type { EtcdServer } from '../etcdserver/server.js';
import type { KVServer } from '../proto/gen/etcdserverpb/rpc.js';
import { checkDeleteRequest, checkPutRequest, checkRangeRequest, checkTxnRequest } from './kv-checks.js';
import { requestBytes } from './request-size.js';
import type { HandlerContext } from './unary.js';
import { unary } from './unary.js';

const SERVICE = 'etcdserverpb.KV';

/** The KV service: shape checks here (etcd v3rpc/key.go), then the server. */
export function kvService(ctx: HandlerContext, server: EtcdServer): KVServer {
  return {
    range: unary(ctx, SERVICE, 'Range', (r) => {
      checkRangeRequest(r);
      return server.range(r);
    }),
    put: unary(ctx, SERVICE, 'Put', (r) => {
      checkPutRequest(r);
      return server.put(r, requestBytes(r));
    }),
    deleteRange: unary(ctx, SERVICE, 'DeleteRange', (r) => {
      checkDeleteRequest(r);
      return server.deleteRange(r, requestBytes(r));
    }),
    txn: unary(ctx, SERVICE, 'Txn', (r) => {
      checkTxnRequest(r, server.config.maxTxnOps);
      return server.txn(r, requestBytes(r));
    }),
    compact: unary(ctx, SERVICE, 'Compact', (r) => server.compact(r, requestBytes(r))),
  };
}
