#!/usr/bin/env node
// cairn-operator: runs KVCluster resources as cairn clusters, KVBackup / KVBackupSchedule resources as
// backups of them, and KVRestore resources as restores into new or existing clusters
// (operator/README.md). One replica leads (a Lease in --leader-election-namespace) and reconciles; the
// others wait to take over. SIGTERM stops the controllers, releases the lease so a standby takes over at
// once, and exits.
//
// CAIRN_OPERATOR_FAILPOINTS=afterMemberAdd,afterMemberRemove makes the process die (exit 1) right after
// that Raft call, before the Kubernetes call that follows it — the crash the next leader must repair.
import { CoordinationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { ClientNodeKubeOps } from '../controllers/kvcluster/kube-ops.js';
import { kvBackupController } from '../controllers/kvbackup/controller.js';
import { ClientNodeBackupKubeOps } from '../controllers/kvbackup/kube-ops.js';
import { KVBackupReconciler } from '../controllers/kvbackup/reconciler.js';
import { kvBackupScheduleController } from '../controllers/kvbackupschedule/controller.js';
import { KVBackupScheduleReconciler } from '../controllers/kvbackupschedule/reconciler.js';
import { kvClusterController } from '../controllers/kvcluster/controller.js';
import { kvRestoreController } from '../controllers/kvrestore/controller.js';
import { ClientNodeRestoreKubeOps } from '../controllers/kvrestore/kube-ops.js';
import { KVRestoreReconciler } from '../controllers/kvrestore/reconciler.js';
import { KVClusterReconciler, type Failpoint } from '../controllers/kvcluster/reconciler.js';
import { Etcd3ClusterClient } from '../kvclient/cluster-client.js';
import { EventRecorder, KubernetesEventSink } from '../runtime/events.js';
import { startOperatorHttpServer } from '../runtime/http-server.js';
import { LeaderElector } from '../runtime/leader-election.js';
import { KubernetesLeaseStore } from '../runtime/lease-store.js';
import { componentLogger, errorMessage, isLogLevel, newOperatorLogger } from '../runtime/logger.js';
import { newOperatorMetrics } from '../runtime/metrics.js';

const HELP = `cairn-operator: runs KVCluster resources (cairn.dev/v1alpha1) as cairn clusters, their backups and restores.

Flags:
  --kubeconfig PATH                   kubeconfig (default: in-cluster config, else $KUBECONFIG / ~/.kube/config)
  --cluster-domain DOMAIN             the cluster's DNS domain (default cluster.local)
  --metrics-bind-address ADDR         /metrics, /healthz, /readyz (default :8080)
  --leader-elect BOOL                 elect a leader among replicas (default true)
  --leader-election-namespace NS      the Lease's namespace (default: the pod's namespace, else default)
  --leader-election-id NAME           the Lease's name (default cairn-operator)
  --workers N                         clusters reconciled in parallel (default 2)
  --log-level LEVEL                   error, warn, info or debug (default info)
`;

const IN_CLUSTER_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

function podNamespace(): string {
  try {
    return readFileSync(IN_CLUSTER_NAMESPACE_FILE, 'utf8').trim();
  } catch {
    return process.env['POD_NAMESPACE'] ?? 'default';
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: 'string' },
      'cluster-domain': { type: 'string', default: 'cluster.local' },
      'metrics-bind-address': { type: 'string', default: ':8080' },
      'leader-elect': { type: 'string', default: 'true' },
      'leader-election-namespace': { type: 'string' },
      'leader-election-id': { type: 'string', default: 'cairn-operator' },
      workers: { type: 'string', default: '2' },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const level = values['log-level'];
  if (!isLogLevel(level)) throw new Error(`--log-level must be error, warn, info or debug, got ${level}`);
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers must be a positive integer`);
  if (!['true', 'false'].includes(values['leader-elect']))
    throw new Error('--leader-elect must be true or false');

  const logger = newOperatorLogger({ level, component: 'cairn-operator' });
  const config = new KubeConfig();
  if (values.kubeconfig !== undefined) config.loadFromFile(values.kubeconfig);
  else config.loadFromDefault();

  const registry = new Registry();
  const metrics = newOperatorMetrics(registry);
  const events = new EventRecorder({
    sink: new KubernetesEventSink(config.makeApiClient(CoreV1Api)),
    logger: componentLogger(logger, 'events'),
  });
  const failpoints = new Set(
    (process.env['CAIRN_OPERATOR_FAILPOINTS'] ?? '').split(',').filter((f) => f !== ''),
  );
  const reconciler = new KVClusterReconciler({
    kube: new ClientNodeKubeOps(config),
    connect: (endpoints) => new Etcd3ClusterClient(endpoints),
    events,
    metrics,
    clusterDomain: values['cluster-domain'],
    failpoint: (point: Failpoint) => {
      if (!failpoints.has(point)) return;
      logger.error(`failpoint ${point}: exiting`);
      process.exit(1);
    },
  });
  const backupKube = new ClientNodeBackupKubeOps(config);
  const controllers = [
    kvClusterController({ config, reconciler, logger, metrics, workers }),
    kvBackupController({
      config,
      reconciler: new KVBackupReconciler({ kube: backupKube, events, metrics }),
      logger,
      metrics,
      workers,
    }),
    kvBackupScheduleController({
      config,
      reconciler: new KVBackupScheduleReconciler({ kube: backupKube, events }),
      logger,
      metrics,
      workers: 1,
    }),
    kvRestoreController({
      config,
      reconciler: new KVRestoreReconciler({ kube: new ClientNodeRestoreKubeOps(config), events, metrics }),
      logger,
      metrics,
      workers: 1,
    }),
  ];
  const controller = {
    synced: (): boolean => controllers.every((c) => c.synced()),
    start: async (): Promise<void> => {
      await Promise.all(controllers.map((c) => c.start()));
    },
    stop: async (): Promise<void> => {
      await Promise.all(controllers.map((c) => c.stop()));
    },
  };

  const elector =
    values['leader-elect'] === 'false'
      ? undefined
      : new LeaderElector({
          store: new KubernetesLeaseStore(
            config.makeApiClient(CoordinationV1Api),
            values['leader-election-namespace'] ?? podNamespace(),
            values['leader-election-id'],
          ),
          logger: componentLogger(logger, 'leader-election'),
          metrics,
        });
  const http = await startOperatorHttpServer({
    address: values['metrics-bind-address'],
    registry,
    // A standby is ready (it can take over); the leader once its caches have synced.
    ready: () => (elector !== undefined && !elector.isLeader()) || controller.synced(),
    logger: componentLogger(logger, 'http'),
  });
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: shutting down`);
    if (elector !== undefined) await elector.release();
    else await controller.stop();
    await events.flush();
    await http.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  if (elector === undefined) {
    await controller.start();
    logger.info('started (no leader election)');
    return;
  }
  await elector.run({
    onStartedLeading: async (signal) => {
      logger.info('leading: starting the controller');
      await controller.start();
      // Leadership may have ended while the caches were syncing: then stop what just started.
      if (signal.aborted) await controller.stop();
    },
    onStoppedLeading: async () => {
      logger.info('no longer leading: stopping the controller');
      await controller.stop();
    },
  });
  // Leadership ended without a shutdown: exit, so a fresh process campaigns with a clean state.
  if (!stopping) {
    logger.warn('leadership lost: exiting');
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`cairn-operator: ${errorMessage(err)}\n`);
  process.exit(1);
});
