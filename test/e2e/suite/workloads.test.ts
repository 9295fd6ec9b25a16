// The basics a user of any cluster relies on: Ready nodes, a Deployment whose pods run with addresses
// of their own, a Service that reaches them through kube-proxy, and DNS from inside a pod.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  apply,
  createNamespace,
  deleteNamespace,
  getJson,
  isReady,
  kubectl,
  listPods,
  runPod,
  waitFor,
} from '../framework/kube.js';

const NS = 'e2e-workloads';

/** Two single-member cairn servers (the cairn image, which also carries cairnctl) behind one Service. */
const DEPLOYMENT = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: 2
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      containers:
      - name: cairn
        image: ghcr.io/cairn-dev/cairn:e2e
        env:
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
        args: [--name=$(POD_NAME), --data-dir=/data/member, --listen-client-urls=http://0.0.0.0:2379,
               --advertise-client-urls=http://$(POD_IP):2379, --initial-cluster=$(POD_NAME)=http://localhost:2380,
               --listen-metrics-urls=http://0.0.0.0:2381]
        ports: [{name: client, containerPort: 2379}, {name: metrics, containerPort: 2381}]
        readinessProbe: {httpGet: {path: /health, port: metrics}, periodSeconds: 1}
        volumeMounts: [{name: data, mountPath: /data}]
      volumes: [{name: data, emptyDir: {}}]
---
apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  selector: {app: echo}
  ports: [{name: client, port: 2379, targetPort: client}]
`;

describe('workloads: nodes, a Deployment, a Service, DNS', () => {
  before(() => createNamespace(NS));
  after(() => deleteNamespace(NS));

  it('every node is Ready and renews its Lease', async () => {
    const nodes = await getJson<{
      items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[];
    }>(['get', 'nodes']);
    assert.ok(nodes.items.length >= 1, 'at least one node');
    for (const node of nodes.items) {
      const ready = node.status.conditions.find((c) => c.type === 'Ready');
      assert.equal(ready?.status, 'True', `${node.metadata.name} is Ready`);
    }
    // Each node's heartbeat: a Lease in kube-node-lease renewed every 10 s (40 s duration).
    const leases = await getJson<{
      items: { metadata: { name: string }; spec: { holderIdentity: string; renewTime: string } }[];
    }>(['get', 'leases', '-n', 'kube-node-lease']);
    for (const node of nodes.items) {
      const lease = leases.items.find((l) => l.metadata.name === node.metadata.name);
      assert.equal(lease?.spec.holderIdentity, node.metadata.name, `${node.metadata.name} holds its Lease`);
      const age = Date.now() - Date.parse(lease.spec.renewTime);
      assert.ok(age < 40_000, `${node.metadata.name}'s Lease was renewed ${age} ms ago`);
    }
  });

  it('runs the Deployment, reaches it through its Service and resolves names from a pod', async () => {
    await apply(NS, DEPLOYMENT);
    const pods = await waitFor(
      'both echo pods Ready',
      async () => {
        const ps = await listPods(NS, 'app=echo');
        return ps.length === 2 && ps.every(isReady) ? ps : undefined;
      },
      60_000,
    );
    const ips = pods.map((p) => p.status.podIP ?? '');
    for (const ip of ips) assert.match(ip, /^10\.244\.\d+\.\d+$/, 'a pod address from the pod network');
    assert.notEqual(ips[0], ips[1], 'each pod has its own address');

    const clusterIP = (
      await kubectl(['get', 'service', 'echo', '-n', NS, '-o', 'jsonpath={.spec.clusterIP}'])
    ).trim();
    const [first] = pods;
    assert.ok(first?.status.podIP !== undefined);
    const podDNS = `${first.status.podIP.replace(/\./g, '-')}.${NS}.pod.cluster.local`;
    // One client pod: resolve names through the cluster DNS, then ask the Service 20 times which
    // member answered — kube-proxy spreads the connections over both pods.
    const log = await runPod(
      NS,
      'client',
      'cairnctl',
      [
        'set -e',
        `echo "svc $(getent hosts echo.${NS}.svc.cluster.local)"`,
        'echo "short $(getent hosts echo)"',
        'echo "api $(getent hosts kubernetes.default)"',
        `echo "pod $(getent hosts ${podDNS})"`,
        'for i in $(seq 1 20); do echo "member $(cairnctl --endpoints=http://echo:2379 member list | cut -d, -f3)"; done',
      ].join('\n'),
      120_000,
    );
    const resolved = (tag: string): string => log.match(new RegExp(`^${tag} (\\S+)`, 'm'))?.[1] ?? '';
    assert.equal(resolved('svc'), clusterIP, 'the Service name resolves to its ClusterIP');
    assert.equal(resolved('short'), clusterIP, 'the search path resolves the short name');
    assert.equal(resolved('api'), '10.96.0.1', 'kubernetes.default resolves');
    assert.equal(resolved('pod'), first.status.podIP, 'the pod DNS name resolves to the pod');
    const answered = new Set([...log.matchAll(/^member\s+(\S+)/gm)].map((m) => m[1]));
    assert.deepEqual(
      [...answered].sort(),
      pods.map((p) => p.metadata.name).sort(),
      `both pods answered through the Service; log:\n${log}`,
    );
  });
});
