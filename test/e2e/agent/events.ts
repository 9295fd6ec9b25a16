// Pod Events as the kubelet records them (source component "kubelet", host = the node), so
// `kubectl describe pod` and the tests see Pulled/Created/Started/Killing/BackOff/Unhealthy/Failed.
// Repeats of the same reason+message on one object bump `count` instead of creating a new Event, as
// the kubelet's event correlator does.
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { describeError, mergePatch, type Kube } from './kube.js';
import { log, podRef } from './log.js';

export type EventType = 'Normal' | 'Warning';

interface Recorded {
  name: string;
  count: number;
}

/** Events remembered per pod for de-duplication; bounded so a crash-looping pod cannot grow it. */
const RECORDED_PER_POD_MAX = 64;

export class EventRecorder {
  private readonly recorded = new Map<string, Map<string, Recorded>>();
  private sequence = 0;

  constructor(private readonly kube: Kube) {}

  record(
    pod: V1Pod,
    node: string,
    type: EventType,
    reason: string,
    message: string,
    fieldPath?: string,
  ): void {
    void this.send(pod, node, type, reason, message, fieldPath).catch((err: unknown) =>
      log(podRef(pod), `event ${reason} not recorded: ${describeError(err)}`),
    );
  }

  /** Forget a pod's de-duplication state once it is gone. */
  forget(uid: string): void {
    this.recorded.delete(uid);
  }

  private async send(
    pod: V1Pod,
    node: string,
    type: EventType,
    reason: string,
    message: string,
    fieldPath: string | undefined,
  ): Promise<void> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const uid = pod.metadata?.uid ?? '';
    const key = `${type}/${reason}/${fieldPath ?? ''}/${message}`;
    let perPod = this.recorded.get(uid);
    if (perPod === undefined) {
      perPod = new Map();
      this.recorded.set(uid, perPod);
    }
    const now = new Date();
    const seen = perPod.get(key);
    if (seen !== undefined) {
      seen.count++;
      await this.kube.core.patchNamespacedEvent(
        {
          name: seen.name,
          namespace,
          body: { count: seen.count, lastTimestamp: now.toISOString() },
        },
        mergePatch,
      );
      return;
    }
    const name = `${pod.metadata?.name ?? 'pod'}.${Date.now().toString(16)}${(this.sequence++).toString(16)}`;
    const event: CoreV1Event = {
      metadata: { name, namespace },
      involvedObject: {
        kind: 'Pod',
        apiVersion: 'v1',
        namespace,
        name: pod.metadata?.name,
        uid,
        resourceVersion: pod.metadata?.resourceVersion,
        ...(fieldPath !== undefined ? { fieldPath } : {}),
      },
      type,
      reason,
      message,
      source: { component: 'kubelet', host: node },
      reportingComponent: 'kubelet',
      reportingInstance: node,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    if (perPod.size >= RECORDED_PER_POD_MAX) perPod.clear();
    perPod.set(key, { name, count: 1 });
    await this.kube.core.createNamespacedEvent({ namespace, body: event });
  }
}
