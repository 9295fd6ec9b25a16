// The gRPC client side of cairnctl, modelled on etcd's clientv3 3.4 as etcdctl uses it:
// - calls wait for a connection until their deadline (clientv3's FailFast(false)) instead of failing
//   when no endpoint is up yet, and pick any ready endpoint (its round-robin balancer);
// - a unary retry loop (clientv3/retry_interceptor.go): up to 100 attempts, each failure logged as a
//   WARN line; reads (repeatable) retry on Unavailable, writes only when nothing was sent;
// - a 2 MiB send limit checked before sending, with grpc-go's error text.
// Timing and error texts follow grpc-go 1.26 where etcdctl prints them.
import * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { bytesOf } from './byte-string.js';
import { retryWarnLine } from './client-log.js';
import type { ParsedEndpoint } from './endpoint.js';
import { goQuote } from './go-quote.js';
import type { CtlIO } from './io.js';
import { AuthService } from '../proto/gen/etcdserverpb/rpc.js';
import { clientErrorText, GrpcCode, RpcError } from './rpc-error.js';

/** clientv3's defaultMaxCallSendMsgSize. */
const maxCallSendMsgBytes = 2 * 1024 * 1024;
/** clientv3's defaultUnaryMaxRetries. */
const unaryAttemptsMax = 100;
/** clientv3's defaultBackoffWaitBetween and defaultBackoffJitterFraction. */
const retryBackoffMs = 25;
const retryJitterFraction = 0.1;
/** Bound on one connectivity wait, so an infinite deadline (txn) still re-checks periodically. */
const connectivityPollMs = 60_000;
/** Bound on the dial probe that explains a refused connection (endpoint status only). */
const dialProbeTimeoutMs = 1_000;

export interface UnaryMethod<Req, Res> {
  path: string;
  requestSerialize(value: Req): Buffer;
  responseDeserialize(value: Buffer): Res;
}

/** Reads retry on Unavailable; writes retry only when the request provably was not sent. */
export type RetryPolicy = 'repeatable' | 'nonRepeatable';

/** A failed call: the status, and whether the call's deadline had passed (for clientErrorText). */
export class CallFailure extends Error {
  constructor(
    readonly rpc: RpcError,
    readonly deadlinePassed: boolean,
  ) {
    super(rpc.message);
  }
}

/** How the client addresses its endpoints, which shows in its log lines' "target". */
export type TargetKind = 'balancer' | 'passthrough';

/** gRPC keepalive pings (etcdctl --keepalive-time / --keepalive-timeout); 0 = no pings. */
export interface KeepAlive {
  readonly timeMs: number;
  readonly timeoutMs: number;
}

function channelOptions(keepalive: KeepAlive | undefined): grpc.ChannelOptions {
  return {
    'grpc.max_receive_message_length': -1,
    'grpc.max_send_message_length': -1,
    'grpc.enable_retries': 0,
    'grpc.use_local_subchannel_pool': 1,
    ...(keepalive !== undefined && keepalive.timeMs > 0
      ? { 'grpc.keepalive_time_ms': keepalive.timeMs, 'grpc.keepalive_timeout_ms': keepalive.timeoutMs }
      : {}),
  };
}

/** One endpoint's channel. An endpoint Go cannot dial (unknown scheme) has no channel and never connects. */
class EndpointConn {
  readonly channel: grpc.Channel | undefined;
  readonly client: grpc.Client | undefined;
  /** Went to TRANSIENT_FAILURE before ever being READY (grpc-go then reports the balancer error). */
  sawFailure: boolean;

  constructor(
    readonly endpoint: ParsedEndpoint,
    keepalive: KeepAlive | undefined,
  ) {
    let channel: grpc.Channel | undefined;
    let client: grpc.Client | undefined;
    if (endpoint.grpcTarget !== undefined) {
      try {
        channel = new grpc.Channel(
          endpoint.grpcTarget,
          grpc.credentials.createInsecure(),
          channelOptions(keepalive),
        );
        client = new grpc.Client(endpoint.grpcTarget, grpc.credentials.createInsecure(), {
          channelOverride: channel,
        });
      } catch {
        channel = undefined;
        client = undefined;
      }
    }
    this.channel = channel;
    this.client = client;
    this.sawFailure = channel === undefined;
    // Like grpc-go's non-blocking dial, start connecting now rather than at the first call.
    channel?.getConnectivityState(true);
  }

  state(): grpc.connectivityState {
    if (this.channel === undefined) return grpc.connectivityState.TRANSIENT_FAILURE;
    const s = this.channel.getConnectivityState(true);
    if (s === grpc.connectivityState.TRANSIENT_FAILURE) this.sawFailure = true;
    return s;
  }

