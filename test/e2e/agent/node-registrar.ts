// The Nodes this agent plays the kubelet for: registered with capacity, addresses, a pod CIDR and a
// zone label each (so topology spread and anti-affinity have something to spread over), kept alive by
// renewing their Lease in kube-node-lease (the node lifecycle controller's heartbeat) and by reporting
// the Ready condition.
import type { V1Node } from '@kubernetes/client-node';
import { PatchStrategy, setHeaderOptions, V1MicroTime } from '@kubernetes/client-node';
import { describeError, isConflict, isNotFound, type Kube } from './kube.js';
import { KUBELET_PORT } from './kubelet-server.js';
import { log } from './log.js';
import { time } from './pod-status.js';

export interface NodeSpec {
  name: string;
  index: number;
  ip: string;
  podCIDR: string;
}

/** What every e2e node offers the scheduler. */
export const NODE_CAPACITY = { cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' };
export const KUBELET_VERSION = 'v1.36.3';
const LEASE_DURATION_S = 40;
/** The kubelet renews its lease every quarter of the duration (10 s). */
const LEASE_RENEW_MS = 10_000;
/** Full status reports, beyond the lease (the kubelet's nodeStatusReportFrequency is 5 min). */
const STATUS_REPORT_MS = 60_000;

const strategicMerge = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

export function zoneOf(index: number): string {
  return `e2e-zone-${String.fromCharCode(97 + index)}`;
}

export class NodeRegistrar {
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly kube: Kube,
    readonly nodes: readonly NodeSpec[],
  ) {}

  async start(): Promise<void> {
    for (const node of this.nodes) {
      await this.register(node);
      await this.reportStatus(node);
      await this.renewLease(node);
      log(`node/${node.name}`, `registered (${node.ip}, pods ${node.podCIDR})`);
    }
    this.timers.push(setInterval(() => void this.each((n) => this.renewLease(n)), LEASE_RENEW_MS));
    this.timers.push(setInterval(() => void this.each((n) => this.reportStatus(n)), STATUS_REPORT_MS));
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  private async each(fn: (n: NodeSpec) => Promise<void>): Promise<void> {
    for (const node of this.nodes) {
      await fn(node).catch((err: unknown) => log(`node/${node.name}`, describeError(err)));
    }
  }

  private async register(node: NodeSpec): Promise<void> {
    const body: V1Node = {
      metadata: {
        name: node.name,
        labels: {
          'kubernetes.io/hostname': node.name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
          'topology.kubernetes.io/zone': zoneOf(node.index),
        },
        annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
      },
      spec: { podCIDR: node.podCIDR, podCIDRs: [node.podCIDR] },
    };
    try {
      await this.kube.core.createNode({ body });
    } catch (err) {
      if (!isConflict(err)) throw err;
      await this.kube.core.patchNode(
        { name: node.name, body: { metadata: { labels: body.metadata?.labels } } },
        strategicMerge,
      );
    }
  }

  private async reportStatus(node: NodeSpec): Promise<void> {
    const now = time(new Date());
    const condition = (
      type: string,
      status: string,
      reason: string,
      message: string,
    ): Record<string, string> => ({
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: now,
      lastTransitionTime: now,
    });
    const status = {
      capacity: NODE_CAPACITY,
      allocatable: NODE_CAPACITY,
      conditions: [
        condition(
          'MemoryPressure',
          'False',
          'KubeletHasSufficientMemory',
          'kubelet has sufficient memory available',
        ),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        condition('Ready', 'True', 'KubeletReady', 'cairn e2e node agent is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: node.ip },
        { type: 'Hostname', address: node.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: KUBELET_PORT } },
      nodeInfo: {
        machineID: node.name,
        systemUUID: node.name,
        bootID: String(process.pid),
        kernelVersion: '',
        osImage: 'cairn e2e node',
        containerRuntimeVersion: 'cairn-e2e://0.1.0',
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    };
    // lastTransitionTime must not move while a condition holds: keep the server's where it is unchanged.
    const current = await this.kube.core.readNodeStatus({ name: node.name });
    for (const c of status.conditions) {
      const before = current.status?.conditions?.find((x) => x.type === c.type);
      if (before !== undefined && before.status === c.status && before.lastTransitionTime !== undefined) {
        c.lastTransitionTime = time(new Date(before.lastTransitionTime));
      }
    }
    await this.kube.core.patchNodeStatus({ name: node.name, body: { status } }, strategicMerge);
  }

  private async renewLease(node: NodeSpec): Promise<void> {
    const namespace = 'kube-node-lease';
    const renewTime = new V1MicroTime();
    try {
      const lease = await this.kube.coordination.readNamespacedLease({ name: node.name, namespace });
      lease.spec = {
        ...lease.spec,
        holderIdentity: node.name,
        leaseDurationSeconds: LEASE_DURATION_S,
        renewTime,
      };
      await this.kube.coordination.replaceNamespacedLease({ name: node.name, namespace, body: lease });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const owner = await this.kube.core.readNode({ name: node.name });
      await this.kube.coordination.createNamespacedLease({
        namespace,
        body: {
          metadata: {
            name: node.name,
            namespace,
            ownerReferences: [
              { apiVersion: 'v1', kind: 'Node', name: node.name, uid: owner.metadata?.uid ?? '' },
            ],
          },
          spec: { holderIdentity: node.name, leaseDurationSeconds: LEASE_DURATION_S, renewTime },
        },
      });
    }
  }
}
