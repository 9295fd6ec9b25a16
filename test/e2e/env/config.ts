// Every name, address, port and path of the end-to-end environment, in one place. The network layout is a
// contract with the node agent (test/e2e/agent): it attaches pod namespaces to `bridge` and routes them via
// `gatewayIp`, so changing an address here means changing it there too.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface E2eConfig {
  /** Names the env netns, and prefixes the pod netns (`${prefix}-p-<n>`). Env: CAIRN_E2E_PREFIX. */
  prefix: string;
  /** Runtime files, logs and state; outside the repository. Env: CAIRN_E2E_RUN_DIR. */
  runDir: string;
  repoRoot: string;
  /** Where build-binaries.mjs keeps its binaries and current.json. Env: CAIRN_E2E_CACHE. */
  cacheDir: string;
  /** etcd for the apiserver's storage; swappable (a later issue runs cairn here). Env: CAIRN_E2E_ETCD. */
  etcdBinary: string;
  net: {
    bridge: string;
    gatewayIp: string;
    podCidr: string;
    podPrefixLength: number;
    serviceCidr: string;
    kubernetesServiceIp: string;
    dnsServiceIp: string;
    clusterDomain: string;
  };
  ports: {
    etcdClient: number;
    etcdPeer: number;
    apiserver: number;
    controllerManager: number;
    scheduler: number;
    corednsHealth: number;
    corednsReady: number;
    kubeProxyHealthz: number;
    kubeProxyMetrics: number;
  };
  /** The node name kube-proxy reports as; the agent registers e2e-node-0..N-1. */
  proxyNodeName: string;
  nodeCount: number;
  paths: RunPaths;
}

export interface RunPaths {
  state: string;
  /** The state of the last environment `down` stopped: what the teardown test checks against. */
  lastState: string;
  logs: string;
  pki: string;
  kubeconfig: string;
  kubectlWrapper: string;
  etcdData: string;
  certDir: string;
  corefile: string;
  agentDir: string;
  agentPids: string;
  agentMain: string;
}

export interface ConfigOverrides {
  prefix?: string;
  runDir?: string;
}

// A netns name ends up in /run/netns and in `ip` arguments; keep it to a conservative character set, and
// short enough that `${prefix}-p-<n>` stays readable.
const PREFIX_RE = /^[a-z0-9][a-z0-9-]{0,30}$/;

export function repoRoot(): string {
  // dist/test/e2e/env/config.js -> the repository root, four levels up.
  return resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
}

export function runPaths(runDir: string, root: string): RunPaths {
  return {
    state: join(runDir, 'state.json'),
    lastState: join(runDir, 'state.last.json'),
    logs: join(runDir, 'logs'),
    pki: join(runDir, 'pki'),
    kubeconfig: join(runDir, 'admin.kubeconfig'),
    kubectlWrapper: join(runDir, 'kubectl'),
    etcdData: join(runDir, 'etcd'),
    certDir: join(runDir, 'certs'),
    corefile: join(runDir, 'coredns', 'Corefile'),
    agentDir: join(runDir, 'agent'),
    agentPids: join(runDir, 'agent', 'pids'),
    agentMain: join(root, 'dist', 'test', 'e2e', 'agent', 'main.js'),
  };
}

export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): E2eConfig {
  const prefix = overrides.prefix ?? env['CAIRN_E2E_PREFIX'] ?? 'cairn-e2e';
  if (!PREFIX_RE.test(prefix)) {
    throw new Error(`prefix ${JSON.stringify(prefix)} must match ${PREFIX_RE.source}`);
  }
  const runDir = resolve(overrides.runDir ?? env['CAIRN_E2E_RUN_DIR'] ?? '/tmp/cairn-e2e');
  const root = repoRoot();
  if (runDir === root || runDir.startsWith(root + '/')) {
    throw new Error(`run dir ${runDir} must be outside the repository (${root})`);
  }
  return {
    prefix,
    runDir,
    repoRoot: root,
    cacheDir: resolve(env['CAIRN_E2E_CACHE'] ?? join(homedir(), '.cache', 'cairn-e2e')),
    etcdBinary: env['CAIRN_E2E_ETCD'] ?? '/usr/bin/etcd',
    net: {
      bridge: 'cbr0',
      gatewayIp: '10.244.0.1',
      podCidr: '10.244.0.0/16',
      podPrefixLength: 16,
      serviceCidr: '10.96.0.0/16',
      kubernetesServiceIp: '10.96.0.1',
      dnsServiceIp: '10.96.0.10',
      clusterDomain: 'cluster.local',
    },
    ports: {
      etcdClient: 2379,
      etcdPeer: 2380,
      apiserver: 6443,
      controllerManager: 10257,
      scheduler: 10259,
      corednsHealth: 8080,
      corednsReady: 8181,
      kubeProxyHealthz: 10256,
      kubeProxyMetrics: 10249,
    },
    proxyNodeName: 'e2e-node-0',
    nodeCount: 3,
    paths: runPaths(runDir, root),
  };
}

/** The pod netns the agent creates are `${prefix}-p-<n>`; only these and the env netns belong to a run. */
export function isPodNetns(prefix: string, name: string): boolean {
  return name.startsWith(`${prefix}-p-`);
}

export function isRunNetns(prefix: string, name: string): boolean {
  return name === prefix || isPodNetns(prefix, name);
}

/**
 * The Nodes' InternalIPs, as the agent assigns them on the bridge: 10.244.0.(10+i) for e2e-node-<i>. The
 * kubelet API listens there, so the serving certificate names them.
 */
export function nodeIps(cfg: E2eConfig): string[] {
  const base = cfg.net.gatewayIp.split('.').slice(0, 3).join('.');
  return Array.from({ length: cfg.nodeCount }, (_, i) => `${base}.${10 + i}`);
}
