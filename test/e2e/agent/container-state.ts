// What the agent knows about one container of a pod across its restarts: the record that becomes
// its containerStatuses[] entry.
import type { V1Container } from '@kubernetes/client-node';
import type { ContainerProcess } from './container-process.js';
import type { ResolvedImage } from './images.js';

export type ContainerKind = 'init' | 'sidecar' | 'main';

export interface Terminated {
  exitCode: number;
  signal?: number;
  reason: string;
  message?: string;
  startedAt: Date;
  finishedAt: Date;
}

export interface ContainerState {
  spec: V1Container;
  kind: ContainerKind;
  image: ResolvedImage | undefined;
  restartCount: number;
  process: ContainerProcess | undefined;
  /** Set while running: when the current process started. */
  startedAt: Date | undefined;
  /** Set while waiting (before the first start, during back-off, image errors). */
  waiting: { reason: string; message?: string } | undefined;
  /** The current run's end, when it has ended and will not (yet) be restarted. */
  terminated: Terminated | undefined;
  /** The previous run's end, reported as lastState. */
  lastTerminated: Terminated | undefined;
  /** Startup probe passed (or none). */
  started: boolean;
  /** Readiness probe passing (or none, once started). */
  ready: boolean;
  /** The environment the current run was started with (exec probes and hooks reuse it). */
  env: Map<string, string> | undefined;
  /** The current run is being stopped because a liveness or startup probe failed. */
  livenessKilled: boolean;
}

export function newContainerState(spec: V1Container, kind: ContainerKind): ContainerState {
  return {
    spec,
    kind,
    image: undefined,
    restartCount: 0,
    process: undefined,
    startedAt: undefined,
    waiting: { reason: 'PodInitializing' },
    terminated: undefined,
    lastTerminated: undefined,
    started: false,
    ready: false,
    env: undefined,
    livenessKilled: false,
  };
}
