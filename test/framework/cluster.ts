// Multi-member clusters of real server processes for the cluster process tests: N members of cairn (or of
// Debian etcd 3.4 with CAIRN_TEST_TARGET=etcd) on free 127.0.0.1 ports, bootstrapped from etcd's flags
// (--initial-cluster, a unique --initial-cluster-token, state new). Membership changes go through a real
// `etcdctl member add|promote|remove`; leaders are found through `etcdctl endpoint status`. Every wait is
// bounded and every process is stopped by its PID.
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { etcdctl, type EtcdctlResult } from './etcdctl.js';
import {
  CAIRN_JS,
  ETCD_BIN,
  cairnTarget,
  ProcessMember,
  prepareDataDir,
  type ExitStatus,
  type TargetKind,
} from './member.js';
import { parseJson } from './output.js';
import { freePort } from './ports.js';

export interface ClusterOptions {
  /** Number of voting members started with --initial-cluster-state=new. */
  size: number;
  /** Default: cairnTarget() (etcd when CAIRN_TEST_TARGET=etcd). */
  target?: TargetKind;
  /** --heartbeat-interval in ms (default 50: small, to keep elections fast). */
  heartbeatMs?: number;
  /** --election-timeout in ms (default 500). */
  electionMs?: number;
  /** --snapshot-count (default: the server's own). */
  snapshotCount?: number;
  /** Appended to every member's command line (also for members added later). */
  extraArgs?: string[];
  /** Extra environment for every member's process. */
  env?: Record<string, string>;
  /** Bound on each member becoming ready (default 30 s). */
  readyTimeoutMs?: number;
  /** Member names are `<prefix>0`, `<prefix>1`, ... (default `m`). */
  namePrefix?: string;
}

/** `etcdctl endpoint status -w json`'s Status, with uint64 ids as decimal strings. */
export interface EndpointStatus {
  memberId: string;
  clusterId: string;
  leader: string;
  revision: number;
  raftIndex: number;
  raftAppliedIndex: number;
  raftTerm: number;
  isLearner: boolean;
  errors: string[];
}

/** One entry of `etcdctl member list -w json` (ID as decimal string, as etcdctl prints it). */
export interface MemberInfo {
  ID: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** uint64 as etcdctl prints it in JSON (number or decimal string) → decimal string. */
function dec(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'bigint') return BigInt(v).toString();
  return '0';
}

/** Decimal uint64 id → the hex form `member remove|promote` take. */
export function hexId(decimalId: string): string {
  return BigInt(decimalId).toString(16);
}

