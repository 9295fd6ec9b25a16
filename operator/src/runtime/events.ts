import { hostname } from 'node:os';
import { ApiException, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { CoreV1Api, CoreV1Event, KubernetesObject, V1ObjectReference } from '@kubernetes/client-node';
import type { Clock } from './clock.js';
import { realClock } from './clock.js';
import type { Logger } from './logger.js';
import { errorMessage } from './logger.js';

export type EventType = 'Normal' | 'Warning';

/** The fields a repeat of an Event changes (client-go's event correlator patches the same ones). */
export interface EventRepeatPatch {
  count: number;
  lastTimestamp: string;
  message: string;
}

/** Where Events go: the API server, or an array in tests. */
export interface EventSink {
  create(namespace: string, event: CoreV1Event): Promise<void>;
  /** Resolves `false` when the Event no longer exists (Events expire, 1 h by default). */
  patch(namespace: string, name: string, patch: EventRepeatPatch): Promise<boolean>;
}

export interface EventRecorderOptions {
  sink: EventSink;
  logger: Logger;
  /** `source.component` and `reportingComponent`. */
  component?: string;
  /** `source.host` and `reportingInstance`; the pod name by default. */
  host?: string;
  /** Distinct events remembered for de-duplication; least recently used forgotten first. */
  cacheEntriesMax?: number;
  clock?: Clock;
}

export const DEFAULT_EVENT_COMPONENT = 'cairn-operator';
export const DEFAULT_EVENT_CACHE_ENTRIES_MAX = 4096;
/** The API server refuses longer Event messages; client-go truncates at the same length. */
export const EVENT_MESSAGE_CHARS_MAX = 1024;

interface CacheEntry {
  namespace: string;
  /** The Event's name once created; undefined until then (or after a failed create). */
  name: string | undefined;
  count: number;
  /** Sends for one entry run one after another, so a repeat patches the Event its first send created. */
  chain: Promise<void>;
}

/**
 * Records Kubernetes Events about any object, like client-go's EventRecorder with its correlator's
 * de-duplication: the same (object, type, reason, message) again bumps `count` and `lastTimestamp` on
 * the existing Event instead of creating a new one, so a reconcile that repeats a warning every pass
 * does not flood the namespace.
 *
 * Recording never throws into the reconciler and never blocks it: sends run in the background, failures
 * are logged. `flush()` waits for them (shutdown, tests).
 */
export class EventRecorder {
  readonly #sink: EventSink;
  readonly #logger: Logger;
  readonly #component: string;
  readonly #host: string;
  readonly #cacheEntriesMax: number;
  readonly #clock: Clock;
  /** Insertion order is recency order: a hit is moved to the end, eviction takes the first. */
  readonly #cache = new Map<string, CacheEntry>();
  readonly #pending = new Set<Promise<void>>();
  #nameSeq = 0;

  constructor(opts: EventRecorderOptions) {
    const cacheEntriesMax = opts.cacheEntriesMax ?? DEFAULT_EVENT_CACHE_ENTRIES_MAX;
    if (!Number.isInteger(cacheEntriesMax) || cacheEntriesMax < 1) {
      throw new Error(`event recorder: cacheEntriesMax must be a positive integer, got ${cacheEntriesMax}`);
    }
    this.#sink = opts.sink;
    this.#logger = opts.logger;
    this.#component = opts.component ?? DEFAULT_EVENT_COMPONENT;
    this.#host = opts.host ?? hostname();
    this.#cacheEntriesMax = cacheEntriesMax;
    this.#clock = opts.clock ?? realClock;
  }

  normal(obj: KubernetesObject, reason: string, message: string): void {
    this.event(obj, 'Normal', reason, message);
  }

  warning(obj: KubernetesObject, reason: string, message: string): void {
    this.event(obj, 'Warning', reason, message);
  }

  /** `fieldPath` narrows the event to a part of the object (a pod's container: `spec.containers{name}`). */
  event(obj: KubernetesObject, type: EventType, reason: string, message: string, fieldPath?: string): void {
    try {
      const involved = { ...involvedObjectOf(obj), ...(fieldPath !== undefined ? { fieldPath } : {}) };
      const text =
        message.length > EVENT_MESSAGE_CHARS_MAX ? message.slice(0, EVENT_MESSAGE_CHARS_MAX) : message;
      const key = JSON.stringify([
        involved.apiVersion,
        involved.kind,
        involved.namespace,
        involved.name,
        involved.uid,
        involved.fieldPath,
        type,
        reason,
        text,
      ]);
      const entry = this.#touch(key, involved.namespace || 'default');
      const at = new Date(this.#clock.now());
      const send = entry.chain.then(() => this.#send(entry, involved, type, reason, text, at));
      entry.chain = send;
      this.#pending.add(send);
      void send.finally(() => this.#pending.delete(send));
    } catch (err) {
      this.#logger.warn('event not recorded', { reason, error: errorMessage(err) });
    }
  }

  /** Resolves once every event recorded so far has been sent (or its failure logged). */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  #touch(key: string, namespace: string): CacheEntry {
    let entry = this.#cache.get(key);
    if (entry !== undefined) {
      this.#cache.delete(key);
    } else {
      entry = { namespace, name: undefined, count: 0, chain: Promise.resolve() };
      if (this.#cache.size >= this.#cacheEntriesMax) {
        const oldest = this.#cache.keys().next();
        if (oldest.done !== true) this.#cache.delete(oldest.value);
      }
    }
    this.#cache.set(key, entry);
    return entry;
  }

  /** Never rejects: this runs detached from the caller. */
  async #send(
    entry: CacheEntry,
    involved: V1ObjectReference,
    type: EventType,
    reason: string,
    message: string,
    at: Date,
  ): Promise<void> {
    try {
      if (entry.name !== undefined) {
        const patched = await this.#sink.patch(entry.namespace, entry.name, {
          count: entry.count + 1,
          lastTimestamp: at.toISOString(),
          message,
        });
        if (patched) {
          entry.count++;
          return;
        }
        // The Event expired meanwhile: start a new one.
      }
      const name = `${involved.name}.${this.#nameSuffix(at)}`;
      await this.#sink.create(entry.namespace, {
        metadata: { name, namespace: entry.namespace },
        involvedObject: involved,
        type,
        reason,
        message,
        count: 1,
        firstTimestamp: at,
        lastTimestamp: at,
        source: { component: this.#component, host: this.#host },
        reportingComponent: this.#component,
        reportingInstance: this.#host,
      });
      entry.name = name;
      entry.count = 1;
    } catch (err) {
      this.#logger.warn('could not write event', {
        namespace: involved.namespace,
        name: involved.name,
        kind: involved.kind,
        reason,
        error: errorMessage(err),
      });
    }
  }

  /** client-go names Events `<object>.<unix nanos in hex>`; the sequence keeps one millisecond unique. */
  #nameSuffix(at: Date): string {
    const seq = BigInt(this.#nameSeq++ % 1_000_000);
    return (BigInt(at.getTime()) * 1_000_000n + seq).toString(16);
  }
}

/** The Event's `involvedObject`: enough to find the object and tell its incarnations apart (uid). */
export function involvedObjectOf(obj: KubernetesObject): V1ObjectReference {
  const name = obj.metadata?.name;
  if (obj.kind === undefined || obj.apiVersion === undefined || name === undefined) {
    // Objects from list responses have no kind/apiVersion; the caller must set them (client-go asks
    // its scheme, which we do not have).
    throw new Error('the object needs apiVersion, kind and metadata.name to be referenced by an event');
  }
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    namespace: obj.metadata?.namespace,
    name,
    uid: obj.metadata?.uid,
    resourceVersion: obj.metadata?.resourceVersion,
  };
}

/** Events through client-node's `CoreV1Api`; repeats are JSON merge patches. */
export class KubernetesEventSink implements EventSink {
  constructor(private readonly api: CoreV1Api) {}

  async create(namespace: string, event: CoreV1Event): Promise<void> {
    await this.api.createNamespacedEvent({ namespace, body: event });
  }

  async patch(namespace: string, name: string, patch: EventRepeatPatch): Promise<boolean> {
    try {
      await this.api.patchNamespacedEvent(
        { namespace, name, body: patch },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      return true;
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return false;
      throw err;
    }
  }
}
