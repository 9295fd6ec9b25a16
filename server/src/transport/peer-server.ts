import { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2';
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
  opts: { host?: string; port?: number } = {},
): Promise<PeerServer> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer({ settings: { initialWindowSize: transport.limits.streamWindowBytes } });
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
    s.setLocalWindowSize(transport.limits.sessionWindowBytes);
  });
  transport.attach(server);
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
