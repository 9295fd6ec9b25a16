import {
  connect,
  constants,
  type ClientHttp2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { EtcdError, type EtcdErrorCode } from '../errors.js';

/**
 * The member-to-member HTTP API beside the Raft transport, on the same --listen-peer-urls (etcd's
 * peer handler: /members, /members/promote, /leases):
 *
 *   GET  /members                 → {clusterId, members}: how a member joining with
 *                                   --initial-cluster-state=existing learns the cluster
 *   POST /members/promote/<id>    → MemberPromote, forwarded by a follower to the leader
 *   POST /leases/renew            body {id}        → {ttl}: keep-alives, forwarded to the leader
 *                                 (lease ids are int64 in decimal; member ids are hex)
 *   POST /leases/timetolive       body {id, keys}  → the leader's view of a lease
 *
 * Bodies are JSON; ids are hex strings. A failure is {error: <EtcdErrorCode>, message} with status 500,
 * re-raised as the same EtcdError on the calling member.
 */
export const PEER_API_PREFIXES = ['/members', '/leases'];

export type PeerApiHandler = (method: string, path: string, body: unknown) => Promise<unknown>;

/** Serves one peer API stream; `handler` answers or throws (EtcdError → its code, else 500 internal). */
export function servePeerApi(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  handler: PeerApiHandler,
): void {
  const method = String(headers[':method'] ?? 'GET');
  const path = String(headers[':path'] ?? '/');
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (c: Buffer) => {
    size += c.length;
    if (size > PEER_API_BODY_MAX) stream.close(constants.NGHTTP2_REFUSED_STREAM);
    else chunks.push(c);
  });
  stream.on('error', () => undefined);
  stream.on('end', () => {
    let body: unknown = undefined;
    try {
      if (size > 0) body = JSON.parse(Buffer.concat(chunks).toString());
    } catch {
      reply(stream, 400, { error: 'bad request', message: 'body is not JSON' });
      return;
    }
    handler(method, path, body).then(
      (result) => reply(stream, 200, result ?? {}),
      (err: unknown) => {
        if (err instanceof EtcdError) reply(stream, 500, { error: err.code, message: err.message });
        else reply(stream, 500, { error: 'internal', message: (err as Error).message });
      },
    );
  });
}

function reply(stream: ServerHttp2Stream, status: number, body: unknown): void {
  if (stream.destroyed || stream.closed) return;
  try {
    stream.respond({ ':status': status, 'content-type': 'application/json' });
    stream.end(JSON.stringify(body));
  } catch {
    /* the peer went away */
  }
}

/** Calls a peer API endpoint on `baseUrl` (a peer URL); bounded by timeoutMs. */
export function callPeerApi(
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  body: unknown,
  timeoutMs: number,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const session = sessionTo(baseUrl);
    let settled = false;
    const finish = (err: Error | undefined, value?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.off('error', onSessionError);
      // A failed call drops the session (closed on a later turn: destroying a session from inside its
      // own callbacks can spin Node 20); a good one stays for the next call (keep-alives are frequent).
      if (err !== undefined) {
        forget(baseUrl, session);
        setImmediate(() => session.destroy());
        reject(err);
      } else {
        resolve(value);
      }
    };
    const timer = setTimeout(() => finish(new Error(`peer ${baseUrl}${path}: timed out`)), timeoutMs);
    const onSessionError = (err: Error): void => finish(new Error(`peer ${baseUrl}${path}: ${err.message}`));
    session.on('error', onSessionError);
    const req = session.request({ ':method': method, ':path': path, 'content-type': 'application/json' });
    req.on('error', (err: Error) => finish(new Error(`peer ${baseUrl}${path}: ${err.message}`)));
    let status = 0;
    const chunks: Buffer[] = [];
    req.on('response', (h) => {
      status = Number(h[':status']);
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      } catch {
        finish(new Error(`peer ${baseUrl}${path}: answered ${status} with a body that is not JSON`));
        return;
      }
      if (status === 200) {
        finish(undefined, parsed);
        return;
      }
      const e = parsed as { error?: string; message?: string };
      if (status === 500 && typeof e.error === 'string' && e.error.startsWith('Err')) {
        finish(new EtcdError(e.error as EtcdErrorCode, e.message));
        return;
      }
      finish(new Error(`peer ${baseUrl}${path}: ${status} ${e.message ?? ''}`.trim()));
    });
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const PEER_API_BODY_MAX = 64 * 1024;

/** One HTTP/2 session per peer URL, reused by calls until it fails or closes. */
const sessions = new Map<string, ClientHttp2Session>();

function sessionTo(baseUrl: string): ClientHttp2Session {
  const cached = sessions.get(baseUrl);
  if (cached !== undefined && !cached.closed && !cached.destroyed) return cached;
  const session = connect(baseUrl);
  session.on('error', () => forget(baseUrl, session));
  session.once('close', () => forget(baseUrl, session));
  // An idle cached session must not keep the process alive.
  session.unref();
  sessions.set(baseUrl, session);
  return session;
}

function forget(baseUrl: string, session: ClientHttp2Session): void {
  if (sessions.get(baseUrl) === session) sessions.delete(baseUrl);
}

/** Closes every cached session (the member stops). */
export function closePeerApiSessions(): void {
  const all = [...sessions.values()];
  sessions.clear();
  setImmediate(() => {
    for (const s of all) s.destroy();
  });
}
