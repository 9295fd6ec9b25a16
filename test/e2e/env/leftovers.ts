// What an environment can leave behind on the host: recorded processes still alive, network namespaces of
// the run, and mounts (a netns name is a bind mount in /run/netns; a pod volume bind-mounted in the host's
// mount namespace would show up under the run dir). The teardown test and `up` both ask this.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { isRunNetns } from './config.js';
import { listNetns } from './netns.js';
import { isRunning, isSameProcess, readCmdline } from './processes.js';
import type { RecordedProcess } from './state.js';

export interface Leftovers {
  processes: RecordedProcess[];
  /**
   * Live processes nobody recorded that belong to the run: a cmdline naming the run dir (every component's
   * does) or a root directory inside it (every pod container is chrooted into the agent's pod dir).
   */
  unrecorded: RecordedProcess[];
  netns: string[];
  mounts: string[];
}

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

/** Lines of /proc/self/mountinfo whose mount point or source root is in the run dir or is a run netns. */
export function runMounts(prefix: string, runDir: string): string[] {
  const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  return lines.filter((line) => {
    // Fields: id parent major:minor root mount-point ... (octal escapes such as \040 for spaces).
    const f = line.split(' ');
    const root = f[3] ?? '';
    const mountPoint = f[4] ?? '';
    if (under(mountPoint, runDir) || under(root, runDir)) return true;
    const m = /^\/run\/netns\/(.+)$/.exec(mountPoint) ?? /^\/var\/run\/netns\/(.+)$/.exec(mountPoint);
    return m?.[1] !== undefined && isRunNetns(prefix, m[1]);
  });
}

/**
 * A safety net behind the PID records: any live process whose command line mentions the run dir, or whose
 * root (/proc/<pid>/root) lies inside it — a pod container's command line is the user's, but its root is the
 * agent's pod dir. Mentions of logs/ alone do not count (someone may be running `tail -f` on a log, which is
 * not a leak of the run).
 */
export function processesMentioning(runDir: string): RecordedProcess[] {
  const found: RecordedProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid || !isRunning(pid)) continue;
    const cmdline = readCmdline(pid);
    if (!cmdline) continue;
    const rest = cmdline.split(`${runDir}/logs`).join('');
    if (rest.includes(`${runDir}/`) || rest.split(' ').includes(runDir) || under(processRoot(pid), runDir)) {
      found.push({ name: 'unrecorded', pid, cmdline });
    }
  }
  return found;
}

function processRoot(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/root`);
  } catch {
    return '';
  }
}

export async function findLeftovers(opts: {
  prefix: string;
  runDir: string;
  processes: readonly RecordedProcess[];
}): Promise<Leftovers> {
  return {
    processes: opts.processes.filter((p) => isSameProcess(p)),
    unrecorded: processesMentioning(opts.runDir).filter((u) => !opts.processes.some((p) => p.pid === u.pid)),
    netns: (await listNetns()).filter((n) => isRunNetns(opts.prefix, n)),
    mounts: runMounts(opts.prefix, opts.runDir),
  };
}

export function isClean(l: Leftovers): boolean {
  return (
    l.processes.length === 0 && l.unrecorded.length === 0 && l.netns.length === 0 && l.mounts.length === 0
  );
}

export function describeLeftovers(l: Leftovers): string {
  const out: string[] = [];
  for (const p of l.processes) out.push(`process ${p.name} pid ${p.pid}: ${p.cmdline}`);
  for (const p of l.unrecorded)
    out.push(`unrecorded process pid ${p.pid} of the run (cmdline or root in the run dir): ${p.cmdline}`);
  for (const n of l.netns) out.push(`netns ${n}`);
  for (const m of l.mounts) out.push(`mount ${m}`);
  return out.join('\n');
}
