// Streams that require a leader (gRPC metadata `hasleader: true`, what clientv3's WithRequireLeader
// sends — kube-apiserver's watches use it): on a member that has lost its leader, an open watch is
// cancelled with "etcdserver: no leader" after a few election timeouts, and a new one is refused, so
// the client moves to a member that still belongs to the majority. The member loses its leader because
// the two others are paused (SIGSTOP), which works for etcd and cairn alike.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { WatchClient } from '../../server/src/proto/gen/etcdserverpb/rpc.js';
import { startCluster, type Cluster, type ClusterMember } from '../framework/index.js';

function requireLeader(): Metadata {
  const md = new Metadata();
  md.set('hasleader', 'true');
  return md;
}

/** Opens a watch on `key` with hasleader; resolves with the stream's error (bounded by `ms`). */
function watchUntilError(
  client: WatchClient,
  key: string,
  ms: number,
): { created: Promise<void>; ended: Promise<ServiceError | 'timeout'> } {
  const stream = client.watch(requireLeader());
  let onCreated!: () => void;
  const created = new Promise<void>((r) => (onCreated = r));
  const ended = new Promise<ServiceError | 'timeout'>((resolve) => {
    const timer = setTimeout(() => {
      stream.cancel();
      resolve('timeout');
    }, ms);
    stream.on('data', (r: { created?: boolean }) => {
      if (r.created === true) onCreated();
    });
    stream.on('error', (err: ServiceError) => {
      clearTimeout(timer);
      resolve(err);
    });
  });
  stream.write({
    requestUnion: {
      $case: 'createRequest',
      value: {
        key: Buffer.from(key),
        rangeEnd: Buffer.alloc(0),
        startRevision: 0n,
        progressNotify: false,
        filters: [],
        prevKv: false,
        watchId: 0n,
        fragment: false,
      },
    },
  });
  return { created, ended };
}

describe('cluster: streams that require a leader', () => {
  let cluster: Cluster | undefined;
  let paused: ClusterMember[] = [];
  after(async () => {
    for (const m of paused) m.resume();
    await cluster?.stop();
  });

  it(
    'a member without leader cancels hasleader watches with "no leader" and refuses new ones',
    { timeout: 90_000 },
    async () => {
      cluster = await startCluster({ size: 3 });
      const c = cluster;
      const leader = await c.waitLeader();
      const lonely = c.members.find((m) => m !== leader)!;
      const client = new WatchClient(lonely.endpoint, credentials.createInsecure());
      try {
        const first = watchUntilError(client, 'w', 30_000);
        await first.created;
        paused = c.members.filter((m) => m !== lonely);
        for (const m of paused) m.pause();
        const err = await first.ended;
        assert.notEqual(err, 'timeout', 'the hasleader watch was not cancelled');
        if (err !== 'timeout') {
          assert.equal(err.code, status.UNAVAILABLE);
          assert.equal(err.details, 'etcdserver: no leader');
        }
        const second = await watchUntilError(client, 'w', 10_000).ended;
        assert.notEqual(second, 'timeout', 'a new hasleader watch was accepted without a leader');
        if (second !== 'timeout') assert.equal(second.details, 'etcdserver: no leader');
      } finally {
        client.close();
        for (const m of paused) m.resume();
        paused = [];
      }
      // With the others back, the member has a leader again and serves hasleader watches.
      await c.waitLeader();
      const again = new WatchClient(lonely.endpoint, credentials.createInsecure());
      try {
        const w = watchUntilError(again, 'w', 3000);
        await w.created;
        assert.equal(await w.ended, 'timeout', 'the watch should stay open once a leader is back');
      } finally {
        again.close();
      }
    },
  );
});
