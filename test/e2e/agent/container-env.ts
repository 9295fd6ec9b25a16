// A container's environment as the kubelet builds it: the image's PATH, HOSTNAME, service links
// (KUBERNETES_SERVICE_HOST… and, with enableServiceLinks, one set per Service of the namespace),
// envFrom, then env in order — values expanded with $(VAR) against what came before, valueFrom from the
// downward API, ConfigMaps and Secrets. Command and args are expanded the same way.
import type { V1Container, V1Pod, V1Service } from '@kubernetes/client-node';
import { readSource, type SourceKind } from './config-source.js';
import { isNotFound, type Kube } from './kube.js';
import { IMAGE_PATH } from './images.js';
import { podFieldValue, resourceFieldValue } from './volumes.js';

export class ConfigError extends Error {}

export async function containerEnv(
  kube: Kube,
  pod: V1Pod,
  container: V1Container,
  hostname: string,
): Promise<Map<string, string>> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const env = new Map<string, string>([
    ['PATH', IMAGE_PATH],
    ['HOSTNAME', hostname],
    ['HOME', '/root'],
  ]);
  for (const [k, v] of await serviceLinks(kube, namespace, pod.spec?.enableServiceLinks !== false))
    env.set(k, v);
  for (const source of container.envFrom ?? []) {
    const prefix = source.prefix ?? '';
    const ref = source.configMapRef ?? source.secretRef;
    const kind = source.configMapRef !== undefined ? 'configmap' : 'secret';
    const data =
      ref === undefined ? undefined : await readStrings(kube, kind, namespace, ref.name ?? '', ref.optional);
    for (const [k, v] of Object.entries(data ?? {})) env.set(prefix + k, v);
  }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    let value: string | undefined;
    if (from === undefined) value = expand(variable.value ?? '', env);
    else if (from.fieldRef !== undefined) value = podFieldValue(pod, from.fieldRef.fieldPath, false);
    else if (from.resourceFieldRef !== undefined) {
      value = resourceFieldValue(pod, { containerName: container.name, ...from.resourceFieldRef });
    } else if (from.configMapKeyRef !== undefined) {
      const ref = from.configMapKeyRef;
      value = (await readStrings(kube, 'configmap', namespace, ref.name ?? '', ref.optional))?.[ref.key];
      if (value === undefined && ref.optional !== true) {
        throw new ConfigError(`couldn't find key ${ref.key} in ConfigMap ${namespace}/${ref.name ?? ''}`);
      }
    } else if (from.secretKeyRef !== undefined) {
      const ref = from.secretKeyRef;
      value = (await readStrings(kube, 'secret', namespace, ref.name ?? '', ref.optional))?.[ref.key];
      if (value === undefined && ref.optional !== true) {
        throw new ConfigError(`couldn't find key ${ref.key} in Secret ${namespace}/${ref.name ?? ''}`);
      }
    }
    if (value !== undefined) env.set(variable.name, value);
  }
  return env;
}

/**
 * Kubernetes' $(VAR) expansion: a defined variable is replaced, an undefined reference is kept as
 * written, and $$ escapes a dollar.
 */
export function expand(input: string, env: ReadonlyMap<string, string>): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c !== '$' || i + 1 >= input.length) {
      out += c;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close === -1) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      const value = env.get(name);
      out += value ?? `$(${name})`;
      i = close;
    } else {
      out += c;
    }
  }
  return out;
}

/** The Docker-link style variables of a Service, as the kubelet writes them. */
export function serviceEnv(service: V1Service): Map<string, string> {
  const env = new Map<string, string>();
  const ip = service.spec?.clusterIP;
  const ports = service.spec?.ports ?? [];
  if (ip === undefined || ip === '' || ip === 'None' || ports.length === 0) return env;
  const name = (service.metadata?.name ?? '').toUpperCase().replace(/-/g, '_');
  const first = ports[0];
  if (first === undefined) return env;
  env.set(`${name}_SERVICE_HOST`, ip);
  env.set(`${name}_SERVICE_PORT`, String(first.port));
  for (const port of ports) {
    if (port.name !== undefined && port.name !== '') {
      env.set(`${name}_SERVICE_PORT_${port.name.toUpperCase().replace(/-/g, '_')}`, String(port.port));
    }
  }
  const firstProto = (first.protocol ?? 'TCP').toLowerCase();
  env.set(`${name}_PORT`, `${firstProto}://${ip}:${first.port}`);
  for (const port of ports) {
    const proto = port.protocol ?? 'TCP';
    const prefix = `${name}_PORT_${port.port}_${proto}`;
    env.set(prefix, `${proto.toLowerCase()}://${ip}:${port.port}`);
    env.set(`${prefix}_PROTO`, proto.toLowerCase());
    env.set(`${prefix}_PORT`, String(port.port));
    env.set(`${prefix}_ADDR`, ip);
  }
  return env;
}

async function serviceLinks(kube: Kube, namespace: string, all: boolean): Promise<Map<string, string>> {
  const env = new Map<string, string>();
  if (all) {
    const services = await kube.core.listNamespacedService({ namespace });
    for (const service of services.items) for (const [k, v] of serviceEnv(service)) env.set(k, v);
  }
  // The master service is always there, from the default namespace (the kubelet's rule).
  try {
    const master = await kube.core.readNamespacedService({ name: 'kubernetes', namespace: 'default' });
    for (const [k, v] of serviceEnv(master)) env.set(k, v);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  return env;
}

/** A ConfigMap's or Secret's keys as strings; undefined when it is missing and optional. */
async function readStrings(
  kube: Kube,
  kind: SourceKind,
  namespace: string,
  name: string,
  optional: boolean | undefined,
): Promise<Record<string, string> | undefined> {
  const data = await readSource(kube, kind, namespace, name);
  if (data === undefined) {
    if (optional === true) return undefined;
    throw new ConfigError(`${kind} "${name}" not found`);
  }
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.toString()]));
}
