#!/usr/bin/env node
import type { Server as HttpServer } from 'node:http';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { startClientServer, stopClientServer } from '../api/grpc-server.js';
import type { ClientServer } from '../api/grpc-server.js';
import { newGrpcMetrics } from '../api/grpc-metrics.js';
import { startMetricsServer } from '../api/http.js';
import { DataDirError } from '../etcdserver/bootstrap.js';
import { ConfigError, parseServerArgs, usage } from '../etcdserver/config.js';
import { EtcdServer, hex } from '../etcdserver/server.js';
import { listenPeers, type PeerListener } from '../etcdserver/peer-listener.js';
import { CAIRN_VERSION, ETCD_VERSION_EMULATED } from '../etcdserver/version.js';
import { newLogger } from '../util/logger.js';

/** Time in-flight requests get to finish on SIGTERM/SIGINT before they are cut. */
const SHUTDOWN_GRACE_MS = 5000;
/** etcd warns about unary requests slower than this. */
const SLOW_REQUEST_MS = 300;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseServerArgs(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`cairn: ${err.message}\n\n${usage()}`);
      return 2;
    }
    throw err;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(
      `cairn Version: ${CAIRN_VERSION}\netcd API Version: ${ETCD_VERSION_EMULATED}\nNode Version: ${process.version}\n`,
    );
    return 0;
  }
  const config = parsed.config;
  const logger = newLogger(config.logLevel).child({ member: config.name });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const fatal = (err: Error): void => {
    logger.error('fatal error, stopping the member', { error: err.message, stack: err.stack });
    process.exit(1);
  };

  let server: EtcdServer;
  try {
    server = await EtcdServer.start(config, logger.child({ component: 'etcdserver' }), registry, fatal);
  } catch (err) {
    if (err instanceof DataDirError) {
      logger.error('cannot start: bad data dir', { error: err.message });
      process.stderr.write(`cairn: ${err.message}\n`);
      return 1;
    }
    throw err;
  }

  const ctx = {
    logger: logger.child({ component: 'grpc' }),
    metrics: newGrpcMetrics(registry),
    onFatal: fatal,
    slowRequestMs: SLOW_REQUEST_MS,
    streams: new Set<() => void>(),
  };
  let grpc: ClientServer;
  const http: HttpServer[] = [];
  const peers: PeerListener[] = [];
  const closeListeners = async (): Promise<void> => {
    await Promise.all(http.map((h) => new Promise((r) => h.close(r))));
    await Promise.all(peers.map((p) => p.close()));
  };
  try {
    for (const u of config.listenPeerUrls) peers.push(await listenPeers(server, u));
    for (const u of config.listenMetricsUrls) http.push((await startMetricsServer(registry, server, u)).http);
  } catch (err) {
    logger.error('cannot listen', { error: (err as Error).message });
    process.stderr.write(`cairn: cannot listen: ${(err as Error).message}\n`);
    await closeListeners();
    await server.stop();
    return 1;
  }
  // Like etcd, client traffic is served only once the member is part of the cluster: it has a leader
  // and its name and client URLs are published. Until then a signal still stops it cleanly.
  const interrupted = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const notReady = await Promise.race([
    server.readyNotify().then(() => undefined),
    interrupted,
    server.removed.then(() => 'removed from the cluster'),
  ]);
  if (notReady !== undefined) {
    logger.info('shutting down before the member was ready', { reason: notReady });
    await closeListeners();
    await server.stop();
    return 0;
  }
  try {
    grpc = await startClientServer(ctx, server, config.listenClientUrls);
  } catch (err) {
    logger.error('cannot listen', { error: (err as Error).message });
    process.stderr.write(`cairn: cannot listen: ${(err as Error).message}\n`);
    await Promise.all(peers.map((p) => p.close()));
    await server.stop();
    return 1;
  }
  logger.info('serving client traffic', {
    grpc: grpc.bound,
    peer: peers.map((p) => p.bound),
    metrics: config.listenMetricsUrls.map(String),
  });
  const endpoints = grpc.bound.join(',');
  process.stdout.write(
    [
      `cairn ${CAIRN_VERSION} is serving the etcd v3 API on ${endpoints} (member ${config.name}, id ${hex(server.identity.memberId)}, data in ${config.dataDir}).`,
      `Try:  ETCDCTL_API=3 etcdctl --endpoints=${endpoints} put greeting hello`,
      `      node dist/server/src/cmd/cairnctl.js --endpoints=${endpoints} get greeting`,
      config.listenMetricsUrls.length > 0
        ? `Metrics and health: ${config.listenMetricsUrls.map((u) => `${u.origin}/metrics`).join(', ')}`
        : '',
      'Stop with Ctrl-C.',
      '',
    ]
      .filter((l) => l !== '')
      .join('\n') + '\n',
  );

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      logger.info('shutting down', { reason: signal });
      void (async () => {
        await stopClientServer(grpc, SHUTDOWN_GRACE_MS);
        await Promise.all(http.map((h) => new Promise((r) => h.close(r))));
        await server.stop();
        await Promise.all(peers.map((p) => p.close()));
        resolve(0);
      })();
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    // A removed member has nothing left to serve: it shuts down cleanly, as etcd does (exit 0).
    void server.removed.then(() => stop('removed from the cluster'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`cairn: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
