// The pure builders of a KVCluster's objects: names and URLs, the members' flags, the StatefulSet the
// operator drives (OnDelete, Parallel, retention, spread, security), the voter-only PDB, the bootstrap
// ConfigMap.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  resolveSpec,
  type KVCluster,
  type KVClusterSpec,
} from '../../../../operator/src/api/v1alpha1/index.js';
import {
  bootstrapConfigMap,
  clientService,
  clusterRef,
  initialCluster,
  memberOfPeerURL,
  memberOrdinal,
  peerService,
  peerURL,
  podDisruptionBudget,
  quorum,
  serverArgs,
  statefulSet,
} from '../../../../operator/src/resources/index.js';

function kv(spec: KVClusterSpec): KVCluster {
  return {
    apiVersion: 'cairn.dev/v1alpha1',
    kind: 'KVCluster',
    metadata: { name: 'kv', namespace: 'prod', uid: '1234abcd-0000-0000-0000-000000000000', generation: 1 },
    spec,
  };
}

const c = { name: 'kv', namespace: 'prod', domain: 'cluster.local' };

describe('names and addresses', () => {
  it('gives every member a stable DNS name under the peer Service', () => {
    assert.equal(peerURL(c, 'kv-2'), 'http://kv-2.kv.prod.svc.cluster.local:2380');
    assert.equal(
      initialCluster(c, ['kv-0', 'kv-1']),
      'kv-0=http://kv-0.kv.prod.svc.cluster.local:2380,kv-1=http://kv-1.kv.prod.svc.cluster.local:2380',
    );
    assert.equal(memberOrdinal(c, 'kv-7'), 7);
    assert.equal(memberOrdinal(c, 'kvx-1'), undefined);
    assert.equal(memberOrdinal(c, 'kv-1-extra'), undefined);
    assert.equal(memberOfPeerURL(c, 'http://kv-3.kv.prod.svc.cluster.local:2380'), 'kv-3');
    assert.equal(memberOfPeerURL(c, 'http://kv-3.other.prod.svc.cluster.local:2380'), undefined);
    assert.equal(memberOfPeerURL(c, 'http://127.0.0.1:1'), undefined);
    assert.deepEqual(clusterRef(kv({ version: '0.1.0' }), 'example.org'), {
      name: 'kv',
      namespace: 'prod',
      domain: 'example.org',
    });
  });
});

describe('server flags', () => {
  it('renders identity, bootstrap references and spec.config', () => {
    const spec = resolveSpec({
      version: '0.1.0',
      config: {
        heartbeatIntervalMs: 200,
        electionTimeoutMs: 2000,
        autoCompaction: { mode: 'revision', retention: '1000' },
        extraArgs: { 'max-txn-ops': '256', 'log-level': 'debug' },
      },
    });
    const args = serverArgs(spec, c, 'kv-1234abcd');
    for (const want of [
      '--name=$(POD_NAME)',
      '--data-dir=/var/lib/cairn/data',
      '--initial-advertise-peer-urls=http://$(POD_NAME).kv.prod.svc.cluster.local:2380',
      '--advertise-client-urls=http://$(POD_NAME).kv.prod.svc.cluster.local:2379',
      '--listen-metrics-urls=http://0.0.0.0:2381',
      '--initial-cluster=$(CAIRN_INITIAL_CLUSTER)',
      '--initial-cluster-state=$(CAIRN_INITIAL_CLUSTER_STATE)',
      '--initial-cluster-token=kv-1234abcd',
      '--heartbeat-interval=200',
      '--election-timeout=2000',
      '--auto-compaction-mode=revision',
      '--auto-compaction-retention=1000',
    ]) {
      assert.ok(args.includes(want), `${want} in ${args.join(' ')}`);
    }
    // extraArgs last, sorted, so the template (and its revision) does not change with map order.
    assert.deepEqual(args.slice(-2), ['--log-level=debug', '--max-txn-ops=256']);
  });
});

