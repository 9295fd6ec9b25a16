import type { V1Pod } from '@kubernetes/client-node';

// The agent logs one line per event to stdout (the environment sends it to logs/agent.log):
// time, the object it concerns, and what happened.
export function log(subject: string, message: string): void {
  process.stdout.write(`${new Date().toISOString()} ${subject} ${message}\n`);
}

export function podRef(pod: V1Pod): string {
  return `pod/${pod.metadata?.namespace ?? '?'}/${pod.metadata?.name ?? '?'}`;
}
