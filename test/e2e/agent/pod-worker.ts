// One pod on one node, from binding to the final delete — the kubelet's pod worker:
//   1. "pull" every image (an unknown image is ErrImagePull/ImagePullBackOff, never a crash);
//   2. the sandbox (network namespace, address, resolv.conf) and the volumes (retried until a claim
//      binds, with FailedMount events);
//   3. init containers one at a time (restartPolicy Always on an init container makes it a sidecar that
//      keeps running);
//   4. the containers, each supervised: probes, restart per the pod's policy with back-off;
//   5. a terminal phase once every container has ended for good (Jobs), or termination when the pod
//      is deleted: preStop, SIGTERM, the grace period, SIGKILL, sandbox removed, then
//      DELETE with gracePeriodSeconds=0 — the kubelet's final delete, without which the pod stays
//      Terminating forever.
import type { V1Container, V1Pod, V1Probe } from '@kubernetes/client-node';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Backoff } from './backoff.js';
import { ConfigError } from './container-env.js';
import { launch, logFile, terminationMessage, type LaunchContext } from './container-launch.js';
import { newContainerState, type ContainerState } from './container-state.js';
import type { EventType, PodEvents } from './events.js';
import { ImageNotFound, type ImageStore } from './images.js';
import type { IpPool } from './ip-pool.js';
import { describeError, isConflict, isNotFound, type Kube } from './kube.js';
import { log, podRef } from './log.js';
import { createSandbox, destroySandbox, type Sandbox, type SandboxConfig } from './pod-sandbox.js';
import { podStatus, type PodView } from './pod-status.js';
import { runHandler, type ProbeTarget } from './probes.js';
import { Sleeper } from './sleeper.js';
import { prepareVolumes, VolumeError, type PreparedVolume } from './volumes.js';

export interface NodeSlot {
  name: string;
  ip: string;
  pool: IpPool;
}

export interface WorkerDeps {
  kube: Kube;
  events: PodEvents;
  images: ImageStore;
  sandboxConfig: SandboxConfig;
  agentDir: string;
  initScript: string;
  repo: string;
}

/** How long a pod waits between attempts to set up its sandbox or volumes. */
const SETUP_RETRY_MS = 2_000;
const SETUP_RETRY_MAX_MS = 10_000;
/** The default terminationGracePeriodSeconds. */
const GRACE_DEFAULT_S = 30;
/** Status patches are coalesced over this window. */
const STATUS_COALESCE_MS = 25;
/** When the agent itself shuts down, pods get at most this long to exit before SIGKILL. */
export const SHUTDOWN_GRACE_MS = 5_000;

const strategicMerge = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

export class PodWorker {
  private pod: V1Pod;
  private readonly uid: string;
  private readonly dir: string;
  private readonly containers: ContainerState[];
  private readonly sleeper = new Sleeper();
  private readonly startTime = new Date();
  private sandbox: Sandbox | undefined;
  private volumes: Map<string, PreparedVolume> | undefined;
  private initialized = false;
  private finalPhase: 'Succeeded' | 'Failed' | undefined;
  private reason: string | undefined;
  private message: string | undefined;
  /** Set once the pod is being deleted (or the agent stops): nothing new starts. */
  private terminating = false;
  /** The API object is gone (force-deleted): no more status patches. */
  private objectGone = false;
  /** The agent is shutting down: no API calls during termination, short grace. */
  private agentStopping = false;
  private statusTimer: NodeJS.Timeout | undefined;
  private statusChain: Promise<void> = Promise.resolve();
  private readonly supervisors: Promise<void>[] = [];
  private stopping: Promise<void> | undefined;
  private sandboxReleased = false;
  /** The grace period of the termination under way (the shortest one asked for). */
  private terminationGrace = GRACE_DEFAULT_S * 1000;
  private resolveTermination: (() => void) | undefined;
  /** Resolves when the pod is deleted or the agent stops; a finished pod waits on it for its final delete. */
  private readonly terminationRequested = new Promise<void>((resolve) => (this.resolveTermination = resolve));
  readonly done: Promise<void>;