describe('the StatefulSet', () => {
  const spec = resolveSpec({ version: '0.2.0', storage: { size: '8Gi', storageClassName: 'fast' } });
  const sts = statefulSet(kv(spec), spec, c, 2);

  it('leaves every pod change to the operator', () => {
    assert.equal(sts.spec?.replicas, 2, 'the replicas the operator asks for, not spec.replicas');
    assert.equal(sts.spec?.updateStrategy?.type, 'OnDelete');
    assert.equal(sts.spec?.podManagementPolicy, 'Parallel');
    assert.equal(sts.spec?.serviceName, 'kv');
    assert.deepEqual(sts.spec?.persistentVolumeClaimRetentionPolicy, {
      whenDeleted: 'Retain',
      whenScaled: 'Delete',
    });
    assert.equal(sts.metadata?.ownerReferences?.[0]?.kind, 'KVCluster');
    assert.equal(sts.metadata?.ownerReferences?.[0]?.controller, true);
  });

  it('runs the versioned image as a non-root member with its volume and bootstrap env', () => {
    const pod = sts.spec?.template.spec;
    const container = pod?.containers[0];
    assert.equal(container?.image, 'ghcr.io/cairn-dev/cairn:0.2.0');
    assert.deepEqual(container?.command, ['cairn']);
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
    assert.equal(container?.securityContext?.readOnlyRootFilesystem, true);
    assert.deepEqual(container?.volumeMounts, [{ name: 'data', mountPath: '/var/lib/cairn' }]);
    const env = new Map((container?.env ?? []).map((e) => [e.name, e]));
    assert.equal(env.get('POD_NAME')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name');
    assert.equal(env.get('CAIRN_INITIAL_CLUSTER')?.valueFrom?.configMapKeyRef?.name, 'kv-bootstrap');
    assert.equal(container?.readinessProbe?.httpGet?.path, '/health');
    assert.equal(
      container?.livenessProbe,
      undefined,
      'no liveness probe: a partition must not become restarts',
    );
    const claim = sts.spec?.volumeClaimTemplates?.[0]?.spec as {
      resources: { requests: { storage: string } };
      storageClassName: string;
    };
    assert.equal(claim.resources.requests.storage, '8Gi');
    assert.equal(claim.storageClassName, 'fast');
  });

  it('spreads over nodes and zones unless the spec says where to run', () => {
    const spread = sts.spec?.template.spec?.topologySpreadConstraints ?? [];
    assert.deepEqual(
      spread.map((t) => `${t.topologyKey}:${t.whenUnsatisfiable}`),
      ['kubernetes.io/hostname:ScheduleAnyway', 'topology.kubernetes.io/zone:ScheduleAnyway'],
    );
    const pinned = resolveSpec({ version: '0.2.0', scheduling: { affinity: { podAntiAffinity: {} } } });
    const custom = statefulSet(kv(pinned), pinned, c, 3).spec?.template.spec;
    assert.equal(custom?.topologySpreadConstraints, undefined);
    assert.deepEqual(custom?.affinity, { podAntiAffinity: {} });
  });

  it('keeps the selector labels even when the pod template sets the same keys', () => {
    const spec2 = resolveSpec({
      version: '0.2.0',
      podTemplate: { labels: { team: 'a', 'app.kubernetes.io/instance': 'other' } },
    });
    const labels = statefulSet(kv(spec2), spec2, c, 1).spec?.template.metadata?.labels;
    assert.equal(labels?.['team'], 'a');
    assert.equal(labels?.['app.kubernetes.io/instance'], 'kv');
  });
});

describe('Services, PDB and the bootstrap ConfigMap', () => {
  const k = kv({ version: '0.1.0' });

  it('publishes not-ready members on the peer Service only', () => {
    assert.equal(peerService(k, c).spec?.publishNotReadyAddresses, true);
    assert.equal(peerService(k, c).spec?.clusterIP, 'None');
    assert.equal(clientService(k, c).spec?.publishNotReadyAddresses, undefined);
    assert.equal(clientService(k, c).metadata?.name, 'kv-client');
  });

  it('keeps a quorum of voters through disruptions and counts voters only', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 7].map(quorum), [1, 2, 2, 3, 3, 4]);
    const pdb = podDisruptionBudget(k, c, 5);
    assert.equal(pdb.spec?.minAvailable, 3);
    assert.equal(pdb.spec?.selector?.matchLabels?.['cairn.dev/role'], 'voter');
  });

  it('bootstraps the seed alone with state new, later members with the whole membership', () => {
    const seed = bootstrapConfigMap(k, c, { state: 'new', members: ['kv-0'] });
    assert.deepEqual(seed.data, {
      'initial-cluster': 'kv-0=http://kv-0.kv.prod.svc.cluster.local:2380',
      'initial-cluster-state': 'new',
    });
    const later = bootstrapConfigMap(k, c, { state: 'existing', members: ['kv-0', 'kv-1'] });
    assert.equal(later.data?.['initial-cluster-state'], 'existing');
    assert.match(
      later.data?.['initial-cluster'] ?? '',
      /^kv-0=.*,kv-1=http:\/\/kv-1\.kv\.prod\.svc\.cluster\.local:2380$/,
    );
  });
});
