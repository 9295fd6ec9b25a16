import {
  createServer,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Transport } from './transport.js';

export interface PeerServer {
  server: Http2Server;
  /** http://host:port as peers should dial it. */
  url: string;
  /** Destroys open sessions and closes the listener. */
  close(): Promise<void>;
}

/**
 * A cleartext HTTP/2 server serving only `transport`'s endpoints, listening on host:port (port 0 picks
 * a free one). For tests, benchmarks and as the shape the member's --listen-peer-urls server takes.
 */
export async function listenPeerServer(
  transport: Transport,
  opts: {
    host?: string;
    port?: number;
    /** Serves every stream instead of the transport alone (a member adds its peer API this way). */
    handleStream?: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;
  } = {},
): Promise<PeerServer> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer({ settings: { initialWindowSize: transport.limits.streamWindowBytes } });
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    // A peer's broken connection must not take the member down; the streams on it report their own errors.
    s.on('error', () => undefined);
    s.once('close', () => sessions.delete(s));
    s.setLocalWindowSize(transport.limits.sessionWindowBytes);
  });
  if (opts.handleStream === undefined) transport.attach(server);
  else server.on('stream', opts.handleStream);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}