  constructor(
    pod: V1Pod,
    private readonly node: NodeSlot,
    private readonly deps: WorkerDeps,
  ) {
    this.pod = pod;
    this.uid = pod.metadata?.uid ?? '';
    const meta = pod.metadata ?? {};
    this.dir = join(deps.agentDir, 'pods', `${meta.namespace ?? 'default'}_${meta.name ?? ''}_${this.uid}`);
    const init = (pod.spec?.initContainers ?? []).map((c) =>
      newContainerState(c, c.restartPolicy === 'Always' ? 'sidecar' : 'init'),
    );
    this.containers = [...init, ...(pod.spec?.containers ?? []).map((c) => newContainerState(c, 'main'))];
    this.done = this.run();
  }

  /** A newer version of the pod from the watch. */
  update(pod: V1Pod): void {
    this.pod = pod;
    if (pod.metadata?.deletionTimestamp !== undefined && !this.terminating) {
      const grace =
        pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? GRACE_DEFAULT_S;
      this.startTermination(grace * 1000);
    }
  }

  get namespace(): string {
    return this.pod.metadata?.namespace ?? 'default';
  }

  get name(): string {
    return this.pod.metadata?.name ?? '';
  }

  /** A container's log for the kubelet API: the current run's, or (previous) the one before it. */
  logFile(container: string, previous: boolean): { file: string } | { error: string; status: number } {
    const c = this.containers.find((x) => x.spec.name === container);
    if (c === undefined) {
      return { status: 400, error: `container ${container} is not valid for pod ${this.name}` };
    }
    const runIndex = previous ? c.restartCount - 1 : c.restartCount;
    const file =
      this.sandbox === undefined || runIndex < 0 ? undefined : logFile(this.sandbox, c.spec, runIndex);
    if (file === undefined || !existsSync(file)) {
      if (previous) {
        return {
          status: 400,
          error: `previous terminated container "${container}" in pod "${this.name}" not found`,
        };
      }
      const reason = c.waiting?.reason ?? 'ContainerCreating';
      return {
        status: 400,
        error: `container "${container}" in pod "${this.name}" is waiting to start: ${reason}`,
      };
    }
    return { file };
  }

  /** Whether a running container is still writing this log file. */
  writing(file: string): boolean {
    const sandbox = this.sandbox;
    if (sandbox === undefined) return false;
    return this.containers.some(
      (c) => c.process !== undefined && logFile(sandbox, c.spec, c.restartCount) === file,
    );
  }

  /** The object was removed from the API (force delete): stop at once, report nothing. */
  gone(): void {
    this.objectGone = true;
    this.startTermination(0);
  }

  /** The agent is exiting: stop the pod's processes quickly and quietly. */
  shutdown(): Promise<void> {
    this.agentStopping = true;
    this.startTermination(SHUTDOWN_GRACE_MS);
    return this.done;
  }

  private get restartPolicy(): string {
    return this.pod.spec?.restartPolicy ?? 'Always';
  }

