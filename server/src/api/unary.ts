import { status } from '@grpc/grpc-js';
import type { Metadata, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from 'winston';
import { AssertionError } from '../util/assert.js';
import { toGrpcError } from './errors.js';
import type { GrpcMetrics } from './grpc-metrics.js';

export interface HandlerContext {
  readonly logger: Logger;
  readonly metrics: GrpcMetrics;
  /** A broken invariant: the member must stop rather than serve from a state it cannot trust. */
  readonly onFatal: (err: Error) => void;
  /** Requests slower than this are logged as warnings (etcd: 300 ms for unary requests). */
  readonly slowRequestMs: number;
  /**
   * Stoppers of the open long-lived streams (Watch, LeaseKeepAlive). Shutdown runs them so that those
   * streams end with "etcdserver: server stopped" (clients fail over) instead of holding the stop for
   * the whole grace period.
   */
  readonly streams: Set<() => void>;
  /**
   * Checks run before every unary RPC (etcd's unary interceptor: learners, `hasleader`); throws the
   * error to answer with.
   */
  readonly guard?: (method: string, request: unknown, metadata: Metadata) => void;
}

export type UnaryHandler<Req, Res> = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void;

/**
 * Wraps a unary handler with what every RPC needs: metrics, error translation through the one error
 * table, slow-request warnings, and crash-on-assertion. A client's bad input can only ever produce an
 * error response.
 */
export function unary<Req, Res>(
  ctx: HandlerContext,
  service: string,
  method: string,
  fn: (request: Req) => Res | Promise<Res>,
): UnaryHandler<Req, Res> {
  const labels = { grpc_type: 'unary', grpc_service: service, grpc_method: method };
  return (call, callback) => {
    ctx.metrics.started.inc(labels);
    const started = performance.now();
    const finish = (code: status): void => {
      const seconds = (performance.now() - started) / 1000;
      ctx.metrics.handled.inc({ ...labels, grpc_code: status[code] });
      ctx.metrics.handlingSeconds.observe(labels, seconds);
      if (seconds * 1000 > ctx.slowRequestMs) {
        ctx.logger.warn('apply request took too long', {
          method: `${service}/${method}`,
          tookMs: Math.round(seconds * 1000),
        });
      }
    };
    const fail = (err: unknown): void => {
      if (err instanceof AssertionError) {
        ctx.logger.error('invariant broken while serving a request', {
          method,
          error: err.message,
          stack: err.stack,
        });
        ctx.onFatal(err);
      }
      const e = toGrpcError(err);
      finish(e.code ?? status.UNKNOWN);
      callback(e);
    };
    try {
      ctx.guard?.(method, call.request, call.metadata);
      Promise.resolve(fn(call.request)).then((res) => {
        finish(status.OK);
        callback(null, res);
      }, fail);
    } catch (err) {
      fail(err);
    }
  };
}
