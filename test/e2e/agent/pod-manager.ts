// Watches every pod, keeps one PodWorker per pod bound to one of the agent's nodes, and routes the
// watch's updates and deletions to it. Workers outlive their pod's deletion until their final delete.
import type { V1Pod } from '@kubernetes/client-node';
import { makeInformer } from '@kubernetes/client-node';
import { describeError, type Kube } from './kube.js';
import type { LogSource } from './kubelet-server.js';
import { log } from './log.js';
import { PodWorker, type NodeSlot, type WorkerDeps } from './pod-worker.js';

const INFORMER_RESTART_MS = 1_000;

export class PodManager {
  private readonly workers = new Map<string, PodWorker>();
  private informer: { stop(): Promise<void> } | undefined;
  private stopping = false;

  constructor(
    private readonly kube: Kube,
    private readonly nodes: ReadonlyMap<string, NodeSlot>,
    private readonly deps: WorkerDeps,
  ) {}

  async start(): Promise<void> {
    const informer = makeInformer<V1Pod>(this.kube.config, '/api/v1/pods', () =>
      this.kube.core.listPodForAllNamespaces(),
    );
    informer.on('add', (pod) => this.handle(pod));
    informer.on('update', (pod) => this.handle(pod));
    informer.on('delete', (pod) => this.workers.get(pod.metadata?.uid ?? '')?.gone());
    informer.on('error', (err: unknown) => {
      if (this.stopping) return;
      log('pods', `watch ended (${describeError(err)}), restarting`);
      setTimeout(() => void informer.start(), INFORMER_RESTART_MS);
    });
    await informer.start();
    this.informer = informer;
  }

  /** The kubelet API's view: logs of the newest pod of that name (a replacement may overlap the old one). */
  readonly logs: LogSource = {
    logFile: (namespace, pod, container, previous) => {
      const worker = [...this.workers.values()]
        .reverse()
        .find((w) => w.namespace === namespace && w.name === pod);
      if (worker === undefined) return { status: 404, error: `pod ${namespace}/${pod} is not on this node` };
      return worker.logFile(container, previous);
    },
    writing: (file) => [...this.workers.values()].some((w) => w.writing(file)),
  };

  /** Stops watching and stops every pod's processes (the agent is exiting). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.informer?.stop();
    await Promise.all([...this.workers.values()].map((w) => w.shutdown()));
  }

  private handle(pod: V1Pod): void {
    if (this.stopping) return;
    const uid = pod.metadata?.uid ?? '';
    const existing = this.workers.get(uid);
    if (existing !== undefined) {
      existing.update(pod);
      return;
    }
    const node = this.nodes.get(pod.spec?.nodeName ?? '');
    if (node === undefined || uid === '') return;
    const worker = new PodWorker(pod, node, this.deps);
    this.workers.set(uid, worker);
    worker.update(pod);
    void worker.done.finally(() => this.workers.delete(uid));
  }
}
