// The node agent's command line. Every value the environment decides (addresses, names, paths) arrives
// here, so the agent holds no copy of the environment's layout; each is validated once at start-up.
import { parseArgs } from 'node:util';
import { isAbsolute } from 'node:path';

export interface AgentFlags {
  kubeconfig: string;
  /** The environment's run dir; the agent keeps its state under `<runDir>/agent/`. */
  runDir: string;
  /** Repository root: container images map to its entry points in `dist/`. */
  repo: string;
  /** Nodes to register and play the kubelet for: `e2e-node-0` … `e2e-node-<n-1>`. */
  nodeCount: number;
  /** The bridge in the environment's network namespace that every pod's veth joins. */
  bridge: string;
  /** The bridge's address: every pod's default route, and the nodes' InternalIP. */
  gateway: string;
  /** The cluster DNS Service address written into every pod's resolv.conf. */
  dns: string;
  clusterDomain: string;
  /** Pod network namespaces are `<prefix>-p-<n>`. */
  netnsPrefix: string;
  /** The kubelet API's serving certificate (valid for every node address) and the CA its clients must have. */
  tlsCert: string;
  tlsKey: string;
  clientCA: string;
}

const NODES_MAX = 9;

export function parseAgentFlags(argv: string[]): AgentFlags {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string' },
      'run-dir': { type: 'string' },
      repo: { type: 'string' },
      nodes: { type: 'string', default: '3' },
      bridge: { type: 'string', default: 'cbr0' },
      gateway: { type: 'string', default: '10.244.0.1' },
      dns: { type: 'string', default: '10.96.0.10' },
      'cluster-domain': { type: 'string', default: 'cluster.local' },
      'netns-prefix': { type: 'string', default: 'cairn-e2e' },
      'tls-cert-file': { type: 'string' },
      'tls-private-key-file': { type: 'string' },
      'client-ca-file': { type: 'string' },
    },
    strict: true,
  });
  const need = (name: string, v: string | undefined): string => {
    if (v === undefined || v === '') throw new Error(`--${name} is required`);
    return v;
  };
  const absolute = (name: string, v: string | undefined): string => {
    const p = need(name, v);
    if (!isAbsolute(p)) throw new Error(`--${name} must be an absolute path, got ${p}`);
    return p;
  };
  const nodeCount = Number(values.nodes);
  if (!Number.isInteger(nodeCount) || nodeCount < 1 || nodeCount > NODES_MAX) {
    throw new Error(`--nodes must be an integer from 1 to ${NODES_MAX}, got ${values.nodes}`);
  }
  const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
  for (const name of ['gateway', 'dns'] as const) {
    if (!ipv4.test(values[name])) throw new Error(`--${name} must be an IPv4 address, got ${values[name]}`);
  }
  if (!/^[a-z0-9-]{1,20}$/.test(values['netns-prefix'])) {
    throw new Error(`--netns-prefix must be 1-20 of [a-z0-9-], got ${values['netns-prefix']}`);
  }
  return {
    kubeconfig: absolute('kubeconfig', values.kubeconfig),
    runDir: absolute('run-dir', values['run-dir']),
    repo: absolute('repo', values.repo),
    nodeCount,
    bridge: values.bridge,
    gateway: values.gateway,
    dns: values.dns,
    clusterDomain: values['cluster-domain'],
    netnsPrefix: values['netns-prefix'],
    tlsCert: absolute('tls-cert-file', values['tls-cert-file']),
    tlsKey: absolute('tls-private-key-file', values['tls-private-key-file']),
    clientCA: absolute('client-ca-file', values['client-ca-file']),
  };
}
