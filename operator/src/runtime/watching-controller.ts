// One kind's controller as the operator runs it: informers that turn any change into the key of the
// object to look at again, one de-duplicating rate-limited work queue, and a Controller draining it.
// Level-triggered: what changed never matters, only which object to reconcile.
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import { Controller, type Reconcile } from './controller.js';
import { newResourceInformer, type ResourceInformer } from './informer.js';
import type { Logger } from './logger.js';
import { componentLogger } from './logger.js';
import type { OperatorMetrics } from './metrics.js';
import { WorkQueue } from './work-queue.js';

/** One watched resource and how its objects map to keys of the reconciled kind. */
export interface Watch {
  /** The API path to watch across namespaces, e.g. /apis/batch/v1/jobs. */
  path: string;
  /** Names the informer in logs and metrics. */
  name: string;
  list: (labelSelector: string | undefined) => Promise<KubernetesListObject<KubernetesObject>>;
  labelSelector?: string;
  keyOf: (obj: KubernetesObject) => string | undefined;
}

export interface WatchingControllerOptions {
  name: string;
  config: KubeConfig;
  reconcile: Reconcile;
  logger: Logger;
  metrics: OperatorMetrics;
  workers: number;
  watches: Watch[];
}

export class WatchingController {
  private readonly queue: WorkQueue;
  private readonly controller: Controller;
  private readonly informers: ResourceInformer<KubernetesObject>[];

  constructor(opts: WatchingControllerOptions) {
    const logger = componentLogger(opts.logger, `${opts.name}-controller`);
    this.queue = new WorkQueue({ name: opts.name, metrics: opts.metrics });
    this.controller = new Controller({
      name: opts.name,
      queue: this.queue,
      workers: opts.workers,
      reconcile: opts.reconcile,
      logger,
      metrics: opts.metrics,
    });
    this.informers = opts.watches.map((w) =>
      newResourceInformer<KubernetesObject>(opts.config, w.path, () => w.list(w.labelSelector), {
        name: w.name,
        logger,
        ...(w.labelSelector !== undefined ? { labelSelector: w.labelSelector } : {}),
        handler: (obj) => {
          const key = w.keyOf(obj);
          if (key !== undefined) this.queue.add(key);
        },
      }),
    );
  }

  /** True once every informer has listed (readiness). */
  synced(): boolean {
    return this.informers.every((i) => i.hasSynced());
  }

  async start(): Promise<void> {
    for (const informer of this.informers) informer.start();
    await Promise.all(this.informers.map((i) => i.synced));
    this.controller.start();
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.controller.stop();
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}
