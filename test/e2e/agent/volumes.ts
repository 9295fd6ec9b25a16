// A pod's volumes as host directories, ready to be bound into its containers at their mountPaths:
// emptyDir → a directory of the pod; persistentVolumeClaim → the bound PV's directory (see
// provisioner.ts); hostPath; configMap, secret, downwardAPI and projected (including service account
// tokens from the TokenRequest API) → files written with their modes. A volume the agent cannot
// provide fails with a message for a FailedMount event, and the pod waits, as with a real kubelet.
import type {
  V1DownwardAPIVolumeFile,
  V1KeyToPath,
  V1Pod,
  V1Volume,
  V1VolumeMount,
  V1ServiceAccountTokenProjection,
} from '@kubernetes/client-node';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { readSource, type SourceKind } from './config-source.js';
import { describeError, isNotFound, type Kube } from './kube.js';

export interface PreparedVolume {
  hostPath: string;
  readOnly: boolean;
}

export class VolumeError extends Error {}

/** The kubelet's default file mode for configMap/secret/downwardAPI/projected volumes. */
const DEFAULT_MODE = 0o644;

export async function prepareVolumes(
  kube: Kube,
  pod: V1Pod,
  podDir: string,
): Promise<Map<string, PreparedVolume>> {
  const prepared = new Map<string, PreparedVolume>();
  for (const volume of pod.spec?.volumes ?? []) {
    prepared.set(volume.name, await prepareVolume(kube, pod, podDir, volume));
  }
  return prepared;
}

async function prepareVolume(
  kube: Kube,
  pod: V1Pod,
  podDir: string,
  volume: V1Volume,
): Promise<PreparedVolume> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const own = join(podDir, 'volumes', volume.name);
  if (volume.emptyDir !== undefined) {
    await mkdir(own, { recursive: true });
    // World-writable, as the kubelet makes an emptyDir: whatever user the containers run as may write.
    await chmod(own, 0o777);
    return { hostPath: own, readOnly: false };
  }
  if (volume.hostPath !== undefined) {
    const type = volume.hostPath.type ?? '';
    if (type === 'DirectoryOrCreate') await mkdir(volume.hostPath.path, { recursive: true });
    else if (!existsSync(volume.hostPath.path) && type !== '') {
      throw new VolumeError(`hostPath ${volume.hostPath.path} does not exist (type ${type})`);
    }
    return { hostPath: volume.hostPath.path, readOnly: false };
  }
  if (volume.persistentVolumeClaim !== undefined) {
    return {
      hostPath: await claimDirectory(kube, namespace, volume.persistentVolumeClaim.claimName),
      readOnly: volume.persistentVolumeClaim.readOnly === true,
    };
  }
  const files = new Map<string, { content: Buffer; mode: number }>();
  if (volume.configMap !== undefined) {
    const cm = volume.configMap;
    await addSource(
      kube,
      'configmap',
      namespace,
      cm.name ?? '',
      cm.items,
      cm.optional,
      cm.defaultMode,
      files,
    );
  } else if (volume.secret !== undefined) {
    const s = volume.secret;
    await addSource(kube, 'secret', namespace, s.secretName ?? '', s.items, s.optional, s.defaultMode, files);
  } else if (volume.downwardAPI !== undefined) {
    addDownwardAPI(pod, volume.downwardAPI.items ?? [], volume.downwardAPI.defaultMode, files);
  } else if (volume.projected !== undefined) {
    const mode = volume.projected.defaultMode;
    for (const source of volume.projected.sources ?? []) {
      if (source.configMap !== undefined) {
        const cm = source.configMap;
        await addSource(kube, 'configmap', namespace, cm.name ?? '', cm.items, cm.optional, mode, files);
      } else if (source.secret !== undefined) {
        const s = source.secret;
        await addSource(kube, 'secret', namespace, s.name ?? '', s.items, s.optional, mode, files);
      } else if (source.downwardAPI !== undefined) {
        addDownwardAPI(pod, source.downwardAPI.items ?? [], mode, files);
      } else if (source.serviceAccountToken !== undefined) {
        const token = await serviceAccountToken(kube, pod, source.serviceAccountToken);
        files.set(source.serviceAccountToken.path, {
          content: Buffer.from(token),
          mode: mode ?? DEFAULT_MODE,
        });
      } else {
        throw new VolumeError(`projected volume ${volume.name}: a source kind the e2e node does not provide`);
      }
    }
  } else {
    throw new VolumeError(
      `volume ${volume.name}: only emptyDir, hostPath, persistentVolumeClaim, configMap, secret, ` +
        'downwardAPI and projected volumes exist on the e2e node',
    );
  }
  // Rewritten whole on every (re)start of the pod's sandbox, like the kubelet's atomic writer.
  await rm(own, { recursive: true, force: true });
  await mkdir(own, { recursive: true });
  for (const [path, file] of files) {
    const target = join(own, safeRelative(path));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.content);
    await chmod(target, file.mode);
  }
  return { hostPath: own, readOnly: true };
}

/** A claim's directory: the claim must be Bound to a PV with a local path. */
async function claimDirectory(kube: Kube, namespace: string, claimName: string): Promise<string> {
  let claim;
  try {
    claim = await kube.core.readNamespacedPersistentVolumeClaim({ name: claimName, namespace });
  } catch (err) {
    if (isNotFound(err)) throw new VolumeError(`persistentvolumeclaim "${claimName}" not found`);
    throw new VolumeError(`persistentvolumeclaim "${claimName}": ${describeError(err)}`);
  }
  const pvName = claim.spec?.volumeName;
  if (claim.status?.phase !== 'Bound' || pvName === undefined || pvName === '') {
    throw new VolumeError(`persistentvolumeclaim "${claimName}" is not bound`);
  }
  const pv = await kube.core.readPersistentVolume({ name: pvName });
  const path = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
  if (path === undefined) throw new VolumeError(`persistentvolume "${pvName}" has no hostPath or local path`);
  await mkdir(path, { recursive: true });
  return path;
}

