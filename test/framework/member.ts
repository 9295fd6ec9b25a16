// Real server processes for tests: Debian etcd 3.4 (the reference) and cairn (ours), started with
// spawn (no shell), each on free 127.0.0.1 ports with its own temp data dir, ready when a real
// `etcdctl endpoint health` succeeds. Every process is stopped by its PID only.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { etcdctl } from './etcdctl.js';
import { freePort } from './ports.js';
import { startClusterMember, testClusterSize } from './cluster-member.js';

export type TargetKind = 'cairn' | 'etcd';

/** Repository root (this file is compiled to dist/test/framework/member.js). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CAIRN_JS = process.env['CAIRN_BIN'] ?? join(REPO_ROOT, 'dist/server/src/cmd/cairn.js');
export const ETCD_BIN = process.env['ETCD_BIN'] ?? '/usr/bin/etcd';

/**
 * What `startCairn` really starts: `cairn` by default; `CAIRN_TEST_TARGET=etcd` points the cairn
 * suites at Debian etcd instead (used while cairn is being written, and to validate the tests).
 */
export function cairnTarget(): TargetKind {
  const v = (process.env['CAIRN_TEST_TARGET'] ?? 'cairn').trim().toLowerCase();
  if (v === 'cairn' || v === '') return 'cairn';
  if (v === 'etcd') return 'etcd';
  throw new Error(`CAIRN_TEST_TARGET must be "cairn" or "etcd", got ${JSON.stringify(v)}`);
}

export interface StartOptions {
  /** Member name (`--name`); default `cairn-test` / `etcd-test`. */
  name?: string;
  /** Use this data dir instead of a fresh temp dir; it is then never removed by the framework. */
  dataDir?: string;
  /** Keep the temp data dir after stop(). */
  keepDataDir?: boolean;
  /** `--max-request-bytes`. */
  maxRequestBytes?: number;
  /** Appended to the command line. */
  extraArgs?: string[];
  /** Extra environment variables for the server process. */
  env?: Record<string, string>;
  /** Bound on waiting for readiness (default 20 s). */
  readyTimeoutMs?: number;
}

export interface StopOptions {
  /** Keep the data dir even if the framework created it. */
  keepDataDir?: boolean;
}

export interface Member {
  readonly kind: TargetKind;
  readonly name: string;
  /** `http://127.0.0.1:<port>` — also what `--endpoints` takes. */
  readonly clientUrl: string;
  /** `http://127.0.0.1:<port>` serving `/health` and `/metrics`. */
  readonly metricsUrl: string;
  readonly dataDir: string;
  /** PID of the current (or last) process. */
  readonly pid: number;
  readonly running: boolean;
  /** SIGTERM, wait (bounded), SIGKILL if needed; removes the temp data dir unless kept. Idempotent. */
  stop(opts?: StopOptions): Promise<void>;
  /** SIGKILL and wait for the exit; the data dir is kept (for restart()). */
  kill9(): Promise<void>;
  /** Stops the process if running (keeping the data dir), starts it again on the same dir and ports. */
  restart(): Promise<void>;
  /** Everything the process(es) wrote to stdout/stderr so far (tail, bounded). */
  logs(): string;
}

const LOG_LIMIT = 2 * 1024 * 1024;
const live = new Map<number, ChildProcess>();
let exitHookInstalled = false;

/** Safety net: if the test process exits with servers still running, SIGKILL them by PID. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of live.keys()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Everything needed to start (and restart) one server process; see `launchProcess`. */
export interface ProcessSpec {
  kind: TargetKind;
  name: string;
  command: string;
  args: string[];
  env: Record<string, string> | undefined;
  clientUrl: string;
  metricsUrl: string;
  dataDir: string;
  ownsDataDir: boolean;
  keepDataDir: boolean;
  readyTimeoutMs: number;
  /**
   * Readiness probe (default: `etcdctl endpoint health` on clientUrl succeeds). Returns true when ready,
   * or a string describing why not (shown in the timeout message).
   */
  probe?: () => Promise<true | string>;
}

/** How a process ended: exit code or signal (null when it was the other). */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One server process, restartable on the same data dir and ports. Stopped by its PID only. */
export class ProcessMember implements Member {
  private exitPromise: Promise<void> = Promise.resolve();
  private exited = true;
  private lastPid = 0;
  private log = '';
  private incarnation = 0;
  private removed = false;
  private lastExit: ExitStatus | undefined;

  constructor(private readonly spec: ProcessSpec) {}

  get kind(): TargetKind {
    return this.spec.kind;
  }
  get name(): string {
    return this.spec.name;
  }
  get clientUrl(): string {
    return this.spec.clientUrl;
  }
  get metricsUrl(): string {
    return this.spec.metricsUrl;
  }
  get dataDir(): string {
    return this.spec.dataDir;
  }
  get pid(): number {
    return this.lastPid;
  }
  get running(): boolean {
    return !this.exited;
  }

  logs(): string {
    return this.log;
  }

  /** How the last process ended; undefined while it runs (or before the first start). */
  get exitStatus(): ExitStatus | undefined {
    return this.exited ? this.lastExit : undefined;
  }

