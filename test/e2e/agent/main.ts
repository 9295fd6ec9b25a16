// The e2e node agent: the kubelet's role for the e2e environment's Nodes, run by `npm run e2e:up`
// inside the environment's network namespace (see hack/e2e/README.md). It registers the Nodes, runs
// the storage provisioner, and runs every pod bound to its Nodes as processes of this repository's
// entry points, each in a network namespace of its own on the environment's bridge.
//
// On SIGTERM or SIGINT it stops every pod's processes (at most SHUTDOWN_GRACE_MS each, then SIGKILL),
// removes their network namespaces and exits.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PodEvents } from './events.js';
import { IP, run } from './exec.js';
import { parseAgentFlags } from './flags.js';
import { ImageStore } from './images.js';
import { IpPool, nodePodCIDR } from './ip-pool.js';
import { connect, describeError } from './kube.js';
import { log } from './log.js';
import { NodeRegistrar, type NodeSpec } from './node-registrar.js';
import { KUBELET_PORT, KubeletServer } from './kubelet-server.js';
import { PodManager } from './pod-manager.js';
import type { NodeSlot } from './pod-worker.js';
import { Provisioner } from './provisioner.js';

/** The agent exits within this long of SIGTERM, whatever its pods do. */
const SHUTDOWN_DEADLINE_MS = 15_000;

async function main(): Promise<void> {
  const flags = parseAgentFlags(process.argv.slice(2));
  const kube = connect(flags.kubeconfig);
  const agentDir = join(flags.runDir, 'agent');
  await mkdir(join(agentDir, 'pods'), { recursive: true });
  await mkdir(join(agentDir, 'pids'), { recursive: true });

  const images = new ImageStore(flags.repo, join(agentDir, 'images/bin'));
  await images.install();

  // Node i's address sits on the bridge beside the gateway: 10.244.0.(10+i).
  const [a, b, c] = flags.gateway.split('.');
  const specs: NodeSpec[] = [];
  const slots = new Map<string, NodeSlot>();
  for (let index = 0; index < flags.nodeCount; index++) {
    const name = `e2e-node-${index}`;
    const ip = `${a ?? ''}.${b ?? ''}.${c ?? ''}.${10 + index}`;
    await run(IP, ['addr', 'replace', `${ip}/16`, 'dev', flags.bridge]);
    specs.push({ name, index, ip, podCIDR: nodePodCIDR(flags.gateway, index) });
    slots.set(name, { name, ip, pool: new IpPool(flags.gateway, index) });
  }

  const registrar = new NodeRegistrar(kube, specs);
  await registrar.start();
  const provisioner = new Provisioner(kube, join(agentDir, 'volumes'));
  await provisioner.start();
  const pods = new PodManager(kube, slots, {
    kube,
    events: new PodEvents(kube),
    images,
    sandboxConfig: {
      bridge: flags.bridge,
      gateway: flags.gateway,
      dns: flags.dns,
      clusterDomain: flags.clusterDomain,
      netnsPrefix: flags.netnsPrefix,
    },
    agentDir,
    initScript: join(flags.repo, 'test/e2e/agent/container-init.sh'),
    repo: flags.repo,
  });
  await pods.start();
  const kubelet = new KubeletServer(pods.logs, {
    cert: flags.tlsCert,
    key: flags.tlsKey,
    clientCA: flags.clientCA,
  });
  await kubelet.listen(specs.map((s) => s.ip));
  log('agent', `ready: ${specs.map((s) => s.name).join(', ')}; kubelet API on port ${KUBELET_PORT}`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log('agent', `${signal}: stopping pods`);
    setTimeout(() => {
      log('agent', 'pods did not stop in time; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    registrar.stop();
    void Promise.all([pods.stop(), provisioner.stop(), kubelet.close()]).then(
      () => {
        log('agent', 'stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log('agent', `stop failed: ${describeError(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  log('agent', `fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
