// The control plane processes inside the env netns (controlplane.md §2.2, plus CoreDNS and kube-proxy), each
// started as a tracked process and waited for on its health endpoint, with a timeout whose error carries
// the tail of the component's log.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Binaries } from './binaries.js';
import type { E2eConfig } from './config.js';
import { waitUntil } from './exec.js';
import { inNetns } from './netns.js';
import type { Pki } from './pki.js';
import { probe, type ProbeTls } from './probe.js';
import { isRunning, logTail, spawnTracked } from './processes.js';
import { type EnvState, type RecordedProcess, writeState } from './state.js';

export interface EnvContext {
  cfg: E2eConfig;
  bins: Binaries;
  pki: Pki;
  state: EnvState;
  signal?: AbortSignal;
  log: (line: string) => void;
}

const HEALTH_TIMEOUT_MS = 60_000;
// The apiserver's first start on 2 cores (etcd bootstrap of every built-in type, RBAC bootstrap) is the
// slowest step.
const APISERVER_TIMEOUT_MS = 120_000;

/** Spawn `argv` in the env netns (or with another launcher) and record it in state.json at once. */
export async function startTracked(
  ctx: EnvContext,
  name: string,
  argv: readonly string[],
  launcher: readonly string[] = inNetns(ctx.cfg.prefix, []),
): Promise<RecordedProcess> {
  if (ctx.signal?.aborted) throw new Error(`aborted before starting ${name}`);
  const p = await spawnTracked({ name, argv, launcher, logDir: ctx.cfg.paths.logs, cwd: ctx.cfg.runDir });
  ctx.state.processes.push(p);
  writeState(ctx.cfg.paths.state, ctx.state);
  ctx.log(`  started ${name} (pid ${p.pid}, log ${p.log ?? '-'})`);
  return p;
}

export async function waitHealthy(
  ctx: EnvContext,
  p: RecordedProcess,
  url: string,
  opts: { tls?: ProbeTls; timeoutMs?: number } = {},
): Promise<void> {
  const t0 = Date.now();
  await waitUntil(`${p.name} to answer ${url}`, () => probe(ctx.cfg.prefix, url, opts.tls), {
    timeoutMs: opts.timeoutMs ?? HEALTH_TIMEOUT_MS,
    intervalMs: 300,
    signal: ctx.signal,
    failIf: () => (isRunning(p.pid) ? undefined : `${p.name} (pid ${p.pid}) exited`),
    context: () => logTail(p.log),
  });
  ctx.log(`  ${p.name} healthy after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

function adminTls(ctx: EnvContext): ProbeTls {
  return { ca: ctx.pki.caCert, cert: ctx.pki.adminCert, key: ctx.pki.adminKey };
}

export async function startEtcd(ctx: EnvContext): Promise<RecordedProcess> {
  const { cfg } = ctx;
  const client = `http://127.0.0.1:${cfg.ports.etcdClient}`;
  const peer = `http://127.0.0.1:${cfg.ports.etcdPeer}`;
  mkdirSync(cfg.paths.etcdData, { recursive: true, mode: 0o700 });
  // etcd 3.4 has no --unsafe-no-fsync (3.5 added it), so the data dir simply lives in the run dir.
  const p = await startTracked(ctx, 'etcd', [
    ctx.bins.etcd,
    '--name=e2e',
    `--data-dir=${cfg.paths.etcdData}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=e2e=${peer}`,
    '--logger=zap',
    '--log-outputs=stderr',
  ]);
  await waitHealthy(ctx, p, `${client}/health`);
  return p;
}

export async function startApiserver(ctx: EnvContext): Promise<RecordedProcess> {
  const { cfg, pki } = ctx;
  mkdirSync(join(cfg.paths.certDir, 'apiserver'), { recursive: true });
  const p = await startTracked(ctx, 'kube-apiserver', [
    ctx.bins.kubeApiserver,
    `--etcd-servers=http://127.0.0.1:${cfg.ports.etcdClient}`,
    '--bind-address=0.0.0.0',
    `--secure-port=${cfg.ports.apiserver}`,
    // A non-loopback advertise address: the endpoints reconciler publishes it as the `kubernetes`
    // Service's endpoint, which kube-proxy turns into 10.96.0.1:443 -> 10.244.0.1:6443.
    `--advertise-address=${cfg.net.gatewayIp}`,
    `--tls-cert-file=${pki.adminCert}`,
    `--tls-private-key-file=${pki.adminKey}`,
    `--client-ca-file=${pki.caCert}`,
    `--service-account-issuer=https://kubernetes.default.svc.${cfg.net.clusterDomain}`,
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    `--service-cluster-ip-range=${cfg.net.serviceCidr}`,
    '--authorization-mode=Node,RBAC',
    '--allow-privileged=true',
    `--cert-dir=${join(cfg.paths.certDir, 'apiserver')}`,
    // Saves CPU on 2 cores; a test cluster has no tenants to keep apart.
    '--enable-priority-and-fairness=false',
    // The front-proxy settings of the aggregation layer. Unused here, but without them every component
    // logs "missing content for CA bundle requestheader-client-ca-file" over and over.
    `--requestheader-client-ca-file=${pki.caCert}`,
    '--requestheader-allowed-names=admin',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki.adminCert}`,
    `--proxy-client-key-file=${pki.adminKey}`,
    '--profiling=false',
    // `kubectl logs` goes apiserver -> the node agent's kubelet API on the Node's InternalIP (the Hostname
    // address would need DNS the apiserver does not have), TLS-verified both ways with the run's CA.
    '--kubelet-preferred-address-types=InternalIP',
    `--kubelet-client-certificate=${pki.adminCert}`,
    `--kubelet-client-key=${pki.adminKey}`,
    `--kubelet-certificate-authority=${pki.caCert}`,
  ]);
  await waitHealthy(ctx, p, `https://127.0.0.1:${cfg.ports.apiserver}/readyz`, {
    tls: adminTls(ctx),
    timeoutMs: APISERVER_TIMEOUT_MS,
  });
  return p;
}

