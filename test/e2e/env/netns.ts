// The environment's network namespace: lo, a bridge for the pod namespaces, IP forwarding, and nothing
// connected to the root namespace (TESTING.md "Network rules for tests": no link and no route to the host's
// network, so no packet of the run can leave it).
import type { E2eConfig } from './config.js';
import { run } from './exec.js';

/** Names from `ip netns list` ("name (id: 3)" or just "name"). */
export async function listNetns(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');
}

/** PIDs of the processes whose network namespace is `name`. */
export async function netnsPids(name: string): Promise<number[]> {
  const { stdout } = await run('ip', ['netns', 'pids', name], { allowFailure: true });
  return stdout
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

export async function createEnvNetns(cfg: E2eConfig): Promise<void> {
  const ns = cfg.prefix;
  const { bridge, gatewayIp, podPrefixLength } = cfg.net;
  await run('ip', ['netns', 'add', ns]);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  await run('ip', ['-n', ns, 'link', 'add', bridge, 'type', 'bridge']);
  await run('ip', ['-n', ns, 'addr', 'add', `${gatewayIp}/${podPrefixLength}`, 'dev', bridge]);
  await run('ip', ['-n', ns, 'link', 'set', bridge, 'up']);
  // Processes of the env netns itself (the test runner, kubectl) connect to ClusterIPs too. With no default
  // route, connect() to 10.96.0.1 fails with "Network is unreachable" before kube-proxy's OUTPUT DNAT is
  // ever consulted; this route (onto the internal bridge, so nothing leaves) gets the packet that far.
  await run('ip', ['-n', ns, 'route', 'add', cfg.net.serviceCidr, 'dev', bridge, 'src', gatewayIp]);
  // Per-netns sysctls: the env netns routes between pod namespaces and the services on the gateway address.
  await run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  await assertIsolated(cfg);
}

/**
 * Double-checks the isolation promise instead of trusting the steps above: the only links are lo, the
 * bridge and veths whose peer is a pod netns of this run (none exist yet at start-up), and the only
 * routes are the bridge's own subnet.
 */
export async function assertIsolated(cfg: E2eConfig): Promise<void> {
  const ns = cfg.prefix;
  const { stdout: routes } = await run('ip', ['-n', ns, '-4', 'route', 'show']);
  for (const line of routes.split('\n').filter((l) => l.trim() !== '')) {
    if (line.startsWith('default') || !line.includes(`dev ${cfg.net.bridge}`)) {
      throw new Error(`netns ${ns} has an unexpected route: ${line}`);
    }
  }
  const { stdout: links } = await run('ip', ['-n', ns, '-o', 'link', 'show']);
  for (const line of links.split('\n').filter((l) => l.trim() !== '')) {
    const name = line.split(':')[1]?.trim().split('@')[0] ?? '';
    if (name !== 'lo' && name !== cfg.net.bridge) {
      throw new Error(`netns ${ns} has an unexpected link at start-up: ${line}`);
    }
  }
}

export async function deleteNetns(name: string): Promise<void> {
  await run('ip', ['netns', 'delete', name]);
}

/** argv that runs `argv` inside netns `ns` (ip netns exec execs it: the PID stays the same). */
export function inNetns(ns: string, argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}
