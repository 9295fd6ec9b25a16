// Long-running processes of the environment: spawned detached (they outlive `e2e:up`), output to
// <runDir>/logs/<name>.log, recorded by PID with their cmdline and start time, and stopped by that PID only
// (SIGTERM, a grace period, SIGKILL) after checking that the PID still names the same process.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './exec.js';
import type { RecordedProcess } from './state.js';

export function readCmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return undefined;
  }
}

function readStat(pid: number): { state: string; startTime: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0] ?? '?', startTime: rest[19] ?? '' };
  } catch {
    return undefined;
  }
}

export function readStartTime(pid: number): string | undefined {
  return readStat(pid)?.startTime;
}

/** Exists and is not a zombie (a zombie has exited; it only waits for its parent to reap it). */
export function isRunning(pid: number): boolean {
  const st = readStat(pid);
  return st !== undefined && st.state !== 'Z' && st.state !== 'X';
}

/** The PID is alive and still the recorded process (same cmdline, and same start time when recorded). */
export function isSameProcess(p: Pick<RecordedProcess, 'pid' | 'cmdline' | 'startTime'>): boolean {
  if (!isRunning(p.pid)) return false;
  if (readCmdline(p.pid) !== p.cmdline.trim()) return false;
  return p.startTime === undefined || readStartTime(p.pid) === p.startTime;
}

/** The last `lines` lines of a log, for error messages. */
export function logTail(path: string | undefined, lines = 25): string {
  if (!path || !existsSync(path)) return '';
  const size = statSync(path).size;
  const len = Math.min(size, 64 * 1024);
  const buf = Buffer.alloc(len);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, len, size - len);
  } finally {
    closeSync(fd);
  }
  const text = buf.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  return text === '' ? `(${path} is empty)` : `--- last ${lines} lines of ${path} ---\n${text}`;
}

export interface SpawnOptions {
  name: string;
  /** What runs in the end, e.g. [kube-apiserver, ...flags]. */
  argv: readonly string[];
  /** Prepended launcher that execs `argv` (ip netns exec NS / nsenter --net=...): same PID. */
  launcher: readonly string[];
  logDir: string;
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

const EXEC_WAIT_MS = 5_000;

export async function spawnTracked(opts: SpawnOptions): Promise<RecordedProcess> {
  const log = join(opts.logDir, `${opts.name}.log`);
  const fd = openSync(log, 'w');
  const full = [...opts.launcher, ...opts.argv];
  // detached: own process group, so a Ctrl-C in the terminal that ran `e2e:up` does not reach it; the
  // environment is stopped by `e2e:down`, by PID.
  const child = spawn(full[0] ?? '', full.slice(1), {
    detached: true,
    stdio: ['ignore', fd, fd],
    cwd: opts.cwd,
    env: opts.env ?? process.env,
  });
  closeSync(fd);
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError = err));
  child.unref();
  const pid = child.pid;
  if (pid === undefined) {
    await sleep(10);
    throw new Error(`cannot start ${opts.name} (${full.join(' ')}): ${spawnError?.message ?? 'no pid'}`);
  }
  // Record the cmdline the process has after the launcher exec'd it, not the launcher's.
  const want = opts.argv.join(' ');
  const deadline = Date.now() + EXEC_WAIT_MS;
  let cmdline = readCmdline(pid);
  while (cmdline !== want && Date.now() < deadline) {
    if (!isRunning(pid)) {
      throw new Error(
        `${opts.name} exited right after start (exit ${String(child.exitCode)})\n${logTail(log)}`,
      );
    }
    await sleep(20);
    cmdline = readCmdline(pid);
  }
  if (cmdline === undefined || cmdline === full.join(' ')) {
    throw new Error(`${opts.name} (pid ${pid}) did not exec within ${EXEC_WAIT_MS} ms\n${logTail(log)}`);
  }
  return { name: opts.name, pid, cmdline, startTime: readStartTime(pid), log };
}

export type StopOutcome = 'not running' | 'terminated' | 'killed' | 'survived SIGKILL';

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isRunning(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/** SIGTERM, up to `graceMs`, then SIGKILL. Does nothing unless the PID is still the recorded process. */
export async function stopProcess(
  p: Pick<RecordedProcess, 'pid' | 'cmdline' | 'startTime'>,
  graceMs: number,
): Promise<StopOutcome> {
  if (!isSameProcess(p)) return 'not running';
  try {
    process.kill(p.pid, 'SIGTERM');
  } catch {
    return 'not running';
  }
  if (await waitGone(p.pid, graceMs)) return 'terminated';
  return killProcess(p);
}

/** SIGKILL straight away (after the same identity check), then wait briefly for it to be gone. */
export async function killProcess(
  p: Pick<RecordedProcess, 'pid' | 'cmdline' | 'startTime'>,
): Promise<StopOutcome> {
  if (!isSameProcess(p)) return 'not running';
  try {
    process.kill(p.pid, 'SIGKILL');
  } catch {
    return 'not running';
  }
  return (await waitGone(p.pid, 5_000)) ? 'killed' : 'survived SIGKILL';
}
