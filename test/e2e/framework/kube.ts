// Helpers for the end-to-end suite (test/e2e/suite), which `npm run test:e2e` runs inside the
// environment's network namespace with KUBECONFIG, CAIRN_E2E_KUBECTL and CAIRN_E2E_RUN_DIR set.
// Everything goes through the real kubectl; pod logs are read from the node agent's log files.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function e2eEnv(name: string): string {
  const v = process.env[name];
  if (v === undefined || v === '')
    throw new Error(`${name} is not set: run the e2e suite with npm run test:e2e`);
  return v;
}

const KUBECTL_TIMEOUT_MS = 60_000;

export interface KubectlOptions {
  input?: string;
  timeoutMs?: number;
}

export function kubectl(args: readonly string[], opts: KubectlOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      e2eEnv('CAIRN_E2E_KUBECTL'),
      ['--kubeconfig', e2eEnv('KUBECONFIG'), ...args],
      { timeout: opts.timeoutMs ?? KUBECTL_TIMEOUT_MS, maxBuffer: 16 << 20 },
      (err, stdout, stderr) =>
        err !== null
          ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr.trim() || err.message}`))
          : resolve(stdout),
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export async function getJson<T>(args: readonly string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
}

export interface EventJson {
  reason: string;
  message: string;
  type: string;
  count?: number;
  series?: { count: number };
}

/** The Events of the object `name` in a namespace (of one kind, if given). */
export async function eventsOf(namespace: string, name: string, kind?: string): Promise<EventJson[]> {
  const selector = `${kind !== undefined ? `involvedObject.kind=${kind},` : ''}involvedObject.name=${name}`;
  const list = await getJson<{ items: EventJson[] }>([
    'get',
    'events',
    '-n',
    namespace,
    '--field-selector',
    selector,
  ]);
  return list.items;
}

export function apply(namespace: string, manifest: string): Promise<string> {
  return kubectl(['apply', '-n', namespace, '-f', '-'], { input: manifest });
}

/**
 * Polls `probe` until it returns a value other than undefined; fails after timeoutMs with what it was
 * waiting for and the last thing it saw.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A namespace of the test's own, deleted (and waited for) afterwards. */
export async function createNamespace(name: string): Promise<void> {
  await kubectl(['create', 'namespace', name]);
  // The service account controller creates `default` shortly after; pods are refused until it exists.
  await waitFor(
    `serviceaccount default in ${name}`,
    async () =>
      (
        await kubectl(['get', 'serviceaccount', 'default', '-n', name, '--ignore-not-found', '-o', 'name'])
      ).trim() || undefined,
    30_000,
  );
}

export async function deleteNamespace(name: string): Promise<void> {
  await kubectl(['delete', 'namespace', name, '--wait=true', '--timeout=120s'], { timeoutMs: 130_000 });
}

export interface PodJson {
  metadata: { name: string; uid: string; creationTimestamp: string; labels?: Record<string, string> };
  spec: { nodeName?: string; volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[] };
  status: {
    phase: string;
    podIP?: string;
    conditions?: { type: string; status: string; lastTransitionTime: string }[];
    containerStatuses?: {
      name: string;
      ready: boolean;
      started?: boolean;
      restartCount: number;
      containerID?: string;
      state: {
        running?: object;
        waiting?: { reason: string };
        terminated?: { exitCode: number; reason: string };
      };
      lastState: { terminated?: { exitCode: number; reason: string } };
    }[];
  };
}

export async function getPod(namespace: string, name: string): Promise<PodJson> {
  return getJson<PodJson>(['get', 'pod', name, '-n', namespace]);
}

export async function listPods(namespace: string, selector?: string): Promise<PodJson[]> {
  const args = ['get', 'pods', '-n', namespace, ...(selector !== undefined ? ['-l', selector] : [])];
  return (await getJson<{ items: PodJson[] }>(args)).items;
}

export function isReady(pod: PodJson): boolean {
  return pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The container's process, from the agent's containerID (`cairn-e2e://<pid>`). */
export function containerPid(pod: PodJson, container: string): number | undefined {
  const id = pod.status.containerStatuses?.find((c) => c.name === container)?.containerID;
  const m = /^cairn-e2e:\/\/(\d+)$/.exec(id ?? '');
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

export function processAlive(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

/**
 * A container's log as the node agent wrote it (`<runDir>/agent/pods/<ns>_<pod>_<uid>/logs/<c>/<n>.log`,
 * n = restart count); the latest run unless `restart` is given.
 */
export function podLog(
  namespace: string,
  pod: string,
  uid: string,
  container: string,
  restart?: number,
): string {
  const dir = join(
    e2eEnv('CAIRN_E2E_RUN_DIR'),
    'agent/pods',
    `${namespace}_${pod}_${uid}`,
    'logs',
    container,
  );
  if (!existsSync(dir)) return '';
  const runs = readdirSync(dir)
    .map((f) => Number(f.replace(/\.log$/, '')))
    .filter((n) => Number.isInteger(n))
    .sort((a, b) => a - b);
  const n = restart ?? runs[runs.length - 1];
  return n === undefined ? '' : readFileSync(join(dir, `${n}.log`), 'utf8');
}

/** Runs a one-container pod to completion and returns its log; fails if it does not succeed. */
export async function runPod(
  namespace: string,
  name: string,
  image: string,
  script: string,
  timeoutMs = 60_000,
): Promise<string> {
  await apply(
    namespace,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name },
      spec: { restartPolicy: 'Never', containers: [{ name: 'main', image, command: ['sh', '-c', script] }] },
    }),
  );
  const pod = await waitFor(
    `pod ${namespace}/${name} to finish`,
    async () => {
      const p = await getPod(namespace, name);
      return p.status.phase === 'Succeeded' || p.status.phase === 'Failed' ? p : undefined;
    },
    timeoutMs,
  );
  const log = podLog(namespace, name, pod.metadata.uid, 'main');
  if (pod.status.phase !== 'Succeeded') throw new Error(`pod ${name} failed; its log:\n${log}`);
  return log;
}
