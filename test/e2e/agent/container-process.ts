// One run of one container: the process the agent spawns through container-init.sh, its log file, the
// record of its PID that lets `e2e:down` stop it even if the agent died, and the signals that end it.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IP, UNSHARE } from './exec.js';

export interface ProcessSpec {
  /** The pod's network namespace; undefined runs in the environment's (hostNetwork). */
  netns: string | undefined;
  initScript: string;
  rootDir: string;
  hostname: string;
  workingDir: string;
  mountsFile: string;
  /** `uid:gid` or `-` for the image's user (root). */
  userSpec: string;
  readOnlyRootFilesystem: boolean;
  argv: string[];
  env: Map<string, string>;
  logFile: string;
  /** Where the PID record goes (`<runDir>/agent/pids`). */
  pidDir: string;
}

export interface Exit {
  /** Exit code, or 128+signal when killed by a signal (the container runtimes' convention). */
  exitCode: number;
  signal: NodeJS.Signals | null;
}

const SIGNAL_NUMBERS: Readonly<Partial<Record<NodeJS.Signals, number>>> = {
  SIGKILL: 9,
  SIGTERM: 15,
  SIGINT: 2,
};

export class ContainerProcess {
  readonly pid: number;
  readonly exited: Promise<Exit>;
  private readonly pidRecord: string;
  private done = false;

  private constructor(child: ChildProcess, pidRecord: string) {
    if (child.pid === undefined) throw new Error('spawn failed');
    this.pid = child.pid;
    this.pidRecord = pidRecord;
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.done = true;
        void rm(this.pidRecord, { force: true });
        const bySignal = signal === null ? undefined : (SIGNAL_NUMBERS[signal] ?? 1);
        resolve({ exitCode: code ?? 128 + (bySignal ?? 0), signal });
      });
    });
  }

  static async start(spec: ProcessSpec): Promise<ContainerProcess> {
    await mkdir(spec.pidDir, { recursive: true });
    const launcher = [
      '/bin/sh',
      spec.initScript,
      spec.rootDir,
      spec.hostname,
      spec.workingDir,
      spec.mountsFile,
    ];
    launcher.push(spec.userSpec, spec.readOnlyRootFilesystem ? 'ro' : 'rw', '--', ...spec.argv);
    const [file, args] =
      spec.netns === undefined
        ? [UNSHARE, ['--mount', '--uts', '--propagation', 'slave', '--', ...launcher]]
        : [IP, ['netns', 'exec', spec.netns, UNSHARE, '--uts', '--', ...launcher]];
    const log = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        env: Object.fromEntries(spec.env),
        stdio: ['ignore', log, log],
        // Its own process group: the final SIGKILL reaches whatever the container started too.
        detached: true,
      });
    } finally {
      closeSync(log);
    }
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    const record = join(spec.pidDir, String(child.pid));
    const proc = new ContainerProcess(child, record);
    // The record holds the process's start time (field 22 of /proc/<pid>/stat), which survives the
    // exec chain, so `e2e:down` never signals a recycled PID.
    await writeFile(record, `${startTime(proc.pid) ?? ''}\n`);
    return proc;
  }

  get running(): boolean {
    return !this.done;
  }

  /** Signals the container's main process (SIGTERM for a graceful stop). */
  signal(signal: NodeJS.Signals): void {
    if (this.done) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // Already gone: the exit event follows.
    }
  }

  /** SIGKILL to the container's whole process group. */
  kill(): void {
    if (this.done) return;
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      this.signal('SIGKILL');
    }
  }
}

export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}