  /** Waits up to `ms` for the current process to exit by itself; true if it has exited. */
  async waitExit(ms: number): Promise<boolean> {
    if (this.exited) return true;
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      this.exitPromise.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), ms);
      }),
    ]);
    clearTimeout(timer);
    return exited;
  }

  /** Sends a signal (e.g. SIGSTOP/SIGCONT) to the running process by its PID. */
  signal(sig: NodeJS.Signals): void {
    if (this.exited) throw new Error(`${this.spec.name}: signal ${sig} but the process is not running`);
    process.kill(this.lastPid, sig);
  }

  private append(text: string): void {
    this.log += text;
    if (this.log.length > LOG_LIMIT) this.log = this.log.slice(this.log.length - LOG_LIMIT);
  }

  /** Starts the process; waits for the readiness probe unless `waitReady` is false. */
  async start(opts: { waitReady?: boolean } = {}): Promise<void> {
    if (this.removed) throw new Error(`${this.spec.name}: data dir was removed; cannot start again`);
    if (!this.exited) throw new Error(`${this.spec.name}: already running (pid ${this.lastPid})`);
    installExitHook();
    this.incarnation++;
    this.append(
      `--- [framework] start #${this.incarnation}: ${this.spec.command} ${this.spec.args.join(' ')}\n`,
    );
    const child = spawn(this.spec.command, this.spec.args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.spec.env },
      cwd: tmpdir(),
      windowsHide: true,
    });
    this.exited = false;
    this.lastExit = undefined;
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => this.append(d));
    child.stderr?.on('data', (d: string) => this.append(d));
    this.exitPromise = new Promise<void>((res) => {
      const done = (how: string): void => {
        if (this.exited) return;
        this.exited = true;
        if (child.pid !== undefined) live.delete(child.pid);
        this.append(`--- [framework] process ${child.pid ?? '?'} ${how}\n`);
        res();
      };
      child.once('exit', (code, signal) => {
        this.lastExit = { code, signal };
        done(`exited (code ${code ?? 'null'}, signal ${signal ?? 'none'})`);
      });
      child.once('error', (err) => done(`failed to start: ${err.message}`));
    });
    if (child.pid === undefined) {
      await this.exitPromise;
      throw new Error(`${this.spec.name}: could not start ${this.spec.command}\n${this.log}`);
    }
    this.lastPid = child.pid;
    live.set(child.pid, child);
    if (opts.waitReady !== false) await this.waitReady();
  }

  /** Polls the readiness probe (bounded by readyTimeoutMs); on timeout the process is killed. */
  async waitReady(): Promise<void> {
    const deadline = Date.now() + this.spec.readyTimeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (this.exited) {
        throw new Error(
          `${this.spec.name} (${this.spec.kind}) exited before it became ready.\n--- logs ---\n${this.tail()}`,
        );
      }
      const ok = await (this.spec.probe ?? (() => healthProbe(this.spec.clientUrl)))();
      if (ok === true) return;
      last = ok;
      await sleep(100);
    }
    const pid = this.lastPid;
    await this.signalAndWait('SIGKILL', 5_000);
    throw new Error(
      `${this.spec.name} (${this.spec.kind}, pid ${pid}) not ready within ${this.spec.readyTimeoutMs} ms ` +
        `(last probe: ${last.slice(-500)}).\n--- logs ---\n${this.tail()}`,
    );
  }

  private tail(): string {
    return this.log.slice(-8000);
  }

  /** Sends `sig` to our PID and waits up to `ms` for the exit; true if it exited. */
  private async signalAndWait(sig: NodeJS.Signals, ms: number): Promise<boolean> {
    if (this.exited) return true;
    try {
      process.kill(this.lastPid, sig);
    } catch {
      /* already gone; the exit event will arrive */
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exitPromise.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), ms);
      }),
    ]);
    clearTimeout(timer);
    return !timedOut;
  }

  private async terminate(): Promise<void> {
    if (this.exited) return;
    if (await this.signalAndWait('SIGTERM', 10_000)) return;
    this.append(`--- [framework] SIGTERM not honoured within 10 s; sending SIGKILL\n`);
    if (await this.signalAndWait('SIGKILL', 10_000)) return;
    throw new Error(`${this.spec.name}: pid ${this.lastPid} did not exit after SIGKILL`);
  }

  async stop(opts: StopOptions = {}): Promise<void> {
    await this.terminate();
    const keep = opts.keepDataDir ?? this.spec.keepDataDir;
    if (this.spec.ownsDataDir && !keep && !this.removed) {
      this.removed = true;
      await rm(this.spec.dataDir, { recursive: true, force: true, maxRetries: 3 });
    }
  }

  async kill9(): Promise<void> {
    if (this.exited) throw new Error(`${this.spec.name}: kill9() but the process is not running`);
    if (!(await this.signalAndWait('SIGKILL', 10_000))) {
      throw new Error(`${this.spec.name}: pid ${this.lastPid} did not exit after SIGKILL`);
    }
  }

  async restart(opts: { waitReady?: boolean } = {}): Promise<void> {
    await this.terminate();
    await this.start(opts);
  }
}