function componentAuthFlags(cfg: E2eConfig): string[] {
  return [
    `--kubeconfig=${cfg.paths.kubeconfig}`,
    `--authentication-kubeconfig=${cfg.paths.kubeconfig}`,
    `--authorization-kubeconfig=${cfg.paths.kubeconfig}`,
    '--bind-address=127.0.0.1',
    '--leader-elect=false',
  ];
}

export async function startControllerManager(ctx: EnvContext): Promise<RecordedProcess> {
  const { cfg, pki } = ctx;
  const p = await startTracked(ctx, 'kube-controller-manager', [
    ctx.bins.kubeControllerManager,
    ...componentAuthFlags(cfg),
    `--secure-port=${cfg.ports.controllerManager}`,
    `--cert-dir=${join(cfg.paths.certDir, 'kube-controller-manager')}`,
    // The serviceaccount-token controller and the kube-root-ca.crt publisher: pods get working
    // kube-api-access volumes.
    `--service-account-private-key-file=${pki.saKey}`,
    `--root-ca-file=${pki.caCert}`,
    // The agent sets each Node's podCIDR itself.
    '--allocate-node-cidrs=false',
    // Lets the CSR signer run instead of logging that it has no key.
    `--cluster-signing-cert-file=${pki.caCert}`,
    `--cluster-signing-key-file=${pki.caKey}`,
  ]);
  return p;
}

export async function startScheduler(ctx: EnvContext): Promise<RecordedProcess> {
  const { cfg } = ctx;
  return startTracked(ctx, 'kube-scheduler', [
    ctx.bins.kubeScheduler,
    ...componentAuthFlags(cfg),
    `--secure-port=${cfg.ports.scheduler}`,
    `--cert-dir=${join(cfg.paths.certDir, 'kube-scheduler')}`,
  ]);
}

export function corefile(cfg: E2eConfig): string {
  // No `forward`: there is no upstream resolver in an isolated netns.
  return [
    '.:53 {',
    `    bind ${cfg.net.gatewayIp}`,
    '    errors',
    `    health 127.0.0.1:${cfg.ports.corednsHealth}`,
    `    ready 127.0.0.1:${cfg.ports.corednsReady}`,
    `    kubernetes ${cfg.net.clusterDomain} in-addr.arpa ip6.arpa {`,
    `        kubeconfig ${cfg.paths.kubeconfig}`,
    '        pods insecure',
    '        fallthrough in-addr.arpa ip6.arpa',
    '        ttl 5',
    '    }',
    '    cache 5',
    '}',
    '',
  ].join('\n');
}

export async function startCoreDns(ctx: EnvContext): Promise<RecordedProcess> {
  const { cfg } = ctx;
  mkdirSync(dirname(cfg.paths.corefile), { recursive: true });
  writeFileSync(cfg.paths.corefile, corefile(cfg));
  return startTracked(ctx, 'coredns', [ctx.bins.coredns, '-conf', cfg.paths.corefile]);
}

export async function startKubeProxy(ctx: EnvContext): Promise<RecordedProcess> {
  const { cfg } = ctx;
  return startTracked(ctx, 'kube-proxy', [
    ctx.bins.kubeProxy,
    `--kubeconfig=${cfg.paths.kubeconfig}`,
    '--proxy-mode=iptables',
    // Pods share one L2 bridge: without SNAT the reply to a DNAT'ed ClusterIP connection would go straight
    // from pod to pod and bypass the conntrack entry in the env netns.
    '--masquerade-all',
    `--hostname-override=${cfg.proxyNodeName}`,
    `--cluster-cidr=${cfg.net.podCidr}`,
    // Its node IP. Without it kube-proxy waits 30 s for Node e2e-node-0 (which the agent registers only
    // later, and never with --no-agent) to read the IP from there.
    `--bind-address=${cfg.net.gatewayIp}`,
    // Leaves the global nf_conntrack_max alone (it cannot be set from a netns).
    '--conntrack-max-per-core=0',
    `--healthz-bind-address=127.0.0.1:${cfg.ports.kubeProxyHealthz}`,
    `--metrics-bind-address=127.0.0.1:${cfg.ports.kubeProxyMetrics}`,
  ]);
}

/** Waits for the components started in parallel after the apiserver. */
export async function waitComponents(ctx: EnvContext, procs: Record<string, RecordedProcess>): Promise<void> {
  const { cfg } = ctx;
  const urls: Record<string, string> = {
    'kube-controller-manager': `https://127.0.0.1:${cfg.ports.controllerManager}/healthz`,
    'kube-scheduler': `https://127.0.0.1:${cfg.ports.scheduler}/healthz`,
    // /ready turns 200 once the kubernetes plugin has synced with the apiserver.
    coredns: `http://127.0.0.1:${cfg.ports.corednsReady}/ready`,
    // /livez, not /healthz: /healthz is 503 while Node e2e-node-0 does not exist ("nodeEligible": false).
    'kube-proxy': `http://127.0.0.1:${cfg.ports.kubeProxyHealthz}/livez`,
  };
  await Promise.all(
    Object.entries(procs).map(([name, p]) => {
      const url = urls[name];
      if (!url) throw new Error(`no health endpoint known for ${name}`);
      return waitHealthy(ctx, p, url);
    }),
  );
}
