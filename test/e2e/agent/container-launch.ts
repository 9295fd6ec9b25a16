// Turning a container spec into a running process: its environment, its argv (the image's entry point
// unless `command` is given, with $(VAR) expansion), its user, and the mounts file container-init.sh
// binds — the pod's etc files, the image's entry points, the repository they run from, the
// termination-message file and the volume mounts.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerProcess } from './container-process.js';
import { ConfigError, containerEnv, expand } from './container-env.js';
import type { ContainerState } from './container-state.js';
import { IMAGE_APP_DIR, IMAGE_BIN_DIR } from './images.js';
import type { Kube } from './kube.js';
import type { Sandbox } from './pod-sandbox.js';
import { mountSource, type PreparedVolume, VolumeError } from './volumes.js';

export interface LaunchContext {
  kube: Kube;
  pod: V1Pod;
  sandbox: Sandbox;
  volumes: Map<string, PreparedVolume>;
  imageBinDir: string;
  repo: string;
  initScript: string;
  pidDir: string;
}

/**
 * The user the images run as when the pod does not say: an unprivileged uid, as the project's image
 * declares (`USER 65532`), so file permissions in the e2e environment are what users will meet.
 */
export const IMAGE_USER = { uid: 65532, gid: 65532 };

/** The kubelet reads at most 4 KiB of a termination message. */
const TERMINATION_MESSAGE_MAX_BYTES = 4096;

export function containerDir(sandbox: Sandbox, container: V1Container): string {
  return join(sandbox.dir, 'containers', container.name);
}

export function logFile(sandbox: Sandbox, container: V1Container, restartCount: number): string {
  return join(sandbox.dir, 'logs', container.name, `${restartCount}.log`);
}

export async function launch(ctx: LaunchContext, state: ContainerState): Promise<ContainerProcess> {
  const { pod, sandbox, volumes } = ctx;
  const spec = state.spec;
  const env = await containerEnv(ctx.kube, pod, spec, sandbox.hostname);
  const user = runAs(pod, spec);
  const nonRoot = spec.securityContext?.runAsNonRoot ?? pod.spec?.securityContext?.runAsNonRoot;
  if (nonRoot === true && user.uid === 0) {
    throw new ConfigError('container has runAsNonRoot and image will run as root');
  }
  if (user.uid !== 0) env.set('HOME', '/');
  state.env = env;
  const entry =
    spec.command !== undefined && spec.command.length > 0 ? spec.command : (state.image?.entrypoint ?? []);
  const argv = [...entry, ...(spec.args ?? [])].map((a) => expand(a, env));
  if (argv.length === 0) throw new VolumeError('no command specified');

  const dir = containerDir(sandbox, spec);
  const rootDir = join(dir, 'root');
  await mkdir(rootDir, { recursive: true });
  await mkdir(join(sandbox.dir, 'logs', spec.name), { recursive: true });
  const terminationLog = join(dir, 'termination-log');
  await writeFile(terminationLog, '');
  await chmod(terminationLog, 0o666);

  const lines: [string, string, 'ro' | 'rw'][] = [
    [sandbox.resolvConf, '/etc/resolv.conf', 'ro'],
    [sandbox.hosts, '/etc/hosts', 'ro'],
    [sandbox.hostnameFile, '/etc/hostname', 'ro'],
    [ctx.imageBinDir, IMAGE_BIN_DIR, 'ro'],
    [ctx.repo, IMAGE_APP_DIR, 'ro'],
    [terminationLog, spec.terminationMessagePath ?? '/dev/termination-log', 'rw'],
  ];
  const mounts = [...(spec.volumeMounts ?? [])].sort((a, b) => a.mountPath.length - b.mountPath.length);
  for (const mount of mounts) {
    const { source, readOnly } = await mountSource(mount, volumes, (s) => expand(s, env));
    lines.push([source, mount.mountPath, readOnly ? 'ro' : 'rw']);
  }
  for (const [source, target] of lines) {
    if (/[\t\n]/.test(source + target))
      throw new VolumeError(`mount path ${JSON.stringify(target)} holds a tab or newline`);
  }
  const mountsFile = join(dir, 'mounts');
  await writeFile(mountsFile, lines.map((l) => l.join('\t')).join('\n') + '\n');

  return ContainerProcess.start({
    netns: sandbox.netns,
    initScript: ctx.initScript,
    rootDir,
    hostname: sandbox.hostname,
    workingDir: spec.workingDir ?? '/',
    mountsFile,
    userSpec: `${user.uid}:${user.gid}`,
    readOnlyRootFilesystem: spec.securityContext?.readOnlyRootFilesystem === true,
    argv,
    env,
    logFile: logFile(sandbox, spec, state.restartCount),
    pidDir: ctx.pidDir,
  });
}

function runAs(pod: V1Pod, container: V1Container): { uid: number; gid: number } {
  const podCtx = pod.spec?.securityContext;
  const ctx = container.securityContext;
  const uid = ctx?.runAsUser ?? podCtx?.runAsUser ?? IMAGE_USER.uid;
  const gid =
    ctx?.runAsGroup ?? podCtx?.runAsGroup ?? (uid === IMAGE_USER.uid ? IMAGE_USER.gid : uid === 0 ? 0 : uid);
  return { uid, gid };
}

/** The termination message: the file the container wrote, else (FallbackToLogsOnError) its log's tail. */
export async function terminationMessage(
  sandbox: Sandbox,
  state: ContainerState,
  failed: boolean,
): Promise<string | undefined> {
  const file = join(containerDir(sandbox, state.spec), 'termination-log');
  const written = await readFile(file, 'utf8').catch(() => '');
  if (written !== '') return written.slice(0, TERMINATION_MESSAGE_MAX_BYTES);
  if (failed && state.spec.terminationMessagePolicy === 'FallbackToLogsOnError') {
    const log = await readFile(logFile(sandbox, state.spec, state.restartCount), 'utf8').catch(() => '');
    return log.split('\n').slice(-80).join('\n').slice(-TERMINATION_MESSAGE_MAX_BYTES);
  }
  return undefined;
}