async function addSource(
  kube: Kube,
  kind: SourceKind,
  namespace: string,
  name: string,
  items: V1KeyToPath[] | undefined,
  optional: boolean | undefined,
  defaultMode: number | undefined,
  files: Map<string, { content: Buffer; mode: number }>,
): Promise<void> {
  const data = await readSource(kube, kind, namespace, name);
  if (data === undefined && optional !== true) throw new VolumeError(`${kind} "${name}" not found`);
  addKeys(`${kind} "${name}"`, data ?? {}, items, optional, defaultMode, files);
}

function addKeys(
  what: string,
  data: Record<string, Buffer>,
  items: V1KeyToPath[] | undefined,
  optional: boolean | undefined,
  defaultMode: number | undefined,
  files: Map<string, { content: Buffer; mode: number }>,
): void {
  const mode = defaultMode ?? DEFAULT_MODE;
  if (items === undefined || items.length === 0) {
    for (const [key, content] of Object.entries(data)) files.set(key, { content, mode });
    return;
  }
  for (const item of items) {
    const content = data[item.key];
    if (content === undefined) {
      if (optional === true) continue;
      throw new VolumeError(`${what} has no key "${item.key}"`);
    }
    files.set(item.path, { content, mode: item.mode ?? mode });
  }
}

function addDownwardAPI(
  pod: V1Pod,
  items: V1DownwardAPIVolumeFile[],
  defaultMode: number | undefined,
  files: Map<string, { content: Buffer; mode: number }>,
): void {
  for (const item of items) {
    let value: string;
    if (item.fieldRef !== undefined) value = podFieldValue(pod, item.fieldRef.fieldPath, true);
    else if (item.resourceFieldRef !== undefined) value = resourceFieldValue(pod, item.resourceFieldRef);
    else throw new VolumeError(`downwardAPI item ${item.path} has neither fieldRef nor resourceFieldRef`);
    files.set(item.path, { content: Buffer.from(value), mode: item.mode ?? defaultMode ?? DEFAULT_MODE });
  }
}

/**
 * The downward API's pod fields. Labels and annotations are only available as files (`asFile`), in the
 * kubelet's `key="value"` line format.
 */
export function podFieldValue(pod: V1Pod, fieldPath: string, asFile: boolean): string {
  const meta = pod.metadata ?? {};
  const keyed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (keyed !== null) {
    const map = keyed[1] === 'labels' ? meta.labels : meta.annotations;
    return map?.[keyed[2] ?? ''] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      return pod.status?.podIP ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return pod.status?.hostIP ?? '';
  }
  if (asFile && (fieldPath === 'metadata.labels' || fieldPath === 'metadata.annotations')) {
    const map = fieldPath === 'metadata.labels' ? meta.labels : meta.annotations;
    return Object.entries(map ?? {})
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join('\n');
  }
  throw new VolumeError(`unsupported downward API field ${fieldPath}`);
}

export function resourceFieldValue(
  pod: V1Pod,
  ref: { containerName?: string; resource: string; divisor?: unknown },
): string {
  const container =
    (pod.spec?.containers ?? []).find((c) => c.name === ref.containerName) ?? pod.spec?.containers?.[0];
  const [kind, resource] = ref.resource.split('.');
  const map = kind === 'limits' ? container?.resources?.limits : container?.resources?.requests;
  const value = resource === undefined ? undefined : map?.[resource];
  // Without a limit the kubelet reports the node's allocatable; the e2e node's are in node-registrar.ts.
  if (value === undefined) return resource === 'cpu' ? '4' : '8589934592';
  return String(value);
}

async function serviceAccountToken(
  kube: Kube,
  pod: V1Pod,
  projection: V1ServiceAccountTokenProjection,
): Promise<string> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const account = pod.spec?.serviceAccountName ?? 'default';
  const response = await kube.core.createNamespacedServiceAccountToken({
    name: account,
    namespace,
    body: {
      spec: {
        audiences:
          projection.audience !== undefined && projection.audience !== '' ? [projection.audience] : [],
        expirationSeconds: projection.expirationSeconds ?? 3607,
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata?.name, uid: pod.metadata?.uid },
      },
    },
  });
  const token = response.status?.token;
  if (token === undefined)
    throw new VolumeError(`no token issued for serviceaccount ${namespace}/${account}`);
  return token;
}

/** A volume mount's source on the host: the volume's directory, or a subPath inside it. */
export async function mountSource(
  mount: V1VolumeMount,
  volumes: Map<string, PreparedVolume>,
  expand: (s: string) => string,
): Promise<{ source: string; readOnly: boolean }> {
  const volume = volumes.get(mount.name);
  if (volume === undefined) throw new VolumeError(`volumeMount ${mount.name}: no volume of that name`);
  const sub = mount.subPathExpr !== undefined ? expand(mount.subPathExpr) : mount.subPath;
  let source = volume.hostPath;
  if (sub !== undefined && sub !== '') {
    source = join(volume.hostPath, safeRelative(sub));
    if (!existsSync(source)) await mkdir(source, { recursive: true });
  }
  return { source, readOnly: volume.readOnly || mount.readOnly === true };
}

/** Keys and subPaths are relative paths that must stay inside their volume. */
function safeRelative(path: string): string {
  const clean = normalize(path);
  if (clean.startsWith('/') || clean === '..' || clean.startsWith('../')) {
    throw new VolumeError(`path ${path} leaves its volume`);
  }
  return clean;
}