  private async run(): Promise<void> {
    const alreadyTerminal = this.pod.status?.phase === 'Succeeded' || this.pod.status?.phase === 'Failed';
    try {
      if (!alreadyTerminal && (await this.setUp())) {
        if (await this.runInitContainers()) await this.runContainers();
      }
    } catch (err) {
      log(
        podRef(this.pod),
        `worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      this.event('Warning', 'Failed', `e2e node agent: ${describeError(err)}`);
    }
    await this.stopContainers(this.terminationGrace);
    await this.releaseSandbox();
    // A pod that was already finished when the agent met it (the agent restarted) keeps the status it has.
    if (!alreadyTerminal) {
      this.markStatus();
      await this.flushStatus();
    }
    // A finished pod (Job) stays until it is deleted; then it gets its final delete like any other.
    await this.terminationRequested;
    if (!this.objectGone && !this.agentStopping) await this.finalDelete();
  }

  private startTermination(graceMs: number): void {
    this.terminationGrace = Math.min(this.terminationGrace, graceMs);
    if (this.terminating) {
      // A shorter grace (force delete, agent shutdown) cuts a running stop short.
      if (graceMs === 0) for (const c of this.containers) c.process?.kill();
      return;
    }
    this.terminating = true;
    this.terminationGrace = graceMs;
    this.sleeper.wakeAll();
    this.resolveTermination?.();
    void this.stopContainers(graceMs);
  }

  // --- 1 + 2: images, sandbox, volumes ---------------------------------------------------------

  /** Returns false when the pod is terminating before it could be set up. */
  private async setUp(): Promise<boolean> {
    const imageBackoff = new Backoff();
    for (;;) {
      if (this.terminating) return false;
      let missing = false;
      for (const c of this.containers) {
        try {
          c.image = this.deps.images.resolve(c.spec.image ?? '');
          if (c.waiting?.reason === 'ErrImagePull' || c.waiting?.reason === 'ImagePullBackOff') {
            c.waiting = { reason: 'PodInitializing' };
          }
        } catch (err) {
          if (!(err instanceof ImageNotFound)) throw err;
          missing = true;
          const first = c.waiting?.reason !== 'ErrImagePull' && c.waiting?.reason !== 'ImagePullBackOff';
          c.waiting = { reason: first ? 'ErrImagePull' : 'ImagePullBackOff', message: err.message };
          this.event(
            'Warning',
            'Failed',
            `Failed to pull image "${c.spec.image ?? ''}": ${err.message}`,
            c.spec,
          );
        }
      }
      if (!missing) break;
      this.markStatus();
      await this.sleeper.sleep(imageBackoff.next(0));
    }
    let retryMs = SETUP_RETRY_MS;
    for (;;) {
      if (this.terminating) return false;
      try {
        this.sandbox ??= await createSandbox(
          this.pod,
          this.dir,
          this.deps.sandboxConfig,
          this.node.pool,
          this.node.ip,
        );
        this.markStatus();
        this.volumes = await prepareVolumes(this.deps.kube, this.podWithIP(), this.dir);
        return true;
      } catch (err) {
        const reason = this.sandbox === undefined ? 'FailedCreatePodSandBox' : 'FailedMount';
        this.event('Warning', reason, describeError(err));
        await this.sleeper.sleep(retryMs);
        retryMs = Math.min(retryMs * 2, SETUP_RETRY_MAX_MS);
      }
    }
  }

  /** The pod as the downward API sees it: with the address the sandbox got. */
  private podWithIP(): V1Pod {
    return {
      ...this.pod,
      status: { ...this.pod.status, podIP: this.sandbox?.ip, hostIP: this.node.ip },
    };
  }

  private launchContext(): LaunchContext {
    if (this.sandbox === undefined || this.volumes === undefined) throw new Error('launch before set-up');
    return {
      kube: this.deps.kube,
      pod: this.podWithIP(),
      sandbox: this.sandbox,
      volumes: this.volumes,
      imageBinDir: this.deps.images.binDir,
      repo: this.deps.repo,
      initScript: this.deps.initScript,
      pidDir: join(this.deps.agentDir, 'pids'),
    };
  }

  // --- 3: init containers ------------------------------------------------------------------------

  /** Returns true when every init container completed (sidecars: started) and the pod may go on. */
  private async runInitContainers(): Promise<boolean> {
    for (const c of this.containers.filter((x) => x.kind !== 'main')) {
      if (c.kind === 'sidecar') {
        this.supervisors.push(this.supervise(c));
        while (!this.terminating && !(c.process !== undefined && c.started)) await this.sleeper.sleep(100);
        continue;
      }
      const backoff = new Backoff();
      for (;;) {
        if (this.terminating) return false;
        const exit = await this.runOnce(c);
        if (this.terminating) return false;
        if (exit === 0) break;
        if (this.restartPolicy === 'Never') {
          this.finalPhase = 'Failed';
          this.markStatus();
          return false;
        }
        await this.backOff(c, backoff);
      }
    }
    this.initialized = true;
    this.markStatus();
    return !this.terminating;
  }

  // --- 4: containers -----------------------------------------------------------------------------

  private async runContainers(): Promise<void> {
    const main = this.containers.filter((c) => c.kind === 'main');
    await Promise.all(main.map((c) => this.supervise(c)));
    if (this.terminating) return;
    // Every container has ended for good (restartPolicy Never/OnFailure): the pod is done.
    const failed = main.some((c) => (c.terminated?.exitCode ?? 0) !== 0);
    this.finalPhase = failed ? 'Failed' : 'Succeeded';
    this.markStatus();
    // Sidecars are stopped once the main containers are done, as the kubelet does for Jobs.
    await this.stopContainers(this.terminationGrace);
  }

  /** Runs a container (main or sidecar) and restarts it per policy until it ends for good. */
  private async supervise(c: ContainerState): Promise<void> {
    const backoff = new Backoff();
    const policy = c.kind === 'sidecar' ? 'Always' : this.restartPolicy;
    for (;;) {
      if (this.terminating) return;
      const startedAt = Date.now();
      const exit = await this.runOnce(c);
      if (this.terminating) return;
      // A container killed by its liveness or startup probe restarts unless the policy is Never,
      // whatever its exit code (the kubelet's computePodActions).
      const killedByProbe = c.livenessKilled;
      c.livenessKilled = false;
      const restart = policy === 'Always' || (policy === 'OnFailure' && (exit !== 0 || killedByProbe));
      if (!restart) return;
      await this.backOff(c, backoff, Date.now() - startedAt);
    }
  }

  private async backOff(c: ContainerState, backoff: Backoff, ranForMs = 0): Promise<void> {
    const delay = backoff.next(ranForMs);
    c.lastTerminated = c.terminated;
    c.terminated = undefined;
    c.waiting = {
      reason: 'CrashLoopBackOff',
      message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${c.spec.name} pod=${this.pod.metadata?.name ?? ''}_${this.pod.metadata?.namespace ?? ''}(${this.uid})`,
    };
    this.event('Warning', 'BackOff', 'Back-off restarting failed container', c.spec);
    this.markStatus();
    await this.sleeper.sleep(delay);
    c.restartCount++;
  }

  /**
   * One run of a container, to its exit; returns the exit code. A container that cannot be created
   * (a missing ConfigMap key, a bad subPath) is retried whatever the restart policy, since it never ran;
   * -1 means the pod began terminating first.
   */
  private async runOnce(c: ContainerState): Promise<number> {
    let proc;
    for (;;) {
      if (this.terminating) return -1;
      try {
        proc = await launch(this.launchContext(), c);
        break;
      } catch (err) {
        const config = err instanceof ConfigError || err instanceof VolumeError;
        const reason = config ? 'CreateContainerConfigError' : 'CreateContainerError';
        c.waiting = { reason, message: describeError(err) };
        this.event('Warning', 'Failed', `Error: ${describeError(err)}`, c.spec);
        this.markStatus();
        await this.sleeper.sleep(SETUP_RETRY_MAX_MS);
      }
    }
    const startedAt = new Date();
    c.process = proc;
    c.startedAt = startedAt;
    c.waiting = undefined;
    c.terminated = undefined;
    c.started = c.spec.startupProbe === undefined;
    c.ready = c.started && c.spec.readinessProbe === undefined && c.kind !== 'init';
    this.event(
      'Normal',
      'Pulled',
      `Container image "${c.spec.image ?? ''}" already present on machine`,
      c.spec,
    );
    this.event('Normal', 'Created', `Created container: ${c.spec.name}`, c.spec);
    this.event('Normal', 'Started', `Started container ${c.spec.name}`, c.spec);
    log(podRef(this.pod), `container ${c.spec.name} started, pid ${proc.pid}`);
    this.markStatus();
    if (c.kind !== 'init') this.startProbes(c, proc.pid);
    const postStart = c.spec.lifecycle?.postStart;
    if (postStart !== undefined) {
      const result = await runHandler(postStart, this.probeTarget(c), this.terminationGrace);
      if (!result.ok) {
        this.event('Warning', 'FailedPostStartHook', result.message, c.spec);
        proc.kill();
      }
    }
    const exit = await proc.exited;
    const failed = exit.exitCode !== 0;
    c.process = undefined;
    c.startedAt = undefined;
    c.ready = false;
    c.terminated = {
      exitCode: exit.exitCode,
      ...(exit.signal !== null ? { signal: exit.exitCode - 128 } : {}),
      reason: failed ? 'Error' : 'Completed',
      message: this.sandbox === undefined ? undefined : await terminationMessage(this.sandbox, c, failed),
      startedAt,
      finishedAt: new Date(),
    };
    log(podRef(this.pod), `container ${c.spec.name} exited with ${exit.exitCode}`);
    this.markStatus();
    return exit.exitCode;
  }

  // --- probes ------------------------------------------------------------------------------------

  private probeTarget(c: ContainerState): ProbeTarget {
    return {
      podIP: this.sandbox?.ip ?? '127.0.0.1',
      container: c.spec,
      pid: c.process?.pid,
      env: c.env ?? new Map<string, string>(),
    };
  }

  private startProbes(c: ContainerState, pid: number): void {
    const alive = (): boolean => !this.terminating && c.process?.pid === pid;
    const afterStartup = (): void => {
      c.started = true;
      if (c.spec.readinessProbe === undefined) c.ready = true;
      else void this.probeLoop(c, 'Readiness', c.spec.readinessProbe, alive);
      if (c.spec.livenessProbe !== undefined) void this.probeLoop(c, 'Liveness', c.spec.livenessProbe, alive);
      this.markStatus();
    };
    if (c.spec.startupProbe !== undefined)
      void this.probeLoop(c, 'Startup', c.spec.startupProbe, alive, afterStartup);
    else afterStartup();
  }

  private async probeLoop(
    c: ContainerState,
    kind: 'Startup' | 'Readiness' | 'Liveness',
    probe: V1Probe,
    alive: () => boolean,
    onStarted?: () => void,
  ): Promise<void> {
    const periodMs = (probe.periodSeconds ?? 10) * 1000;
    const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
    const successThreshold = probe.successThreshold ?? 1;
    const failureThreshold = probe.failureThreshold ?? 3;
    await this.sleeper.sleep((probe.initialDelaySeconds ?? 0) * 1000);
    let successes = 0;
    let failures = 0;
    while (alive()) {
      const result = await runHandler(probe, this.probeTarget(c), timeoutMs);
      if (!alive()) return;
      if (result.ok) {
        failures = 0;
        successes++;
        if (successes >= successThreshold) {
          if (kind === 'Startup') {
            onStarted?.();
            return;
          }
          if (kind === 'Readiness' && !c.ready) {
            c.ready = true;
            this.markStatus();
          }
        }
      } else {
        successes = 0;
        failures++;
        this.event('Warning', 'Unhealthy', `${kind} probe failed: ${result.message}`, c.spec);
        if (failures >= failureThreshold) {
          if (kind === 'Readiness') {
            if (c.ready) {
              c.ready = false;
              this.markStatus();
            }
          } else {
            const why = kind === 'Startup' ? 'startup' : 'liveness';
            this.event(
              'Normal',
              'Killing',
              `Container ${c.spec.name} failed ${why} probe, will be restarted`,
              c.spec,
            );
            c.livenessKilled = true;
            const graceS =
              probe.terminationGracePeriodSeconds ??
              this.pod.spec?.terminationGracePeriodSeconds ??
              GRACE_DEFAULT_S;
            await this.stopContainer(c, graceS * 1000);
            return;
          }
        }
      }
      await this.sleeper.sleep(periodMs);
    }
  }

  // --- 5: termination ----------------------------------------------------------------------------

  /** Stops every running container: preStop, SIGTERM, wait up to the grace period, SIGKILL. */
  private stopContainers(graceMs: number): Promise<void> {
    const running = this.containers.filter((c) => c.process !== undefined);
    if (running.length === 0) return Promise.resolve();
    const main = running.filter((c) => c.kind === 'main' || c.kind === 'init');
    const sidecars = running.filter((c) => c.kind === 'sidecar');
    // Sidecars stop after the main containers, in reverse order, as the kubelet stops them.
    const stop = async (): Promise<void> => {
      const deadline = Date.now() + graceMs;
      await Promise.all(main.map((c) => this.stopContainer(c, graceMs)));
      for (const c of sidecars.reverse()) await this.stopContainer(c, Math.max(deadline - Date.now(), 2_000));
    };
    this.stopping = stop();
    return this.stopping;
  }

  private async stopContainer(c: ContainerState, graceMs: number): Promise<void> {
    const proc = c.process;
    if (proc === undefined || !proc.running) return;
    if (!this.agentStopping) this.event('Normal', 'Killing', `Stopping container ${c.spec.name}`, c.spec);
    const deadline = Date.now() + graceMs;
    const preStop = c.spec.lifecycle?.preStop;
    if (preStop !== undefined && graceMs > 0) {
      if (preStop.sleep !== undefined) {
        await Promise.race([this.delay(Math.min(preStop.sleep.seconds * 1000, graceMs)), proc.exited]);
      } else {
        const result = await runHandler(preStop, this.probeTarget(c), graceMs);
        if (!result.ok) this.event('Warning', 'FailedPreStopHook', result.message, c.spec);
      }
    }
    proc.signal('SIGTERM');
    const left = Math.max(deadline - Date.now(), 0);
    const timedOut = await Promise.race([proc.exited.then(() => false), this.delay(left).then(() => true)]);
    if (timedOut) proc.kill();
    await proc.exited;
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  private async releaseSandbox(): Promise<void> {
    await this.stopping;
    // Wait for every supervisor to notice its container's exit before the network goes.
    await Promise.all(this.supervisors);
    if (this.sandbox !== undefined) {
      await destroySandbox(this.sandbox, this.node.pool);
      this.sandboxReleased = true;
    }
  }

  private async finalDelete(): Promise<void> {
    const namespace = this.pod.metadata?.namespace ?? 'default';
    const name = this.pod.metadata?.name ?? '';
    try {
      await this.deps.kube.core.deleteNamespacedPod({
        name,
        namespace,
        gracePeriodSeconds: 0,
        body: { gracePeriodSeconds: 0, preconditions: { uid: this.uid } },
      });
      log(podRef(this.pod), 'deleted');
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err))
        log(podRef(this.pod), `final delete failed: ${describeError(err)}`);
    }
  }

