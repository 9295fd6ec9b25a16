import { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2';
import type { EtcdServer } from './server.js';

export interface PeerListener {
  readonly bound: string;
  close(): Promise<void>;
}

/**
 * Serves --listen-peer-urls: one cleartext HTTP/2 server per URL carrying the Raft transport and the
 * peer API (EtcdServer.handlePeerStream). "localhost" binds the IPv4 loopback, like the client URLs.
 */
export async function listenPeers(server: EtcdServer, url: URL): Promise<PeerListener> {
  const limits = server.transport.limits;
  const http: Http2Server = createServer({ settings: { initialWindowSize: limits.streamWindowBytes } });
  const sessions = new Set<ServerHttp2Session>();
  http.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
    s.on('error', () => undefined);
    s.setLocalWindowSize(limits.sessionWindowBytes);
  });
  http.on('stream', (stream, headers) => server.handlePeerStream(stream, headers));
  const host = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, '');
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(Number(url.port), host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const addr = http.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : Number(url.port);
  return {
    bound: `${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        http.close(() => resolve());
      }),
  };
}
