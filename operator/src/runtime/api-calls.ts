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

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The JSON merge patch (RFC 7386) that turns `before` into `after`. Leaving a key out of a merge patch
 * keeps it, so a key `after` lacks is sent as null (removed), in nested objects too; arrays and scalars
 * are replaced whole.
 */
export function mergePatchTo(before: unknown, after: unknown): unknown {
  if (!isPlainObject(before) || !isPlainObject(after)) return after;
  const patch: Record<string, unknown> = {};
  for (const k of Object.keys(before)) if (!(k in after) || after[k] === undefined) patch[k] = null;
  for (const [k, v] of Object.entries(after)) if (v !== undefined) patch[k] = mergePatchTo(before[k], v);
  return patch;
}

/**
 * Sets the status subresource of one of the operator's own objects (group cairn.dev) to `status`: a
 * merge patch from the status the object was read with, so fields the new status leaves out go.
 */
export async function patchCustomStatus(
  custom: CustomObjectsApi,
  api: { group: string; version: string; plural: string },
  obj: { metadata: { namespace: string; name: string }; status?: object },
  status: object,
): Promise<void> {
  const body = { status: mergePatchTo(obj.status ?? {}, status) };
  await custom.patchNamespacedCustomObjectStatus(
    { ...api, namespace: obj.metadata.namespace, name: obj.metadata.name, body },
    mergePatch,
  );
}

/** Merge-patches one of the operator's own objects (its metadata, say); one already gone is left so. */
export async function patchCustomObject(
  custom: CustomObjectsApi,
  api: { group: string; version: string; plural: string },
  namespace: string,
  name: string,
  body: object,
): Promise<void> {
  await ignoreNotFound(custom.patchNamespacedCustomObject({ ...api, namespace, name, body }, mergePatch));
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
