// Small shapes of Kubernetes API calls every controller's KubeOps uses: a read that may find nothing, a
// delete of something that may already be gone, a JSON merge patch, and server-side apply as the operator.
import {
  PatchStrategy,
  setHeaderOptions,
  type CustomObjectsApi,
  type KubernetesObject,
  type KubernetesObjectApi,
} from '@kubernetes/client-node';

export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The HTTP status of a client-node ApiException, if it is one. */
export function statusCode(err: unknown): number | undefined {
  const c = (err as { code?: unknown }).code;
  return typeof c === 'number' ? c : undefined;
}

/** The object, or undefined when the API answers 404. */
export async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (statusCode(err) === 404) return undefined;
    throw err;
  }
}

/** A call whose 404 means the work is already done (a delete, a patch of something gone). */
export async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (statusCode(err) !== 404) throw err;
  }
}

/** Creates or updates an object with server-side apply, as `fieldManager`, forcing its own fields. */
export async function serverSideApply(
  objects: KubernetesObjectApi,
  obj: KubernetesObject,
  fieldManager: string,
): Promise<void> {
  await objects.patch(obj, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply);
}

/** Merge-patches the status subresource of one of the operator's own objects (group cairn.dev). */
export async function patchCustomStatus(
  custom: CustomObjectsApi,
  api: { group: string; version: string; plural: string },
  obj: { metadata: { namespace: string; name: string } },
  status: object,
): Promise<void> {
  await custom.patchNamespacedCustomObjectStatus(
    { ...api, namespace: obj.metadata.namespace, name: obj.metadata.name, body: { status } },
    mergePatch,
  );
}

/** One of the operator's own objects (group cairn.dev), or undefined when it does not exist. */
export async function getCustomObject<T>(
  custom: CustomObjectsApi,
  api: { group: string; version: string; plural: string },
  namespace: string,
  name: string,
): Promise<T | undefined> {
  const obj: unknown = await orUndefined<unknown>(
    custom.getNamespacedCustomObject({ ...api, namespace, name }),
  );
  return obj as T | undefined;
}

/** A Kubernetes timestamp: RFC 3339 in UTC, whole seconds (metav1.Time's format). */
export function kubeTime(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}
