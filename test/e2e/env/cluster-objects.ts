// Objects the environment itself puts into the cluster. CoreDNS runs as a process on the gateway address,
// not as a pod, so the kube-dns Service has no selector and its EndpointSlice is written by hand: pods reach
// 10.96.0.10 through kube-proxy's rules like any other Service.
import type { E2eConfig } from './config.js';
import { kubectl } from './kubectl.js';

export function kubeDnsManifest(cfg: E2eConfig): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: kube-dns
  namespace: kube-system
  labels:
    k8s-app: kube-dns
spec:
  clusterIP: ${cfg.net.dnsServiceIp}
  ports:
    - name: dns
      port: 53
      protocol: UDP
      targetPort: 53
    - name: dns-tcp
      port: 53
      protocol: TCP
      targetPort: 53
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kube-dns-e2e
  namespace: kube-system
  labels:
    kubernetes.io/service-name: kube-dns
    # Any value but the endpointslice controller's own keeps that controller's hands off this slice.
    endpointslice.kubernetes.io/managed-by: cairn-e2e
addressType: IPv4
endpoints:
  - addresses: ['${cfg.net.gatewayIp}']
    conditions:
      ready: true
ports:
  - name: dns
    port: 53
    protocol: UDP
  - name: dns-tcp
    port: 53
    protocol: TCP
`;
}

export async function applyClusterObjects(cfg: E2eConfig, kubectlBin: string): Promise<void> {
  await kubectl(cfg, kubectlBin, ['apply', '-f', '-'], { input: kubeDnsManifest(cfg) });
}

/**
 * Without the agent (--no-agent) nobody registers kube-proxy's Node, and kube-proxy would spend 30 s waiting
 * for it before it programs any rule. A cordoned stand-in with the gateway as its address lets it start at
 * once; being unschedulable, it never gets pods.
 */
export async function registerPlaceholderNode(cfg: E2eConfig, kubectlBin: string): Promise<void> {
  const name = cfg.proxyNodeName;
  await kubectl(cfg, kubectlBin, ['apply', '-f', '-'], {
    input: `apiVersion: v1
kind: Node
metadata:
  name: ${name}
  labels:
    cairn.dev/e2e-placeholder: 'true'
spec:
  unschedulable: true
`,
  });
  const status = { status: { addresses: [{ type: 'InternalIP', address: cfg.net.gatewayIp }] } };
  await kubectl(cfg, kubectlBin, [
    'patch',
    'node',
    name,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify(status),
  ]);
}
