import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { EtcdServer } from '../etcdserver/server.js';
import { bindHost } from './grpc-server.js';

/**
 * The metrics listener (etcd's --listen-metrics-urls): GET /metrics in Prometheus text format, and
 * GET /health answering {"health":"true","reason":""} (etcd's shape) with 200, or 503 when the member
 * cannot serve a read.
 */
/**
 * Test failpoint (only with CAIRN_FAILPOINTS=1 in the environment): PUT "on" cuts this member off
 * from its peers — every Raft message it would send or receive is dropped — and "off" heals it. The
 * cluster tests use it to partition a member without network namespaces.
 */
const FAILPOINT_ISOLATE = '/debug/failpoints/isolate';

function failpointsEnabled(): boolean {
  return process.env['CAIRN_FAILPOINTS'] === '1';
}

function serveIsolateFailpoint(req: IncomingMessage, res: ServerResponse, server: EtcdServer): void {
  if (req.method === 'GET') {
    res.writeHead(200).end(server.isolated ? 'on' : 'off');
    return;
  }
  if (req.method !== 'PUT') {
    res.writeHead(405, { allow: 'GET, PUT' }).end();
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => {
    if (body.length < 16) body += c;
  });
  req.on('end', () => {
    const v = body.trim();
    if (v !== 'on' && v !== 'off') {
      res.writeHead(400).end('body must be "on" or "off"\n');
      return;
    }
    server.setIsolated(v === 'on');
    res.writeHead(204).end();
  });
}

export async function startMetricsServer(
  registry: Registry,
  server: EtcdServer,
  url: URL,
): Promise<{ http: Server; bound: string }> {
  const http = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === FAILPOINT_ISOLATE && failpointsEnabled()) {
      serveIsolateFailpoint(req, res, server);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    if (path === '/health' || path === '/readyz' || path === '/livez') {
      let health = { health: 'true', reason: '' };
      try {
        server.status();
        // etcd's /health: a member without a leader cannot serve a linearizable read.
        if (server.leader === 0n) health = { health: 'false', reason: 'RAFT NO LEADER' };
      } catch (err) {
        health = { health: 'false', reason: (err as Error).message };
      }
      res
        .writeHead(health.health === 'true' ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify(health));
      return;
    }
    if (path === '/version') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ etcdserver: server.status().version, cairn: server.version }));
      return;
    }
    res.writeHead(404).end('404 page not found\n');
  });
  const host = bindHost(url.hostname);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(Number(url.port), host, () => resolve());
  });
  const addr = http.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : Number(url.port);
  return { http, bound: `${host}:${port}` };
}
