// The pod's status as the kubelet reports it, derived from the agent's container states: phase,
// conditions, addresses and container statuses. Pure: the worker decides when to send it.
import type { V1Pod } from '@kubernetes/client-node';
import type { ContainerState, Terminated } from './container-state.js';

export interface PodView {
  pod: V1Pod;
  podIP: string | undefined;
  hostIP: string;
  startTime: Date;
  sandboxReady: boolean;
  initialized: boolean;
  /** Set once the pod has reached a terminal phase. */
  finalPhase: 'Succeeded' | 'Failed' | undefined;
  /** A pod-level failure reason (e.g. the init container failed with restartPolicy Never). */
  reason?: string;
  message?: string;
  containers: ContainerState[];
}

export function time(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

export function podPhase(view: PodView): string {
  if (view.finalPhase !== undefined) return view.finalPhase;
  const main = view.containers.filter((c) => c.kind === 'main');
  if (!view.initialized) return 'Pending';
  const running = main.some((c) => c.process !== undefined || c.startedAt !== undefined);
  const restarting = main.some((c) => c.waiting !== undefined && c.restartCount > 0);
  if (running || restarting) return 'Running';
  return 'Pending';
}

export function podStatus(view: PodView): Record<string, unknown> {
  const now = time(new Date());
  const main = view.containers.filter((c) => c.kind === 'main');
  const containersReady = main.length > 0 && main.every((c) => c.ready && c.process !== undefined);
  const gates = (view.pod.spec?.readinessGates ?? []).map((g) => g.conditionType);
  const gatesReady = gates.every(
    (type) => (view.pod.status?.conditions ?? []).find((c) => c.type === type)?.status === 'True',
  );
  const conditions: Record<string, unknown>[] = [];
  const condition = (type: string, ok: boolean, reason?: string): void => {
    const previous = (view.pod.status?.conditions ?? []).find((c) => c.type === type);
    const status = ok ? 'True' : 'False';
    const kept = previous?.status === status ? previous.lastTransitionTime : undefined;
    conditions.push({
      type,
      status,
      lastTransitionTime: kept !== undefined ? time(new Date(kept)) : now,
      ...(ok || reason === undefined ? {} : { reason }),
    });
  };
  const terminal = view.finalPhase !== undefined;
  condition('PodReadyToStartContainers', view.sandboxReady && !terminal);
  condition('Initialized', view.initialized, 'ContainersNotInitialized');
  condition(
    'Ready',
    containersReady && gatesReady && !terminal,
    terminal ? 'PodCompleted' : 'ContainersNotReady',
  );
  condition(
    'ContainersReady',
    containersReady && !terminal,
    terminal ? 'PodCompleted' : 'ContainersNotReady',
  );
  condition('PodScheduled', true);
  const status: Record<string, unknown> = {
    phase: podPhase(view),
    conditions,
    hostIP: view.hostIP,
    hostIPs: [{ ip: view.hostIP }],
    startTime: time(view.startTime),
    initContainerStatuses: view.containers.filter((c) => c.kind !== 'main').map(containerStatus),
    containerStatuses: main.map(containerStatus),
  };
  if (view.podIP !== undefined) {
    status['podIP'] = view.podIP;
    status['podIPs'] = [{ ip: view.podIP }];
  }
  if (view.reason !== undefined) status['reason'] = view.reason;
  if (view.message !== undefined) status['message'] = view.message;
  return status;
}

function containerStatus(c: ContainerState): Record<string, unknown> {
  const state: Record<string, unknown> = {};
  if (c.process !== undefined && c.startedAt !== undefined)
    state['running'] = { startedAt: time(c.startedAt) };
  else if (c.terminated !== undefined) state['terminated'] = terminatedState(c.terminated);
  else state['waiting'] = c.waiting ?? { reason: 'ContainerCreating' };
  const status: Record<string, unknown> = {
    name: c.spec.name,
    image: c.spec.image ?? '',
    imageID: c.image?.imageID ?? '',
    containerID: c.process !== undefined ? `cairn-e2e://${c.process.pid}` : undefined,
    ready: c.ready && c.process !== undefined,
    started: c.process !== undefined && c.started,
    restartCount: c.restartCount,
    state,
    lastState: c.lastTerminated !== undefined ? { terminated: terminatedState(c.lastTerminated) } : {},
  };
  return status;
}

function terminatedState(t: Terminated): Record<string, unknown> {
  return {
    exitCode: t.exitCode,
    ...(t.signal !== undefined ? { signal: t.signal } : {}),
    reason: t.reason,
    ...(t.message !== undefined && t.message !== '' ? { message: t.message } : {}),
    startedAt: time(t.startedAt),
    finishedAt: time(t.finishedAt),
  };
}
