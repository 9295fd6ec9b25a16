// state.json: everything `down` needs to undo an environment, written before each step that creates
// something (so a crash half-way through `up` still leaves a state `down` can clean up). `down` renames it
// to state.last.json, which the teardown test reads to check that nothing recorded is left.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { RunPaths } from './config.js';

export interface RecordedProcess {
  name: string;
  pid: number;
  /** /proc/<pid>/cmdline with NULs as spaces, read after the exec: the PID-reuse guard. */
  cmdline: string;
  /** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot): a second PID-reuse guard. */
  startTime?: string;
  log?: string;
}

export interface EnvState {
  version: 1;
  prefix: string;
  runDir: string;
  repoRoot: string;
  /** The env netns (named like the prefix). */
  netns: string;
  createdAt: string;
  kubernetesVersion?: string;
  kubectl?: string;
  kubeconfig: string;
  /** Every path of the run (kubeconfig, wrapper, logs, agent dir, ...), for whoever inspects a run. */
  paths?: RunPaths;
  /** In start order; `down` stops them in reverse. */
  processes: RecordedProcess[];
  /** Filled by `down`: the agent's children it found in <runDir>/agent/pids. */
  agentChildren?: RecordedProcess[];
  stoppedAt?: string;
}

export function readState(path: string): EnvState | undefined {
  if (!existsSync(path)) return undefined;
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as EnvState;
  if (parsed.version !== 1) throw new Error(`${path}: unknown state version ${String(parsed.version)}`);
  return parsed;
}

/** Write-then-rename, so a reader never sees half a file. */
export function writeState(path: string, state: EnvState): void {
  writeFileSync(`${path}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}
