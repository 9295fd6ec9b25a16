import { listenPeerServer } from '../transport/peer-server.js';
import type { EtcdServer } from './server.js';

export interface PeerListener {
  readonly bound: string;
  close(): Promise<void>;
}

/**
 * Serves one of --listen-peer-urls: the transport's h2c server, with every stream going through
 * EtcdServer.handlePeerStream (Raft traffic and the peer API). "localhost" binds the IPv4 loopback,
 * like the client URLs.
 */
export async function listenPeers(server: EtcdServer, url: URL): Promise<PeerListener> {
  const host = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, '');
  const peer = await listenPeerServer(server.transport, {
    host,
    port: Number(url.port),
    handleStream: (stream, headers) => server.handlePeerStream(stream, headers),
  });
  return { bound: new URL(peer.url).host, close: () => peer.close() };
}
