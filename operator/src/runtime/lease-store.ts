import { ApiException, V1MicroTime } from '@kubernetes/client-node';
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';

/**
 * What leader election reads and writes on its Lease (client-go's `LeaderElectionRecord`). An empty
 * `holderIdentity` means released: anyone may take it at once.
 */
export interface LeaderElectionRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: Date | undefined;
  renewTime: Date | undefined;
  leaseTransitions: number;
}

export interface StoredLease {
  record: LeaderElectionRecord;
  /** The optimistic-concurrency token an update must carry. */
  resourceVersion: string;
}

/** Another writer changed (or created) the Lease first: HTTP 409. The write did not happen. */
export class LeaseConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaseConflictError';
  }
}

/**
 * The Lease I/O leader election needs, nothing more (client-go's `resourcelock.Interface`), so the
 * election logic is tested against an in-memory store and runs against the API server unchanged.
 */
export interface LeaseStore {
  /** `undefined` when the Lease does not exist. */
  get(): Promise<StoredLease | undefined>;
  /** Throws `LeaseConflictError` if it already exists. */
  create(record: LeaderElectionRecord): Promise<StoredLease>;
  /** Throws `LeaseConflictError` if `resourceVersion` is no longer current. */
  update(record: LeaderElectionRecord, resourceVersion: string): Promise<StoredLease>;
  /** `namespace/name`, for logs. */
  describe(): string;
}

/** A `coordination.k8s.io/v1` Lease through client-node's `CoordinationV1Api`. */
export class KubernetesLeaseStore implements LeaseStore {
  constructor(
    private readonly api: CoordinationV1Api,
    readonly namespace: string,
    readonly name: string,
  ) {}

  describe(): string {
    return `${this.namespace}/${this.name}`;
  }

  async get(): Promise<StoredLease | undefined> {
    try {
      return fromLease(await this.api.readNamespacedLease({ name: this.name, namespace: this.namespace }));
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  async create(record: LeaderElectionRecord): Promise<StoredLease> {
    return this.#write(() =>
      this.api.createNamespacedLease({ namespace: this.namespace, body: this.#toLease(record, undefined) }),
    );
  }

  async update(record: LeaderElectionRecord, resourceVersion: string): Promise<StoredLease> {
    return this.#write(() =>
      this.api.replaceNamespacedLease({
        name: this.name,
        namespace: this.namespace,
        body: this.#toLease(record, resourceVersion),
      }),
    );
  }

  async #write(call: () => Promise<V1Lease>): Promise<StoredLease> {
    try {
      return fromLease(await call());
    } catch (err) {
      if (err instanceof ApiException && err.code === 409) {
        throw new LeaseConflictError(`lease ${this.describe()}: ${err.message}`);
      }
      throw err;
    }
  }

  #toLease(record: LeaderElectionRecord, resourceVersion: string | undefined): V1Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace, resourceVersion },
      spec: {
        holderIdentity: record.holderIdentity,
        leaseDurationSeconds: record.leaseDurationSeconds,
        // V1MicroTime serializes six fractional digits (…123000Z), which metav1.MicroTime's parser
        // (layout RFC3339Micro) insists on; a plain Date's milliseconds-only string does not parse.
        acquireTime: record.acquireTime && new V1MicroTime(record.acquireTime.getTime()),
        renewTime: record.renewTime && new V1MicroTime(record.renewTime.getTime()),
        leaseTransitions: record.leaseTransitions,
      },
    };
  }
}

/**
 * client-node 1.4 does not deserialize MicroTime fields (its serializer has no `V1MicroTime` type, so
 * the RFC 3339 string comes back as is despite the declared type): accept either.
 */
function toDate(value: unknown): Date | undefined {
  if (value instanceof Date) return value;
  if (typeof value === 'string' && value !== '') {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  return undefined;
}

export function fromLease(lease: V1Lease): StoredLease {
  const spec = lease.spec ?? {};
  return {
    resourceVersion: lease.metadata?.resourceVersion ?? '',
    record: {
      holderIdentity: spec.holderIdentity ?? '',
      leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
      acquireTime: toDate(spec.acquireTime),
      renewTime: toDate(spec.renewTime),
      leaseTransitions: spec.leaseTransitions ?? 0,
    },
  };
}
