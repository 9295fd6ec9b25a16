// A pod's sandbox: what every container of the pod shares — a network namespace joined to the
// environment's bridge by a veth pair, its own address, and the resolv.conf, hosts and hostname files
// the containers see. This is the work of the CRI's RunPodSandbox plus the CNI bridge plugin.
//
// The agent runs in the environment's network namespace but the host's mount namespace (`e2e:up` starts
// it with nsenter --net, not `ip netns exec`, which would give it a private one), so the pod namespaces
// it names under /run/netns are visible to `ip netns list` and to `e2e:down`, which removes any the
// agent left behind.
import type { V1Pod } from '@kubernetes/client-node';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IP, run } from './exec.js';
import { POD_NETWORK_PREFIX_LENGTH, type IpPool } from './ip-pool.js';

export interface SandboxConfig {
  bridge: string;
  gateway: string;
  dns: string;
  clusterDomain: string;
  netnsPrefix: string;
}

export interface Sandbox {
  /** Network namespace name (`ip netns`), or undefined for a hostNetwork pod. */
  netns: string | undefined;
  /** Host side of the veth pair, in the environment's namespace. */
  veth: string | undefined;
  ip: string;
  hostname: string;
  /** The pod's directory: etc/ files, volumes, logs, the containers' root mount points. */
  dir: string;
  resolvConf: string;
  hosts: string;
  hostnameFile: string;
}

/** Hostnames are DNS labels: the kubelet truncates a longer pod name to 63 characters. */
const HOSTNAME_MAX = 63;
let sandboxSequence = 0;

export function podHostname(pod: V1Pod): string {
  const name = pod.spec?.hostname ?? pod.metadata?.name ?? 'pod';
  return name.slice(0, HOSTNAME_MAX).replace(/[-.]+$/, '');
}

export async function createSandbox(
  pod: V1Pod,
  dir: string,
  config: SandboxConfig,
  pool: IpPool,
  nodeIP: string,
): Promise<Sandbox> {
  const hostNetwork = pod.spec?.hostNetwork === true;
  const seq = ++sandboxSequence;
  const netns = hostNetwork ? undefined : `${config.netnsPrefix}-p-${seq}`;
  const veth = hostNetwork ? undefined : `veth${seq}`;
  const ip = hostNetwork ? nodeIP : pool.allocate();
  const hostname = podHostname(pod);
  await mkdir(join(dir, 'etc'), { recursive: true });
  const sandbox: Sandbox = {
    netns,
    veth,
    ip,
    hostname,
    dir,
    resolvConf: join(dir, 'etc/resolv.conf'),
    hosts: join(dir, 'etc/hosts'),
    hostnameFile: join(dir, 'etc/hostname'),
  };
  try {
    if (netns !== undefined && veth !== undefined) {
      await run(IP, ['netns', 'add', netns]);
      await run(IP, ['-n', netns, 'link', 'set', 'lo', 'up']);
      await run(IP, ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
      await run(IP, ['link', 'set', veth, 'master', config.bridge, 'up']);
      await run(IP, ['-n', netns, 'addr', 'add', `${ip}/${POD_NETWORK_PREFIX_LENGTH}`, 'dev', 'eth0']);
      await run(IP, ['-n', netns, 'link', 'set', 'eth0', 'up']);
      await run(IP, ['-n', netns, 'route', 'add', 'default', 'via', config.gateway]);
    }
    await writeFile(sandbox.resolvConf, resolvConf(pod, config));
    await writeFile(sandbox.hosts, hostsFile(pod, ip, hostname, config.clusterDomain));
    await writeFile(sandbox.hostnameFile, `${hostname}\n`);
  } catch (err) {
    await destroySandbox(sandbox, pool);
    throw err;
  }
  return sandbox;
}

/** Idempotent: removes the network namespace (its veth goes with it) and returns the address. */
export async function destroySandbox(sandbox: Sandbox, pool: IpPool): Promise<void> {
  if (sandbox.netns !== undefined) {
    await run(IP, ['netns', 'del', sandbox.netns]).catch(() => undefined);
    pool.release(sandbox.ip);
  }
}

/** The pod's scratch files (not its logs, which the tests read after the pod is gone). */
export async function removeSandboxFiles(sandbox: Sandbox): Promise<void> {
  await rm(join(sandbox.dir, 'etc'), { recursive: true, force: true });
  await rm(join(sandbox.dir, 'tmp'), { recursive: true, force: true });
}

/** dnsPolicy ClusterFirst (the default), None and Default, merged with dnsConfig, as the kubelet does. */
function resolvConf(pod: V1Pod, config: SandboxConfig): string {
  const namespace = pod.metadata?.namespace ?? 'default';
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  const custom = pod.spec?.dnsConfig;
  let nameservers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  if (policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet') {
    nameservers = [config.dns];
    searches = [
      `${namespace}.svc.${config.clusterDomain}`,
      `svc.${config.clusterDomain}`,
      config.clusterDomain,
    ];
    options = ['ndots:5'];
  }
  // "Default" inherits the node's resolver; the environment has no upstream DNS, so the cluster DNS is
  // the only server that answers — the kubelet would copy the node's file, which points nowhere here.
  if (policy === 'Default') nameservers = [config.dns];
  for (const ns of custom?.nameservers ?? []) nameservers.push(ns);
  for (const s of custom?.searches ?? []) searches.push(s);
  for (const o of custom?.options ?? [])
    options.push(o.value === undefined ? (o.name ?? '') : `${o.name}:${o.value}`);
  const lines: string[] = [];
  if (searches.length > 0) lines.push(`search ${searches.join(' ')}`);
  for (const ns of nameservers) lines.push(`nameserver ${ns}`);
  if (options.length > 0) lines.push(`options ${options.filter((o) => o !== '').join(' ')}`);
  return `${lines.join('\n')}\n`;
}

function hostsFile(pod: V1Pod, ip: string, hostname: string, clusterDomain: string): string {
  const lines = ['# Kubernetes-managed hosts file (cairn e2e node agent).', '127.0.0.1\tlocalhost'];
  lines.push('::1\tlocalhost ip6-localhost ip6-loopback');
  const subdomain = pod.spec?.subdomain;
  const namespace = pod.metadata?.namespace ?? 'default';
  if (subdomain !== undefined && subdomain !== '') {
    lines.push(`${ip}\t${hostname}.${subdomain}.${namespace}.svc.${clusterDomain}\t${hostname}`);
  } else {
    lines.push(`${ip}\t${hostname}`);
  }
  for (const alias of pod.spec?.hostAliases ?? []) {
    if (alias.ip !== undefined) lines.push(`${alias.ip}\t${(alias.hostnames ?? []).join('\t')}`);
  }
  return `${lines.join('\n')}\n`;
}
