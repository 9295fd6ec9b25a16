// A 3-member cairn cluster as a StatefulSet, the way the operator will run one (with a static
// --initial-cluster here): ordered start with bound PVCs, a cluster formed over per-pod DNS names,
// data that survives deleting a pod (same PVC, same member), and processes that end with the
// StatefulSet.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  apply,
  containerPid,
  createNamespace,
  deleteNamespace,
  getJson,
  getPod,
  isReady,
  kubectl,
  listPods,
  processAlive,
  runPod,
  waitFor,
  type PodJson,
} from '../framework/kube.js';

const NS = 'e2e-statefulset';
const PEERS = [0, 1, 2].map((i) => `kv-${i}=http://kv-${i}.kv.${NS}.svc.cluster.local:2380`).join(',');

const MANIFEST = `
apiVersion: v1
kind: Service
metadata: {name: kv}
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector: {app: kv}
  ports: [{name: peer, port: 2380}, {name: client, port: 2379}]
---
apiVersion: v1
kind: Service
metadata: {name: kv-client}
spec:
  selector: {app: kv}
  ports: [{name: client, port: 2379}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: kv}
spec:
  serviceName: kv
  replicas: 3
  selector: {matchLabels: {app: kv}}
  template:
    metadata: {labels: {app: kv}}
    spec:
      terminationGracePeriodSeconds: 10
      containers:
      - name: cairn
        image: cairn:e2e
        env:
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        args:
        - --name=$(POD_NAME)
        - --data-dir=/var/lib/cairn/data
        - --listen-client-urls=http://0.0.0.0:2379
        - --advertise-client-urls=http://$(POD_NAME).kv.${NS}.svc.cluster.local:2379
        - --listen-peer-urls=http://0.0.0.0:2380
        - --initial-advertise-peer-urls=http://$(POD_NAME).kv.${NS}.svc.cluster.local:2380
        - --initial-cluster=${PEERS}
        - --initial-cluster-state=new
        - --initial-cluster-token=kv-e2e
        ports: [{name: client, containerPort: 2379}, {name: peer, containerPort: 2380}]
        # Ready once the member listens for its peers: with OrderedReady, kv-1 is only created after kv-0
        # is Ready, and a member of a static 3-member cluster has no leader until a second one starts.
        readinessProbe: {tcpSocket: {port: peer}, periodSeconds: 1}
        volumeMounts: [{name: data, mountPath: /var/lib/cairn}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
`;

const CTL = 'cairnctl --endpoints=http://kv-client:2379';

function readySince(pod: PodJson): number {
  const ready = pod.status.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
  assert.ok(ready !== undefined, `${pod.metadata.name} is Ready`);
  return Date.parse(ready.lastTransitionTime);
}

