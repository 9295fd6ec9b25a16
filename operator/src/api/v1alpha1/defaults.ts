// The spec with every default filled in. The defaults are the schema's own `default` annotations
// (kvcluster.ts), applied by TypeBox exactly as the API server applies them from the CRD, so a spec the
// operator reads has the same values whether or not the API server defaulted it (an object created before
// a default existed, a unit test's fixture).
import Value from 'typebox/value';
import { KVClusterSpecSchema, type KVClusterSpec } from './kvcluster.js';

type Spec = KVClusterSpec;
type Storage = NonNullable<Spec['storage']>;
type Config = NonNullable<Spec['config']>;

export interface ResolvedStorage extends Storage {
  size: string | number;
  retentionPolicy: { whenDeleted: 'Retain' | 'Delete'; whenScaled: 'Retain' | 'Delete' };
}

export interface ResolvedConfig extends Config {
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  quotaBackendBytes: number;
  snapshotCount: number;
  maxRequestBytes: number;
}

export interface ResolvedSpec extends Spec {
  replicas: number;
  storage: ResolvedStorage;
  config: ResolvedConfig;
  paused: boolean;
}

export function resolveSpec(spec: KVClusterSpec): ResolvedSpec {
  const copy = Value.Clone(spec);
  // Nested defaults apply only below objects that exist; create the defaulted parents first, as the API
  // server does with their `default: {}`.
  copy.storage ??= {};
  copy.storage.retentionPolicy ??= {};
  copy.config ??= {};
  return Value.Default(KVClusterSpecSchema, copy) as ResolvedSpec;
}