/** `http://127.0.0.1:1234` → `127.0.0.1:1234` (what etcdctl 3.4's status/hashkv need, see etcdctl.ts). */
export function bare(url: string): string {
  return url.replace(/^https?:\/\//, '');
}

/**
 * An npm `etcd3` client bound to exactly the given member(s), every call bounded by a deadline so that no
 * call hangs on a dead or paused member. The caller closes it.
 */
export function kvClient(members: ClusterMember | ClusterMember[], callTimeoutMs = 3_000): Etcd3 {
  const ms = Array.isArray(members) ? members : [members];
  return new Etcd3({
    hosts: ms.map((m) => m.clientUrl),
    dialTimeout: 2_000,
    defaultCallOptions: () => ({ deadline: Date.now() + callTimeoutMs }),
  });
}

/** One member of a cluster: its URLs and data dir never change across restarts. */
export class ClusterMember {
  /** Set once the process has answered `endpoint status` (decimal uint64). */
  id: string | undefined;
  /** Whether it was added as a learner and not (yet) promoted by this framework. */
  learner: boolean;

  constructor(
    readonly kind: TargetKind,
    readonly name: string,
    readonly clientUrl: string,
    readonly peerUrl: string,
    readonly metricsUrl: string,
    readonly dataDir: string,
    readonly proc: ProcessMember,
    learner: boolean,
  ) {
    this.learner = learner;
  }

  /** host:port of the client URL. */
  get endpoint(): string {
    return bare(this.clientUrl);
  }
  /** Where etcd (and cairn) keep WAL segments: `<data-dir>/member/wal/*.wal`. */
  get walDir(): string {
    return join(this.dataDir, 'member', 'wal');
  }
  get pid(): number {
    return this.proc.pid;
  }
  get running(): boolean {
    return this.proc.running;
  }
  get exitStatus(): ExitStatus | undefined {
    return this.proc.exitStatus;
  }
  logs(): string {
    return this.proc.logs();
  }
  /** SIGKILL by PID; the data dir is kept. */
  kill9(): Promise<void> {
    return this.proc.kill9();
  }
  /** SIGTERM (then SIGKILL after 10 s) by PID; the data dir is kept for restart(). */
  async stop(): Promise<void> {
    if (this.running) this.resume();
    await this.proc.stop({ keepDataDir: true });
  }
  /** Starts the process again on the same data dir and ports (stopping it first if it runs). */
  async restart(opts: { waitReady?: boolean } = {}): Promise<void> {
    if (this.running) this.resume();
    await this.proc.restart(opts);
  }
  waitExit(ms: number): Promise<boolean> {
    return this.proc.waitExit(ms);
  }
  waitReady(): Promise<void> {
    return this.proc.waitReady();
  }
  /** SIGSTOP by PID: the process freezes, its sockets stay open. */
  pause(): void {
    this.proc.signal('SIGSTOP');
  }
  /** SIGCONT by PID (harmless when not stopped). */
  resume(): void {
    this.proc.signal('SIGCONT');
  }
  /** `etcdctl --endpoints=<this member> args...`. */
  ctl(args: readonly string[], timeoutMs = 15_000): Promise<EtcdctlResult> {
    return etcdctl(this.clientUrl, args, { timeoutMs });
  }
  /** `endpoint hashkv` of this member, or a string saying why it failed. */
  async hashkv(timeoutMs = 10_000): Promise<HashKV | string> {
    const r = await etcdctl(
      this.clientUrl,
      ['--dial-timeout=1s', '--command-timeout=5s', 'endpoint', 'hashkv', '-w', 'json'],
      { bareEndpoint: true, timeoutMs },
    );
    if (r.code !== 0) return `${r.stdout}${r.stderr}`.trim() || `exit ${r.code}`;
    try {
      const h = (parseJson(r.stdout) as { HashKV: Record<string, unknown> }[])[0]!.HashKV;
      const header = h['header'] as Record<string, unknown>;
      return {
        revision: Number(header['revision'] ?? 0),
        hash: Number(h['hash'] ?? 0),
        compactRevision: Number(h['compact_revision'] ?? 0),
      };
    } catch (err) {
      return `unparsable endpoint hashkv: ${(err as Error).message}: ${r.stdout}`;
    }
  }
  /** Sum of every sample of a Prometheus counter/gauge on this member's metrics URL (0 if absent). */
  async metricSum(name: string): Promise<number> {
    const res = await fetch(`${this.metricsUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
    const text = await res.text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith('#')) continue;
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
      if (m !== null && m[1] === name) sum += Number(m[3]);
    }
    return sum;
  }
  /** `endpoint status` of this member, or a string saying why it failed. */
  async status(timeoutMs = 5_000): Promise<EndpointStatus | string> {
    const r = await etcdctl(
      this.clientUrl,
      ['--dial-timeout=1s', '--command-timeout=2s', 'endpoint', 'status', '-w', 'json'],
      { bareEndpoint: true, timeoutMs },
    );
    if (r.code !== 0) return `${r.stdout}${r.stderr}`.trim() || `exit ${r.code}`;
    try {
      const arr = parseJson(r.stdout) as { Status: Record<string, unknown> }[];
      const s = arr[0]!.Status;
      const header = s['header'] as Record<string, unknown>;
      const st: EndpointStatus = {
        memberId: dec(header['member_id']),
        clusterId: dec(header['cluster_id']),
        leader: dec(s['leader']),
        revision: Number(header['revision'] ?? 0),
        raftIndex: Number(s['raftIndex'] ?? 0),
        raftAppliedIndex: Number(s['raftAppliedIndex'] ?? 0),
        raftTerm: Number(s['raftTerm'] ?? 0),
        isLearner: s['isLearner'] === true,
        errors: (s['errors'] as string[] | undefined) ?? [],
      };
      this.id = st.memberId;
      return st;
    } catch (err) {
      return `unparsable endpoint status: ${(err as Error).message}: ${r.stdout}`;
    }
  }
}

/** `etcdctl endpoint hashkv -w json` of one member: the KV hash at its current revision. */
export interface HashKV {
  revision: number;
  hash: number;
  compactRevision: number;
}

export interface AddMemberOptions {
  /** `member add --learner`. */
  learner?: boolean;
  /** Start the new process (default true). With false, only the membership entry is added. */
  start?: boolean;
  /** Wait for the new process to be ready (default true; a learner is ready once `endpoint status` answers). */
  waitReady?: boolean;
}

export interface Cluster {
  readonly kind: TargetKind;
  readonly token: string;
  /** Every member this framework started or added (removed members stay in the list, stopped or not). */
  readonly members: ClusterMember[];
  /** Comma-separated `http://127.0.0.1:port` client URLs of the given members (default: all running). */
  endpoints(of?: ClusterMember[]): string;
  /** The member that `endpoint status` reports as leader of itself (bounded wait, default 10 s). */
  leader(timeoutMs?: number): Promise<ClusterMember>;
  /**
   * Waits (bounded) until a running member not in `exclude` is leader and every running member not in
   * `exclude` reports that same leader.
   */
  waitLeader(exclude?: ClusterMember[], timeoutMs?: number): Promise<ClusterMember>;
  /** `etcdctl member list -w json` through one member. */
  memberList(via: ClusterMember): Promise<MemberInfo[]>;
  /** `etcdctl member add` through the running voters, then (by default) starts the new process. */
  addMember(name: string, opts?: AddMemberOptions): Promise<ClusterMember>;
  /** Starts the process of a member added with `start: false`. */
  startAdded(m: ClusterMember, opts?: { waitReady?: boolean }): Promise<void>;
  /** `etcdctl member promote` through the voters; returns etcdctl's result (not asserted). */
  promote(m: ClusterMember): Promise<EtcdctlResult>;
  /** `etcdctl member remove` through the other running voters; returns etcdctl's result (not asserted). */
  removeMember(m: ClusterMember): Promise<EtcdctlResult>;
  /** cairn's isolate failpoint (drop every peer message in and out); throws for etcd, which has none. */
  isolate(m: ClusterMember, on: boolean): Promise<void>;
  /**
   * Waits (bounded, default 30 s) until the given running members (default: all running) report the same
   * revision and the same `endpoint hashkv`; returns that revision.
   */
  waitConverged(of?: ClusterMember[], timeoutMs?: number): Promise<HashKV>;
  /** Kills every process (SIGKILL by PID) and removes the data dirs. */
  stop(): Promise<void>;
}

interface Ports {
  clientUrl: string;
  peerUrl: string;
  metricsUrl: string;
}

async function allocate(): Promise<Ports> {
  const [c, p, m] = [await freePort(), await freePort(), await freePort()];
  return {
    clientUrl: `http://127.0.0.1:${c}`,
    peerUrl: `http://127.0.0.1:${p}`,
    metricsUrl: `http://127.0.0.1:${m}`,
  };
}

class ProcessCluster implements Cluster {
  readonly members: ClusterMember[] = [];
  readonly token = `cairn-test-${randomBytes(6).toString('hex')}`;
  private stopped = false;

  constructor(
    readonly kind: TargetKind,
    private readonly opts: ClusterOptions,
  ) {}

  private args(
    name: string,
    ports: Ports,
    dataDir: string,
    initialCluster: string,
    state: 'new' | 'existing',
  ): string[] {
    const o = this.opts;
    const a = [
      `--name=${name}`,
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${ports.clientUrl}`,
      `--advertise-client-urls=${ports.clientUrl}`,
      `--listen-peer-urls=${ports.peerUrl}`,
      `--initial-advertise-peer-urls=${ports.peerUrl}`,
      `--listen-metrics-urls=${ports.metricsUrl}`,
      `--initial-cluster=${initialCluster}`,
      `--initial-cluster-state=${state}`,
      `--initial-cluster-token=${this.token}`,
      `--heartbeat-interval=${o.heartbeatMs ?? 50}`,
      `--election-timeout=${o.electionMs ?? 500}`,
    ];
    if (o.snapshotCount !== undefined) a.push(`--snapshot-count=${o.snapshotCount}`);
    if (this.kind === 'etcd') a.push('--logger=zap', '--log-outputs=stderr');
    a.push(...(o.extraArgs ?? []));
    return this.kind === 'cairn' ? [CAIRN_JS, ...a] : a;
  }

  /** A member object whose process is not started yet (start it with `proc.start()`). */
  async makeMember(
    name: string,
    ports: Ports,
    initialCluster: string,
    state: 'new' | 'existing',
    learner: boolean,
  ): Promise<ClusterMember> {
    const { dataDir } = await prepareDataDir(`${this.kind}-cluster-${name}`, {});
    // A learner refuses the linearizable read behind `endpoint health`, so a learner is ready once
    // `endpoint status` answers and knows a leader; a voter once `endpoint health` succeeds.
    const probe = async (): Promise<true | string> => {
      if (!member.learner) {
        const r = await etcdctl(
          member.clientUrl,
          ['--dial-timeout=1s', '--command-timeout=2s', 'endpoint', 'health'],
          { timeoutMs: 5_000 },
        );
        return r.code === 0 ? true : `${r.stdout}${r.stderr}`.trim() || `exit ${r.code}`;
      }
      const s = await member.status();
      if (typeof s === 'string') return s;
      return s.leader !== '0' ? true : 'learner has no leader yet';
    };
    const proc = new ProcessMember({
      kind: this.kind,
      name,
      command: this.kind === 'cairn' ? process.execPath : ETCD_BIN,
      args: this.args(name, ports, dataDir, initialCluster, state),
      env: this.opts.env,
      clientUrl: ports.clientUrl,
      metricsUrl: ports.metricsUrl,
      dataDir,
      ownsDataDir: true,
      keepDataDir: false,
      readyTimeoutMs: this.opts.readyTimeoutMs ?? 30_000,
      probe,
    });
    const member: ClusterMember = new ClusterMember(
      this.kind,
      name,
      ports.clientUrl,
      ports.peerUrl,
      ports.metricsUrl,
      dataDir,
      proc,
      learner,
    );
    return member;
  }

  endpoints(of?: ClusterMember[]): string {
    return (of ?? this.members.filter((m) => m.running)).map((m) => m.clientUrl).join(',');
  }

  async leader(timeoutMs = 10_000): Promise<ClusterMember> {
    return this.waitLeader([], timeoutMs, false);
  }

  async waitLeader(exclude: ClusterMember[] = [], timeoutMs = 10_000, agree = true): Promise<ClusterMember> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const candidates = this.members.filter((m) => m.running && !exclude.includes(m));
      const statuses = await Promise.all(candidates.map((m) => m.status()));
      const leaders = new Set<string>();
      let found: ClusterMember | undefined;
      const notes: string[] = [];
      statuses.forEach((s, i) => {
        const m = candidates[i]!;
        if (typeof s === 'string') {
          notes.push(`${m.name}: ${s.split('\n').slice(-1)[0] ?? s}`);
          return;
        }
        notes.push(`${m.name}: id ${s.memberId} leader ${s.leader} term ${s.raftTerm}`);
        leaders.add(s.leader);
        if (s.leader !== '0' && s.leader === s.memberId) found = m;
      });
      last = notes.join('; ');
      const unanimous = leaders.size === 1 && statuses.every((s) => typeof s !== 'string');
      if (found !== undefined && (!agree || unanimous)) return found;
      if (Date.now() > deadline) {
        throw new Error(
          `no leader${agree ? ' agreed on by every member' : ''} within ${timeoutMs} ms: ${last}`,
        );
      }
      await sleep(50);
    }
  }

  async memberList(via: ClusterMember): Promise<MemberInfo[]> {
    const r = await via.ctl(['member', 'list', '-w', 'json']);
    if (r.code !== 0) throw new Error(`member list via ${via.name} failed: ${r.stderr}`);
    const j = parseJson(r.stdout) as { members?: Record<string, unknown>[] };
    return (j.members ?? []).map((m) => ({
      ID: dec(m['ID']),
      name: typeof m['name'] === 'string' ? m['name'] : '',
      peerURLs: (m['peerURLs'] as string[] | undefined) ?? [],
      clientURLs: (m['clientURLs'] as string[] | undefined) ?? [],
      isLearner: m['isLearner'] === true,
    }));
  }

  private voters(except?: ClusterMember): ClusterMember[] {
    return this.members.filter((m) => m.running && !m.learner && m !== except);
  }

  async addMember(name: string, opts: AddMemberOptions = {}): Promise<ClusterMember> {
    const ports = await allocate();
    const args = ['member', 'add', name, `--peer-urls=${ports.peerUrl}`];
    if (opts.learner === true) args.push('--learner');
    const r = await this.ctlRetryingUnhealthy(this.voters(), args);
    if (r.code !== 0) throw new Error(`member add ${name} failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
    // etcdctl prints the environment the new member needs, e.g. ETCD_INITIAL_CLUSTER="a=http://..,b=..".
    const ic = /ETCD_INITIAL_CLUSTER="([^"]*)"/.exec(r.stdout)?.[1];
    const id = /Member +([0-9a-f]+) added/.exec(r.stdout)?.[1];
    if (ic === undefined || id === undefined) throw new Error(`unexpected member add output: ${r.stdout}`);
    const member = await this.makeMember(name, ports, ic, 'existing', opts.learner === true);
    member.id = BigInt(`0x${id}`).toString();
    this.members.push(member);
    if (opts.start !== false) await this.startAdded(member, { waitReady: opts.waitReady ?? true });
    return member;
  }

  async startAdded(m: ClusterMember, opts: { waitReady?: boolean } = {}): Promise<void> {
    await m.proc.start({ waitReady: opts.waitReady ?? true });
  }

  async promote(m: ClusterMember): Promise<EtcdctlResult> {
    if (m.id === undefined) throw new Error(`${m.name}: member id unknown`);
    const r = await etcdctl(this.endpoints(this.voters(m)), ['member', 'promote', hexId(m.id)], {
      timeoutMs: 20_000,
    });
    if (r.code === 0) m.learner = false;
    return r;
  }

  async removeMember(m: ClusterMember): Promise<EtcdctlResult> {
    if (m.id === undefined) {
      const s = await m.status();
      if (typeof s === 'string') throw new Error(`${m.name}: member id unknown (${s})`);
    }
    return this.ctlRetryingUnhealthy(this.voters(m), ['member', 'remove', hexId(m.id!)]);
  }

  /**
   * etcd's strict reconfiguration check refuses member add/remove with "etcdserver: unhealthy cluster"
   * until the leader has been connected to the members for 5 s (HealthInterval); retried, bounded (20 s).
   */
  private async ctlRetryingUnhealthy(via: ClusterMember[], args: string[]): Promise<EtcdctlResult> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await etcdctl(this.endpoints(via), args, { timeoutMs: 20_000 });
      if (r.code === 0 || !r.stderr.includes('unhealthy cluster') || Date.now() > deadline) return r;
      await sleep(250);
    }
  }

  async isolate(m: ClusterMember, on: boolean): Promise<void> {
    if (this.kind !== 'cairn') {
      throw new Error(
        "isolate() needs cairn's partition failpoint (CAIRN_FAILPOINTS=1); etcd has none — use pause()/resume() (SIGSTOP/SIGCONT) there",
      );
    }
    const res = await fetch(`${m.metricsUrl}/debug/failpoints/isolate`, {
      method: 'PUT',
      body: on ? 'on' : 'off',
      signal: AbortSignal.timeout(5_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`isolate ${m.name} ${on ? 'on' : 'off'}: HTTP ${res.status} ${text}`);
  }

  async waitConverged(of?: ClusterMember[], timeoutMs = 30_000): Promise<HashKV> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ms = of ?? this.members.filter((m) => m.running);
      const hs = await Promise.all(ms.map((m) => m.hashkv()));
      const first = hs[0];
      if (
        typeof first === 'object' &&
        hs.every((h) => typeof h === 'object' && h.revision === first.revision && h.hash === first.hash)
      ) {
        return first;
      }
      if (Date.now() > deadline) {
        const seen = hs.map(
          (h, i) => `${ms[i]!.name}: ${typeof h === 'string' ? h.slice(-300) : JSON.stringify(h)}`,
        );
        throw new Error(`members did not converge within ${timeoutMs} ms:\n${seen.join('\n')}`);
      }
      await sleep(200);
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const errors: unknown[] = [];
    await Promise.all(
      this.members.map(async (m) => {
        try {
          // Teardown asserts nothing about shutdown, so SIGKILL (works on SIGSTOPped processes too): a
          // graceful etcd stop of the last members waits for a leader transfer that cannot happen.
          if (m.running) await m.proc.kill9();
          await m.proc.stop();
        } catch (err) {
          errors.push(err);
        }
      }),
    );
    if (errors.length > 0) throw errors[0];
  }
}

/**
 * Starts `size` members with one --initial-cluster and a fresh token, and waits (bounded) until every
 * member is ready (`endpoint health`) and all agree on a leader. On failure everything started is stopped.
 */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const kind = opts.target ?? cairnTarget();
  if (kind === 'cairn' && !existsSync(CAIRN_JS)) {
    throw new Error(
      `cairn binary not found at ${CAIRN_JS}: build it (npm run build), ` +
        `or set CAIRN_TEST_TARGET=etcd to run this suite against Debian etcd`,
    );
  }
  const cluster = new ProcessCluster(kind, opts);
  const prefix = opts.namePrefix ?? 'm';
  const ports: Ports[] = [];
  for (let i = 0; i < opts.size; i++) ports.push(await allocate());
  const initialCluster = ports.map((p, i) => `${prefix}${i}=${p.peerUrl}`).join(',');
  try {
    // Start every process before waiting for any: a member is healthy only once a quorum runs.
    for (let i = 0; i < opts.size; i++) {
      const member = await cluster.makeMember(`${prefix}${i}`, ports[i]!, initialCluster, 'new', false);
      cluster.members.push(member);
      await member.proc.start({ waitReady: false });
    }
    await Promise.all(cluster.members.map((m) => m.waitReady()));
    await cluster.waitLeader([], opts.readyTimeoutMs ?? 30_000);
  } catch (err) {
    await cluster.stop().catch(() => undefined);
    throw err;
  }
  return cluster;
}
