import { makeInformer } from '@kubernetes/client-node';
import type {
  Informer,
  KubeConfig,
  KubernetesObject,
  ListPromise,
  ObjectCache,
} from '@kubernetes/client-node';
import type { Clock } from './clock.js';
import { realClock } from './clock.js';
import type { Logger } from './logger.js';
import { errorMessage } from './logger.js';

export type InformerEvent = 'add' | 'update' | 'delete';
/** Gets the object an event is about. Handlers should only map it to keys and enqueue them. */
export type InformerHandler<T> = (obj: T, event: InformerEvent) => void;
/** What client-node's `makeInformer` returns: a list-then-watch with a cache. */
export type InformerSource<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

export interface ResourceInformerOptions<T extends KubernetesObject> {
  /** For logs: the resource, e.g. `kvclusters`. */
  name: string;
  source: InformerSource<T>;
  handler: InformerHandler<T>;
  logger: Logger;
  /** First wait before restarting a failed list/watch; doubles per consecutive failure. */
  restartBackoffBaseMs?: number;
  restartBackoffMaxMs?: number;
  clock?: Clock;
}

export const DEFAULT_RESTART_BACKOFF_BASE_MS = 1_000;
export const DEFAULT_RESTART_BACKOFF_MAX_MS = 30_000;
/** A watch that ran this long without failing resets the back-off (client-go's reflector: 2 min). */
export const RESTART_BACKOFF_RESET_MS = 120_000;

/**
 * A list-then-watch cache of one resource over client-node's informer, with what a controller needs
 * that client-node 1.4 lacks:
 *
 * - the 1.4 `ListWatch` stops for good on any error other than 410 Gone (API server restart, a reset
 *   connection, RBAC not yet granted); this restarts it with exponential back-off, resuming from the
 *   last resourceVersion (a 410 then makes it re-list);
 * - `synced` resolves once the first list has filled the cache, so readiness and the first reconciles
 *   wait for a complete view (client-go's `WaitForCacheSync`) — reconciling from a half-filled cache
 *   would see existing pods as missing.
 */
export class ResourceInformer<T extends KubernetesObject> {
  readonly name: string;
  readonly synced: Promise<void>;
  readonly #source: InformerSource<T>;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  #markSynced!: () => void;
  #hasSynced = false;
  #stopped = true;
  #failures = 0;
  #startedAtMs = 0;
  #errorSinceStart = false;
  #cancelRestart: (() => void) | undefined;

  constructor(opts: ResourceInformerOptions<T>) {
    this.name = opts.name;
    this.#source = opts.source;
    this.#logger = opts.logger.child({ informer: opts.name });
    this.#clock = opts.clock ?? realClock;
    this.#backoffBaseMs = opts.restartBackoffBaseMs ?? DEFAULT_RESTART_BACKOFF_BASE_MS;
    this.#backoffMaxMs = opts.restartBackoffMaxMs ?? DEFAULT_RESTART_BACKOFF_MAX_MS;
    if (!(this.#backoffBaseMs > 0) || !(this.#backoffMaxMs >= this.#backoffBaseMs)) {
      throw new Error(`informer ${opts.name}: need 0 < restartBackoffBaseMs <= restartBackoffMaxMs`);
    }
    this.synced = new Promise((resolve) => (this.#markSynced = resolve));
    const deliver = (event: InformerEvent) => (obj: T) => {
      try {
        opts.handler(obj, event);
      } catch (err) {
        this.#logger.error('event handler failed', { event, error: errorMessage(err) });
      }
    };
    this.#source.on('add', deliver('add'));
    this.#source.on('update', deliver('update'));
    this.#source.on('delete', deliver('delete'));
    this.#source.on('error', (err: unknown) => this.#onError(err));
  }

  hasSynced(): boolean {
    return this.#hasSynced;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    void this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelRestart?.();
    this.#cancelRestart = undefined;
    await this.#source.stop();
  }

  /** Cached objects, all or of one namespace. Treat them as read-only: they are the cache. */
  list(namespace?: string): readonly T[] {
    return this.#source.list(namespace);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#source.get(name, namespace);
  }

  async #run(): Promise<void> {
    this.#startedAtMs = this.#clock.monotonicMs();
    this.#errorSinceStart = false;
    try {
      // Resolves once the list is in the cache and the watch is open, or after the error callback ran.
      await this.#source.start();
    } catch (err) {
      this.#onError(err);
      return;
    }
    if (this.#errorSinceStart || this.#stopped || this.#hasSynced) return;
    this.#hasSynced = true;
    this.#logger.info('cache synced', { objects: this.#source.list().length });
    this.#markSynced();
  }

  #onError(err: unknown): void {
    this.#errorSinceStart = true;
    if (this.#stopped || this.#cancelRestart !== undefined) return;
    if (this.#clock.monotonicMs() - this.#startedAtMs >= RESTART_BACKOFF_RESET_MS) this.#failures = 0;
    const delayMs = Math.min(this.#backoffBaseMs * 2 ** this.#failures, this.#backoffMaxMs);
    this.#failures++;
    this.#logger.warn('list/watch failed, restarting', {
      error: errorMessage(err),
      delayMs,
      failures: this.#failures,
    });
    this.#cancelRestart = this.#clock.setTimer(() => {
      this.#cancelRestart = undefined;
      if (!this.#stopped) void this.#run();
    }, delayMs);
  }
}

/** An informer on `path` (e.g. `/apis/cairn.dev/v1alpha1/kvclusters`) through client-node's makeInformer. */
export function newResourceInformer<T extends KubernetesObject>(
  kubeConfig: KubeConfig,
  path: string,
  list: ListPromise<T>,
  opts: Omit<ResourceInformerOptions<T>, 'source'> & { labelSelector?: string },
): ResourceInformer<T> {
  return new ResourceInformer({ ...opts, source: makeInformer(kubeConfig, path, list, opts.labelSelector) });
}

/**
 * The `namespace/name` key of `obj`'s controlling owner of kind `kind` (ownerReferences with
 * `controller: true`), or undefined. Maps a StatefulSet or Pod event to the KVCluster to reconcile;
 * owners are always in the same namespace.
 */
export function ownerKey(obj: KubernetesObject, kind: string): string | undefined {
  const ref = obj.metadata?.ownerReferences?.find((r) => r.controller === true && r.kind === kind);
  if (ref === undefined) return undefined;
  const namespace = obj.metadata?.namespace;
  return namespace === undefined || namespace === '' ? ref.name : `${namespace}/${ref.name}`;
}

/**
 * The `namespace/<label value>` key named by one of `obj`'s labels, or undefined. For objects tied to a
 * cluster by label rather than owner (pods of a StatefulSet carry the cluster's name in a label).
 */
export function labelKey(obj: KubernetesObject, label: string): string | undefined {
  const value = obj.metadata?.labels?.[label];
  if (value === undefined || value === '') return undefined;
  const namespace = obj.metadata?.namespace;
  return namespace === undefined || namespace === '' ? value : `${namespace}/${value}`;
}
