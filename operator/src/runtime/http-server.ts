import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';

export interface OperatorHttpServerOptions {
  /** `host:port`, `:port` for every interface, or `[v6]:port` (controller-runtime's `--metrics-bind-address`). */
  address?: string;
  registry: Registry;
  /** /readyz: true once the informers have synced (and whatever else readiness needs). */
  ready: () => boolean;
  logger: Logger;
}

export interface OperatorHttpServer {
  /** The address actually bound (the port is real even when 0 was asked for). */
  readonly address: AddressInfo;
  close(): Promise<void>;
}

export const DEFAULT_HTTP_ADDRESS = ':8080';

/** Splits `host:port` / `:port` / `[::1]:port`; an empty host means every interface. */
export function parseListenAddress(address: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(address);
  const port = Number(m?.[3]);
  if (m === null || !Number.isInteger(port) || port > 65535) {
    throw new Error(
      `http server: address must be host:port, :port or [v6]:port, got ${JSON.stringify(address)}`,
    );
  }
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}

/**
 * The operator's one HTTP listener: `/metrics` (the injected registry, for Prometheus), `/healthz` (the
 * process answers: the kubelet's liveness probe) and `/readyz` (503 until `ready()` — the caches are
 * filled — so a Service or a rollout does not count a replica that cannot reconcile yet).
 */
export async function startOperatorHttpServer(opts: OperatorHttpServerOptions): Promise<OperatorHttpServer> {
  const { host, port } = parseListenAddress(opts.address ?? DEFAULT_HTTP_ADDRESS);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(text),
        (err: unknown) => {
          opts.logger.error('metrics collection failed', { error: String(err) });
          res.writeHead(500).end('metrics collection failed\n');
        },
      );
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      let ready = false;
      try {
        ready = opts.ready();
      } catch (err) {
        opts.logger.warn('readiness check failed', { error: String(err) });
      }
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ok\n' : 'not ready\n');
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => opts.logger.error('http server error', { error: err.message }));
  const bound = server.address() as AddressInfo;
  opts.logger.info('serving metrics and health', { address: `${bound.address}:${bound.port}` });
  return {
    address: bound,
    close: () =>
      new Promise<void>((resolve) => {
        // A Prometheus scraper keeps its connection alive; without this close() would wait for it.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