/** The default readiness probe: a real `etcdctl endpoint health` (a linearizable read in etcd 3.4). */
async function healthProbe(clientUrl: string): Promise<true | string> {
  const r = await etcdctl(clientUrl, ['--dial-timeout=1s', '--command-timeout=2s', 'endpoint', 'health'], {
    timeoutMs: 5_000,
  });
  return r.code === 0 ? true : `${r.stdout}${r.stderr}`.trim() || `exit ${r.code}`;
}

/**
 * Lower level than startCairn/startEtcd: spawns `spec.command spec.args` (no shell) and, unless
 * `waitReady` is false, waits for the readiness probe. On a failed start the process is stopped.
 */
export async function launchProcess(
  spec: ProcessSpec,
  opts: { waitReady?: boolean } = {},
): Promise<ProcessMember> {
  const m = new ProcessMember(spec);
  try {
    await m.start(opts);
  } catch (err) {
    await m.stop().catch(() => undefined);
    throw err;
  }
  return m;
}

export async function prepareDataDir(
  prefix: string,
  opts: StartOptions,
): Promise<{ dataDir: string; ownsDataDir: boolean }> {
  if (opts.dataDir !== undefined) return { dataDir: opts.dataDir, ownsDataDir: false };
  // mkdtemp creates the directory with mode 0700, which etcd requires.
  return { dataDir: await mkdtemp(join(tmpdir(), `${prefix}-`)), ownsDataDir: true };
}

function launch(spec: ProcessSpec): Promise<Member> {
  return launchProcess(spec);
}

/** Starts Debian etcd 3.4 as a single-member cluster on free 127.0.0.1 ports. */
export async function startEtcd(opts: StartOptions = {}): Promise<Member> {
  if (testClusterSize() > 1) return startClusterMember('etcd', opts, testClusterSize());
  const name = opts.name ?? 'etcd-test';
  const [clientPort, peerPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  const { dataDir, ownsDataDir } = await prepareDataDir(`etcd-test-${name}`, opts);
  const args = [
    `--name=${name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=${name}=${peerUrl}`,
    '--initial-cluster-state=new',
    `--listen-metrics-urls=${metricsUrl}`,
    '--logger=zap',
    '--log-outputs=stderr',
  ];
  if (opts.maxRequestBytes !== undefined) args.push(`--max-request-bytes=${opts.maxRequestBytes}`);
  args.push(...(opts.extraArgs ?? []));
  return launch({
    kind: 'etcd',
    name,
    command: ETCD_BIN,
    args,
    env: opts.env,
    clientUrl,
    metricsUrl,
    dataDir,
    ownsDataDir,
    keepDataDir: opts.keepDataDir ?? false,
    readyTimeoutMs: opts.readyTimeoutMs ?? 20_000,
  });
}

/**
 * Starts `cairn` (node dist/server/src/cmd/cairn.js) with etcd's flag names — or Debian etcd when
 * CAIRN_TEST_TARGET=etcd. Fails (does not skip) when cairn has not been built.
 */
export async function startCairn(opts: StartOptions = {}): Promise<Member> {
  if (cairnTarget() === 'etcd') return startEtcd({ ...opts, name: opts.name ?? 'cairn-test' });
  if (testClusterSize() > 1) return startClusterMember('cairn', opts, testClusterSize());
  if (!existsSync(CAIRN_JS)) {
    throw new Error(
      `cairn binary not found at ${CAIRN_JS}: build it (npm run build), ` +
        `or set CAIRN_TEST_TARGET=etcd to run this suite against Debian etcd`,
    );
  }
  const name = opts.name ?? 'cairn-test';
  const [clientPort, peerPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const metricsUrl = `http://127.0.0.1:${metricsPort}`;
  const { dataDir, ownsDataDir } = await prepareDataDir(`cairn-test-${name}`, opts);
  const args = [
    CAIRN_JS,
    '--name',
    name,
    '--data-dir',
    dataDir,
    '--listen-client-urls',
    clientUrl,
    '--advertise-client-urls',
    clientUrl,
    '--listen-metrics-urls',
    metricsUrl,
    '--listen-peer-urls',
    peerUrl,
    '--initial-advertise-peer-urls',
    peerUrl,
  ];
  if (opts.maxRequestBytes !== undefined) args.push('--max-request-bytes', String(opts.maxRequestBytes));
  args.push(...(opts.extraArgs ?? []));
  return launch({
    kind: 'cairn',
    name,
    command: process.execPath,
    args,
    env: opts.env,
    clientUrl,
    metricsUrl,
    dataDir,
    ownsDataDir,
    keepDataDir: opts.keepDataDir ?? false,
    readyTimeoutMs: opts.readyTimeoutMs ?? 20_000,
  });
}

/** Stops every given member (ignoring undefined), collecting errors so one failure does not leak the rest. */
export async function stopAll(...members: (Member | undefined)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const m of members) {
    if (m === undefined) continue;
    try {
      await m.stop();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw errors[0];
}
