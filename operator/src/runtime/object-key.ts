import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * Work-queue keys are `namespace/name` (client-go's `MetaNamespaceKeyFunc`), or just `name` for a
 * cluster-scoped object. A key, not the object, goes in the queue: the reconciler reads the latest state
 * when it runs, so it never acts on a stale copy captured at event time.
 */
export function objectKey(obj: KubernetesObject): string {
  const name = obj.metadata?.name;
  if (name === undefined || name === '') throw new Error(`object key: ${obj.kind ?? 'object'} has no name`);
  const namespace = obj.metadata?.namespace;
  return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
}

/** The inverse of `objectKey` (client-go's `SplitMetaNamespaceKey`); namespace is '' when cluster-scoped. */
export function splitKey(key: string): { namespace: string; name: string } {
  const parts = key.split('/');
  if (parts.length === 1 && parts[0] !== '') return { namespace: '', name: key };
  if (parts.length === 2 && parts[0] !== '' && parts[1] !== '') {
    return { namespace: parts[0] ?? '', name: parts[1] ?? '' };
  }
  throw new Error(`object key: unexpected key format ${JSON.stringify(key)}`);
}
