// ConfigMaps and Secrets as the places env vars and volume files come from: their keys as bytes.
import { isNotFound, type Kube } from './kube.js';

export type SourceKind = 'configmap' | 'secret';

/** The object's keys (Secret data decoded; ConfigMap binaryData included); undefined when it does not exist. */
export async function readSource(
  kube: Kube,
  kind: SourceKind,
  namespace: string,
  name: string,
): Promise<Record<string, Buffer> | undefined> {
  const data: Record<string, Buffer> = {};
  try {
    if (kind === 'configmap') {
      const cm = await kube.core.readNamespacedConfigMap({ name, namespace });
      for (const [k, v] of Object.entries(cm.data ?? {})) data[k] = Buffer.from(v);
      for (const [k, v] of Object.entries(cm.binaryData ?? {})) data[k] = Buffer.from(v, 'base64');
    } else {
      const secret = await kube.core.readNamespacedSecret({ name, namespace });
      for (const [k, v] of Object.entries(secret.data ?? {})) data[k] = Buffer.from(v, 'base64');
      for (const [k, v] of Object.entries(secret.stringData ?? {})) data[k] = Buffer.from(v);
    }
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  return data;
}
