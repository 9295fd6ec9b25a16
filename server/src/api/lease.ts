import { status } from '@grpc/grpc-js';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { EtcdServer } from '../etcdserver/server.js';
import type {
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponse,
  LeaseServer,
} from '../proto/gen/etcdserverpb/rpc.js';
import { AssertionError } from '../util/assert.js';
import { toGrpcError } from './errors.js';
import { requestBytes } from './request-size.js';
import { guardStream } from './stream-guard.js';
import type { HandlerContext } from './unary.js';
import { unary } from './unary.js';

const SERVICE = 'etcdserverpb.Lease';

/** The Lease service (etcd v3rpc/lease.go): four unary RPCs and the LeaseKeepAlive stream. */
export function leaseService(ctx: HandlerContext, server: EtcdServer): LeaseServer {
  return {
    leaseGrant: unary(ctx, SERVICE, 'LeaseGrant', (r) => server.leaseGrant(r, requestBytes(r))),
    leaseRevoke: unary(ctx, SERVICE, 'LeaseRevoke', (r) => server.leaseRevoke(r, requestBytes(r))),
    leaseTimeToLive: unary(ctx, SERVICE, 'LeaseTimeToLive', (r) => server.leaseTimeToLive(r)),
    leaseLeases: unary(ctx, SERVICE, 'LeaseLeases', () => server.leaseLeases()),
    leaseKeepAlive: (call) => keepAliveStream(ctx, server, call),
  };
}

/**
 * One LeaseKeepAlive stream: each request renews one lease and gets exactly one response, in order
 * (renewal is synchronous). An unknown or expired lease is answered with TTL 0, never an error; only
 * a server-side failure (the member stopping) ends the stream, with that error's status. A client
 * that goes away ends it quietly; one that does not read its answers is not read from either.
 */
function keepAliveStream(
  ctx: HandlerContext,
  server: EtcdServer,
  call: ServerDuplexStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse>,
): void {
  const labels = { grpc_type: 'bidi_stream', grpc_service: SERVICE, grpc_method: 'LeaseKeepAlive' };
  ctx.metrics.started.inc(labels);
  const started = performance.now();
  let finished = false;
  const finish = (code: status): void => {
    if (finished) return;
    finished = true;
    ctx.metrics.handled.inc({ ...labels, grpc_code: status[code] });
    ctx.metrics.handlingSeconds.observe(labels, (performance.now() - started) / 1000);
  };
  // Renewals are answered in order: a follower forwards each to the leader, so they are chained.
  let chain: Promise<void> = Promise.resolve();
  call.on('data', (req: LeaseKeepAliveRequest) => {
    if (finished) return;
    chain = chain.then(() => renew(req));
  });
  const renew = async (req: LeaseKeepAliveRequest): Promise<void> => {
    if (finished) return;
    let resp: LeaseKeepAliveResponse;
    try {
      resp = await server.leaseRenew(req.ID);
    } catch (err) {
      if (err instanceof AssertionError) {
        ctx.logger.error('invariant broken while renewing a lease', { error: err.message, stack: err.stack });
        ctx.onFatal(err);
      }
      const e = toGrpcError(err);
      finish(e.code ?? status.UNKNOWN);
      call.emit('error', e);
      return;
    }
    // Backpressure: a client that sends renewals without reading the answers stops being read once
    // the stream's send buffer (its highWaterMark, 16 messages) is full, instead of growing it forever.
    if (!call.write(resp)) {
      call.pause();
      call.once('drain', () => call.resume());
    }
  };
  const stop = (): void => {
    if (finished) return;
    finish(status.UNAVAILABLE);
    call.emit('error', { code: status.UNAVAILABLE, details: 'etcdserver: server stopped' });
  };
  const unguard = guardStream(server, call, (err) => {
    if (finished) return;
    finish(err.code ?? status.UNAVAILABLE);
    call.emit('error', err);
  });
  if (unguard === undefined) {
    finish(status.UNAVAILABLE);
    return;
  }
  ctx.streams.add(stop);
  call.on('close', () => {
    ctx.streams.delete(stop);
    unguard();
  });
  call.on('end', () => {
    finish(status.OK);
    call.end();
  });
  call.on('cancelled', () => finish(status.CANCELLED));
  // A stream error (the client reset it) is the end of this stream, not of the member.
  call.on('error', (err: Error) => {
    ctx.logger.debug('lease keepalive stream failed', { error: err.message });
    finish(status.CANCELLED);
  });
}
