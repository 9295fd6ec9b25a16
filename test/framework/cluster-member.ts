// CAIRN_TEST_CLUSTER_SIZE=N turns startCairn/startEtcd into "start an N-member cluster and talk to one
// follower of it": the single-member suites (etcdctl conformance, the differential against etcd) then run
// unchanged against a replicated cluster, every request crossing Raft and, from a follower, the leader.
import type { Member, StartOptions, StopOptions, TargetKind } from './member.js';
import { etcdctl } from './etcdctl.js';
import { hexId, startCluster, type Cluster, type ClusterMember } from './cluster.js';

/** The cluster size the single-member suites run against (1 = a single process, the default). */
export function testClusterSize(): number {
  const raw = (process.env['CAIRN_TEST_CLUSTER_SIZE'] ?? '1').trim();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 9) {
    throw new Error(`CAIRN_TEST_CLUSTER_SIZE must be an integer from 1 to 9, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** A Member facade over a whole cluster: requests go to one follower; stop() stops every member. */
class ClusterFacade implements Member {
  constructor(
    private readonly cluster: Cluster,
    private readonly via: ClusterMember,
  ) {}

  get kind(): TargetKind {
    return this.cluster.kind;
  }
  get name(): string {
    return this.via.name;
  }
  get clientUrl(): string {
    return this.via.clientUrl;
  }
  get metricsUrl(): string {
    return this.via.metricsUrl;
  }
  get dataDir(): string {
    return this.via.dataDir;
  }
  get pid(): number {
    return this.via.pid;
  }
  get running(): boolean {
    return this.via.running;
  }
  async stop(_opts?: StopOptions): Promise<void> {
    await this.cluster.stop();
  }
  kill9(): Promise<void> {
    return this.via.kill9();
  }
  restart(): Promise<void> {
    return this.via.restart();
  }
  logs(): string {
    return this.cluster.members.map((m) => `--- ${m.name} ---\n${m.logs()}`).join('\n');
  }
}

export async function startClusterMember(
  kind: TargetKind,
  opts: StartOptions,
  size: number,
): Promise<Member> {
  if (opts.dataDir !== undefined) {
    throw new Error('CAIRN_TEST_CLUSTER_SIZE > 1 cannot reuse a given --data-dir: each member gets its own');
  }
  const extraArgs = [...(opts.extraArgs ?? [])];
  if (opts.maxRequestBytes !== undefined) extraArgs.push(`--max-request-bytes=${opts.maxRequestBytes}`);
  const cluster = await startCluster({
    size,
    target: kind,
    extraArgs,
    env: opts.env,
    readyTimeoutMs: opts.readyTimeoutMs,
    namePrefix: `${opts.name ?? kind}-`,
  });
  try {
    // The same shape every time, for etcd and cairn alike: member 0 leads, requests go to member 1.
    const first = cluster.members[0]!;
    let leader = await cluster.leader();
    if (leader !== first) {
      const s = await first.status();
      if (typeof s === 'string') throw new Error(`${first.name}: ${s}`);
      // etcdctl 3.4's move-leader dials each endpoint as written: host:port (see etcdctl.ts).
      const r = await etcdctl(leader.clientUrl, ['move-leader', hexId(s.memberId)], {
        bareEndpoint: true,
        timeoutMs: 20_000,
      });
      if (r.code !== 0) throw new Error(`move-leader to ${first.name} failed: ${r.stdout}${r.stderr}`);
      leader = await cluster.waitLeader();
      if (leader !== first) throw new Error(`leadership did not move to ${first.name}`);
    }
    return new ClusterFacade(cluster, cluster.members[1] ?? first);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}