  // --- status and events -------------------------------------------------------------------------

  private view(): PodView {
    return {
      pod: this.pod,
      podIP: this.sandbox !== undefined && !this.sandboxReleased ? this.sandbox.ip : this.pod.status?.podIP,
      hostIP: this.node.ip,
      startTime: this.startTime,
      sandboxReady: this.sandbox !== undefined && !this.sandboxReleased,
      initialized: this.initialized,
      finalPhase: this.finalPhase,
      ...(this.reason !== undefined ? { reason: this.reason } : {}),
      ...(this.message !== undefined ? { message: this.message } : {}),
      containers: this.containers,
    };
  }

  /** Schedules a status patch; several changes close together become one patch. */
  private markStatus(): void {
    if (this.statusTimer !== undefined || this.objectGone || this.agentStopping) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      this.statusChain = this.statusChain.then(() => this.patchStatus());
    }, STATUS_COALESCE_MS);
  }

  private async flushStatus(): Promise<void> {
    if (this.statusTimer !== undefined) {
      clearTimeout(this.statusTimer);
      this.statusTimer = undefined;
      this.statusChain = this.statusChain.then(() => this.patchStatus());
    }
    await this.statusChain;
  }

  private async patchStatus(): Promise<void> {
    if (this.objectGone || this.agentStopping) return;
    const namespace = this.pod.metadata?.namespace ?? 'default';
    const name = this.pod.metadata?.name ?? '';
    try {
      const updated = await this.deps.kube.core.patchNamespacedPodStatus(
        { name, namespace, body: { metadata: { uid: this.uid }, status: podStatus(this.view()) } },
        strategicMerge,
      );
      if (updated.metadata?.uid === this.uid) this.pod = { ...this.pod, status: updated.status };
    } catch (err) {
      if (isNotFound(err)) this.objectGone = true;
      else log(podRef(this.pod), `status patch failed: ${describeError(err)}`);
    }
  }

  private event(type: EventType, reason: string, message: string, container?: V1Container): void {
    if (this.objectGone || this.agentStopping) return;
    const index = container === undefined ? -1 : this.containers.findIndex((c) => c.spec === container);
    const kind = this.containers[index]?.kind;
    const fieldPath =
      container === undefined
        ? undefined
        : `spec.${kind === 'main' ? 'containers' : 'initContainers'}{${container.name}}`;
    this.deps.events.record(this.pod, this.node.name, type, reason, message, fieldPath);
  }
}