  close(): void {
    this.client?.close();
    this.channel?.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A Go net.Dial error for an endpoint that refused us, e.g. "dial tcp 127.0.0.1:1: connect: connection refused". */
async function dialError(ep: ParsedEndpoint): Promise<string> {
  const target = ep.grpcTarget;
  if (target === undefined) return 'dial: unknown network ';
  const unixPath = target.startsWith('unix:') ? target.slice('unix:'.length) : undefined;
  let host = target;
  let port = 0;
  if (unixPath === undefined) {
    const m = /^(.*):(\d+)$/.exec(target);
    host = (m?.[1] ?? target).replace(/^\[(.*)\]$/, '$1');
    port = Number(m?.[2] ?? 0);
  }
  const network = unixPath === undefined ? 'tcp' : 'unix';
  return new Promise((resolve) => {
    const sock = unixPath === undefined ? connect({ host, port }) : connect({ path: unixPath });
    const done = (text: string): void => {
      sock.destroy();
      resolve(text);
    };
    sock.setTimeout(dialProbeTimeoutMs, () => done(`dial ${network} ${target}: i/o timeout`));
    sock.once('connect', () => done(`dial ${network} ${target}: connection reset by peer`));
    sock.once('error', (err: NodeJS.ErrnoException & { address?: string; port?: number }) => {
      const where =
        unixPath ??
        (err.address !== undefined
          ? `${err.address.includes(':') ? `[${err.address}]` : err.address}:${err.port ?? port}`
          : target);
      const reasons: Record<string, string> = {
        ECONNREFUSED: 'connection refused',
        EHOSTUNREACH: 'no route to host',
        ENETUNREACH: 'network is unreachable',
        ETIMEDOUT: 'connection timed out',
        ENOENT: 'no such file or directory',
        EACCES: 'permission denied',
      };
      if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN')
        done(`dial tcp: lookup ${host}: no such host`);
      else done(`dial ${network} ${where}: connect: ${reasons[err.code ?? ''] ?? err.message}`);
    });
  });
}

export interface Credentials {
  user: string;
  password: string;
}

export class EtcdClient {
  /** grpc-go's target, as printed in the retry log lines. */
  readonly target: string;
  private readonly conns: EndpointConn[];
  private next = 0;
  /** Auth token sent as "token" metadata (clientv3's per-RPC credentials). */
  token: string | undefined;

  constructor(
    endpoints: readonly ParsedEndpoint[],
    private readonly kind: TargetKind,
    private readonly io: CtlIO,
    keepalive?: KeepAlive,
  ) {
    if (endpoints.length === 0) throw new Error('at least one endpoint is required');
    this.conns = endpoints.map((ep) => new EndpointConn(ep, keepalive));
    if (kind === 'passthrough') {
      this.target = `passthrough:///${endpoints[0]!.raw}`;
    } else {
      this.target = `endpoint://client-${randomUUID()}/${endpoints[0]!.host}`;
    }
  }

  close(): void {
    for (const c of this.conns) c.close();
  }

  /**
   * clientv3's getToken: Authenticate, then send the token with every call. An "authentication is not
   * enabled" answer means no token; any other failure is returned as the text clientv3.New fails with.
   * `deadline` is --dial-timeout from now (Infinity without one).
   */
  async authenticate(creds: Credentials, deadline: number): Promise<string | undefined> {
    try {
      const resp = await this.call(
        AuthService.authenticate,
        { name: creds.user, password: creds.password },
        'nonRepeatable',
        deadline,
      );
      this.token = resp.token;
      return undefined;
    } catch (err) {
      if (!(err instanceof CallFailure)) throw err;
      if (err.rpc.desc === 'etcdserver: authentication is not enabled') return undefined;
      return clientErrorText(err.rpc, err.deadlinePassed);
    }
  }

  /**
   * One unary RPC with clientv3's retry loop. `deadline` is a Date.now() instant (Infinity for none).
   * Throws CallFailure.
   */
  async call<Req, Res>(
    method: UnaryMethod<Req, Res>,
    request: Req,
    policy: RetryPolicy,
    deadline: number,
  ): Promise<Res> {
    let lastErr: RpcError | undefined;
    for (let attempt = 0; attempt < unaryAttemptsMax; attempt++) {
      if (attempt > 0) {
        const quorum = Math.floor(this.conns.length / 2) + 1;
        const wait =
          attempt % quorum === 0
            ? retryBackoffMs * (1 + retryJitterFraction * (this.io.random() * 2 - 1))
            : 0;
        if (wait > 0) {
          if (Date.now() + wait >= deadline) {
            await sleep(Math.max(0, deadline - Date.now()));
            throw new CallFailure(new RpcError(GrpcCode.deadlineExceeded, 'context deadline exceeded'), true);
          }
          await sleep(wait);
        }
      }
      try {
        return await this.invoke(method, request, deadline);
      } catch (err) {
        if (!(err instanceof RpcError)) throw err;
        lastErr = err;
      }
      this.io.stderr.write(retryWarnLine(this.io.wallClock().date, this.target, attempt, lastErr.message));
      const deadlinePassed = Date.now() >= deadline;
      if (lastErr.code === GrpcCode.deadlineExceeded || lastErr.code === GrpcCode.canceled) {
        if (deadlinePassed) throw new CallFailure(lastErr, true);
        continue;
      }
      if (!isSafeRetry(lastErr, policy)) throw new CallFailure(lastErr, deadlinePassed);
    }
    throw new CallFailure(lastErr!, Date.now() >= deadline);
  }

  private async invoke<Req, Res>(
    method: UnaryMethod<Req, Res>,
    request: Req,
    deadline: number,
  ): Promise<Res> {
    const payload = method.requestSerialize(request);
    if (payload.length > maxCallSendMsgBytes) {
      throw new RpcError(
        GrpcCode.resourceExhausted,
        `trying to send message larger than max (${payload.length} vs. ${maxCallSendMsgBytes})`,
      );
    }
    const conn = await this.pickReady(deadline);
    const client = conn.client!;
    return new Promise<Res>((resolve, reject) => {
      const metadata = new grpc.Metadata({ waitForReady: true });
      if (this.token !== undefined) metadata.set('token', this.token);
      client.makeUnaryRequest(
        method.path,
        (b: Buffer) => b,
        (b: Buffer) => method.responseDeserialize(b),
        payload,
        metadata,
        { deadline },
        (err: grpc.ServiceError | null, res?: Res) => {
          if (err === null && res !== undefined) {
            resolve(res);
            return;
          }
          const code: number = err?.code ?? GrpcCode.unknown;
          if (code === GrpcCode.deadlineExceeded && Date.now() >= deadline) {
            reject(new RpcError(code, 'context deadline exceeded'));
          } else {
            reject(new RpcError(code, bytesOf(err?.details ?? 'unknown error')));
          }
        },
      );
    });
  }

  /**
   * Opens a bidirectional stream (Watch, LeaseKeepAlive) on a ready endpoint, waiting for one as long as it
   * takes (clientv3's streams have no deadline). Like clientv3.WithRequireLeader, `requireLeader` sends the
   * "hasleader" metadata so the server ends the stream when it loses its leader. Nothing is retried here:
   * stream errors go to the caller, which decides whether to reopen.
   */
  async openStream<Req, Res>(
    method: UnaryMethod<Req, Res>,
    requireLeader: boolean,
  ): Promise<grpc.ClientDuplexStream<Req, Res>> {
    const conn = await this.pickReady(Infinity);
    const metadata = new grpc.Metadata({ waitForReady: true });
    if (this.token !== undefined) metadata.set('token', this.token);
    if (requireLeader) metadata.set('hasleader', 'true');
    return conn.client!.makeBidiStreamRequest(
      method.path,
      (req: Req) => method.requestSerialize(req),
      (b: Buffer) => method.responseDeserialize(b),
      metadata,
      {},
    );
  }

  /** Waits (until the deadline) for any endpoint to be READY, starting with the next in turn. */
  private async pickReady(deadline: number): Promise<EndpointConn> {
    for (;;) {
      const n = this.conns.length;
      for (let k = 0; k < n; k++) {
        const conn = this.conns[(this.next + k) % n]!;
        if (conn.state() === grpc.connectivityState.READY) {
          this.next = (this.next + k + 1) % n;
          return conn;
        }
      }
      const now = Date.now();
      if (now >= deadline) throw await this.noConnectionError();
      const until = Math.min(deadline, now + connectivityPollMs);
      await new Promise<void>((resolve) => {
        let settled = false;
        const timer = setTimeout(finish, until - now);
        function finish(): void {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve();
        }
        for (const c of this.conns) {
          if (c.channel !== undefined) c.channel.watchConnectivityState(c.state(), until, finish);
        }
      });
    }
  }

  /** grpc-go's error when the deadline passes with no connection to pick. */
  private async noConnectionError(): Promise<RpcError> {
    const failed = this.conns.every((c) => c.sawFailure);
    if (!failed) return new RpcError(GrpcCode.deadlineExceeded, 'context deadline exceeded');
    if (this.kind === 'balancer') {
      return new RpcError(
        GrpcCode.deadlineExceeded,
        'latest balancer error: all SubConns are in TransientFailure',
      );
    }
    const why = await dialError(this.conns[0]!.endpoint);
    return new RpcError(
      GrpcCode.deadlineExceeded,
      `latest balancer error: connection error: desc = ${goQuote(bytesOf(`transport: Error while dialing ${why}`))}`,
    );
  }
}

/** clientv3's isSafeRetry (the context-error case is handled by the caller). */
function isSafeRetry(err: RpcError, policy: RetryPolicy): boolean {
  if (policy === 'repeatable') {
    // A known etcd error other than Unavailable is final (e.g. compacted); only Unavailable is retried.
    return err.code === GrpcCode.unavailable;
  }
  if (err.code !== GrpcCode.unavailable) return false;
  return err.desc === 'there is no address available' || err.desc === 'there is no connection available';
}