describe('a 3-member cairn StatefulSet', () => {
  before(() => createNamespace(NS));
  after(() => deleteNamespace(NS));

  let pods: PodJson[] = [];

  it('starts the pods in order, each with a bound PVC', async () => {
    await apply(NS, MANIFEST);
    pods = await waitFor(
      'kv-0, kv-1, kv-2 Ready',
      async () => {
        const ps = await listPods(NS, 'app=kv');
        return ps.length === 3 && ps.every(isReady)
          ? ps.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))
          : undefined;
      },
      120_000,
    );
    // OrderedReady: each pod was created only after the one before it was Ready.
    for (let i = 1; i < pods.length; i++) {
      const before = pods[i - 1];
      const pod = pods[i];
      assert.ok(before !== undefined && pod !== undefined);
      assert.ok(
        Date.parse(pod.metadata.creationTimestamp) >= Math.floor(readySince(before) / 1000) * 1000,
        `${pod.metadata.name} was created after ${before.metadata.name} became Ready`,
      );
    }
    const claims = await getJson<{ items: { metadata: { name: string }; status: { phase: string } }[] }>([
      'get',
      'pvc',
      '-n',
      NS,
    ]);
    assert.deepEqual(claims.items.map((c) => `${c.metadata.name}:${c.status.phase}`).sort(), [
      'data-kv-0:Bound',
      'data-kv-1:Bound',
      'data-kv-2:Bound',
    ]);
  });

  const memberIds = new Map<string, string>();

  it('forms one cluster over the members DNS names and takes writes through the client Service', async () => {
    const log = await runPod(
      NS,
      'formed',
      'cairnctl',
      [
        'set -e',
        // The members find a leader shortly after the last one starts; each then publishes its client URL
        // through the log (until then it is listed with its name from --initial-cluster but no client URL,
        // as in etcd).
        `for i in $(seq 1 60); do ${CTL} endpoint health >/dev/null 2>&1 && break; sleep 1; done`,
        `for i in $(seq 1 60); do [ "$(${CTL} member list 2>/dev/null | awk -F', ' '$5 != ""' | wc -l)" = 3 ] && break; sleep 1; done`,
        `${CTL} member list`,
        `for i in $(seq 1 20); do ${CTL} put key-$i value-$i >/dev/null; done`,
        `echo "count $(${CTL} get key- --prefix --count-only -w fields | grep '"Count"' | cut -d: -f2)"`,
      ].join('\n'),
      120_000,
    );
    const members = [...log.matchAll(/^([0-9a-f]{16}), started, (kv-\d), (\S+), (\S+), false$/gm)];
    assert.equal(members.length, 3, `three started voting members; log:\n${log}`);
    for (const [, id, name, peerURL, clientURL] of members) {
      assert.equal(peerURL, `http://${name}.kv.${NS}.svc.cluster.local:2380`);
      assert.equal(clientURL, `http://${name}.kv.${NS}.svc.cluster.local:2379`);
      memberIds.set(name ?? '', id ?? '');
    }
    assert.match(log, /^count\s+20$/m, `20 keys written through the Service; log:\n${log}`);
  });

  it('brings a deleted pod back as the same member on the same PVC, with the data', async () => {
    const old = await getPod(NS, 'kv-1');
    const claimBefore = (
      await kubectl(['get', 'pvc', 'data-kv-1', '-n', NS, '-o', 'jsonpath={.spec.volumeName}'])
    ).trim();
    const pid = containerPid(old, 'cairn');
    assert.ok(pid !== undefined && processAlive(pid), 'kv-1 runs as a process');
    await kubectl(['delete', 'pod', 'kv-1', '-n', NS, '--wait=true', '--timeout=60s']);
    assert.ok(!processAlive(pid), 'the deleted pod process has ended');
    const back = await waitFor(
      'kv-1 recreated and Ready',
      async () => {
        const p = await getPod(NS, 'kv-1');
        return p.metadata.uid !== old.metadata.uid && isReady(p) ? p : undefined;
      },
      60_000,
    );
    const claimAfter = (
      await kubectl(['get', 'pvc', 'data-kv-1', '-n', NS, '-o', 'jsonpath={.spec.volumeName}'])
    ).trim();
    assert.equal(claimAfter, claimBefore, 'the same PersistentVolume');
    assert.equal(
      back.spec.volumes?.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName,
      'data-kv-1',
    );
    const log = await runPod(
      NS,
      'survived',
      'cairnctl',
      [
        'set -e',
        `for i in $(seq 1 60); do cairnctl --endpoints=http://kv-1.kv:2379 endpoint health >/dev/null 2>&1 && break; sleep 1; done`,
        `echo "status $(cairnctl --endpoints=http://kv-1.kv:2379 endpoint status | cut -d, -f2)"`,
        `echo "count $(cairnctl --endpoints=http://kv-1.kv:2379 get key- --prefix --count-only -w fields | grep '"Count"' | cut -d: -f2)"`,
        `echo "value $(cairnctl --endpoints=http://kv-1.kv:2379 get key-12 --print-value-only)"`,
      ].join('\n'),
      120_000,
    );
    assert.match(
      log,
      new RegExp(`^status\\s+${memberIds.get('kv-1') ?? 'missing'}$`, 'm'),
      `the same member id; log:\n${log}`,
    );
    assert.match(log, /^count\s+20$/m, `all 20 keys on the restarted member; log:\n${log}`);
    assert.match(log, /^value value-12$/m);
  });

  it('ends every member process when the StatefulSet is deleted', async () => {
    const running = await listPods(NS, 'app=kv');
    const pids = running.map((p) => containerPid(p, 'cairn'));
    assert.equal(pids.length, 3);
    for (const pid of pids) assert.ok(pid !== undefined && processAlive(pid));
    await kubectl(['delete', 'statefulset', 'kv', '-n', NS, '--wait=true', '--timeout=60s']);
    await waitFor(
      'the kv pods gone',
      async () => ((await listPods(NS, 'app=kv')).length === 0 ? true : undefined),
      60_000,
    );
    for (const pid of pids) assert.ok(pid !== undefined && !processAlive(pid), `process ${pid} has exited`);
  });

  it('deletes a released volume and its data with its claim (reclaimPolicy Delete)', async () => {
    const volume = (
      await kubectl(['get', 'pvc', 'data-kv-2', '-n', NS, '-o', 'jsonpath={.spec.volumeName}'])
    ).trim();
    const path = (await kubectl(['get', 'pv', volume, '-o', 'jsonpath={.spec.hostPath.path}'])).trim();
    assert.ok(existsSync(join(path, 'data')), `the member's data is in ${path}`);
    await kubectl(['delete', 'pvc', 'data-kv-2', '-n', NS, '--wait=true', '--timeout=60s']);
    await waitFor(
      `persistentvolume ${volume} deleted`,
      async () =>
        (await kubectl(['get', 'pv', volume, '--ignore-not-found'])).trim() === '' ? true : undefined,
      60_000,
    );
    assert.ok(!existsSync(path), 'the provisioner removed the directory');
  });
});
