// Pod Events as the kubelet records them: source component "kubelet", host = the pod's node, the
// container named in fieldPath. The operator's EventRecorder does the work (repeats folded into count),
// one per node, since the host is fixed per recorder.
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { EventRecorder, KubernetesEventSink, type EventType } from '../../../operator/src/runtime/events.js';
import { newOperatorLogger } from '../../../operator/src/runtime/logger.js';
import type { Kube } from './kube.js';

export type { EventType };

export class PodEvents {
  private readonly recorders = new Map<string, EventRecorder>();
  private readonly sink: KubernetesEventSink;
  private readonly logger = newOperatorLogger({ level: 'warn', component: 'agent-events' });

  constructor(kube: Kube) {
    this.sink = new KubernetesEventSink(kube.config.makeApiClient(CoreV1Api));
  }

  record(
    pod: V1Pod,
    node: string,
    type: EventType,
    reason: string,
    message: string,
    fieldPath?: string,
  ): void {
    let recorder = this.recorders.get(node);
    if (recorder === undefined) {
      recorder = new EventRecorder({
        sink: this.sink,
        logger: this.logger,
        component: 'kubelet',
        host: node,
      });
      this.recorders.set(node, recorder);
    }
    // Pods from the watch carry no kind/apiVersion; the Event's involvedObject needs them.
    recorder.event({ ...pod, apiVersion: 'v1', kind: 'Pod' }, type, reason, message, fieldPath);
  }
}
