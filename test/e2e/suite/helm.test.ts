// The Helm chart (charts/cairn-operator) as a user meets it: `helm lint`, `helm template` with the
// monitoring assets off and on (every rendered object parsed and checked: the generated RBAC equals
// operator/src/rbac.ts, the Deployment's leader election, probes and security context, seed 003's alert
// rules, the dashboard), the values schema refusing bad values, then a real `helm install` that installs
// the CRDs, an operator that becomes Available, holds its Lease and has exactly the permissions it needs,
// the chart's example KVCluster applied as it is and Available, and `helm uninstall` keeping the CRDs.
//
// Other suite files deploy hack/e2e/manifests/operator.yaml into cairn-system; this release lives in a
// namespace of its own under another name, so its Deployment, Lease, ClusterRole and binding never meet
// theirs (the suite runs its files one at a time, so the two operators never run together).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { clusterRules, leaderElectionRules } from '../../../operator/src/rbac.js';
import { helm } from '../framework/helm.js';
import { deleteNamespace, e2eEnv, getJson, kubectl, waitFor } from '../framework/kube.js';
import { available, REPO, settle } from '../framework/operator.js';

const CHART = join(REPO, 'charts/cairn-operator');
const NS = 'cairn-helm-e2e';
/** Contains the chart's name, so every object of the release (and the Lease) is named just this. */
const RELEASE = 'cairn-operator-e2e';
const KV_NS = 'cairn-helm-kv';
const SA = `system:serviceaccount:${NS}:${RELEASE}`;
const CRDS = ['kvclusters', 'kvbackups', 'kvbackupschedules', 'kvrestores'].map((p) => `${p}.cairn.dev`);
const MONITORING_ON = [
  'monitoring.serviceMonitor.enabled=true',
  'monitoring.podMonitor.enabled=true',
  'monitoring.prometheusRule.enabled=true',
  'monitoring.dashboard.enabled=true',
].flatMap((s) => ['--set', s]);

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

async function render(extra: string[] = []): Promise<Obj[]> {
  const out = await helm(['template', RELEASE, CHART, '--namespace', NS, ...extra]);
  const objs = parseAllDocuments(out).map((d) => {
    assert.deepEqual(d.errors, [], 'every rendered document parses');
    return d.toJS() as Obj | null;
  });
  return objs.filter((o): o is Obj => o !== null);
}

function one(objs: Obj[], kind: string, name?: string): Obj {
  const found = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `one ${kind}${name !== undefined ? ` ${name}` : ''} rendered`);
  return found[0]!;
}

/** The rules as RBAC sees them (the generator's comments are YAML comments, gone once parsed). */
const bare = (rules: ReturnType<typeof clusterRules>): object[] => rules.map(({ comments: _, ...r }) => r);

/** `kubectl auth can-i … --as <the release's ServiceAccount>`: true for yes (exit 0), false for no (exit 1). */
function canI(args: string[]): Promise<boolean> {
  return new Promise((resolve, reject) => {
    execFile(
      e2eEnv('CAIRN_E2E_KUBECTL'),
      ['--kubeconfig', e2eEnv('KUBECONFIG'), 'auth', 'can-i', ...args, `--as=${SA}`],
      { timeout: 30_000 },
      (err, stdout, stderr) => {
        const answer = stdout.trim();
        if (answer === 'yes' || answer === 'no') resolve(answer === 'yes');
        else reject(new Error(`kubectl auth can-i ${args.join(' ')}: ${stderr.trim() || err?.message}`));
      },
    );
  });
}

async function crdUids(): Promise<string[]> {
  return Promise.all(
    CRDS.map(async (c) => (await getJson<{ metadata: { uid: string } }>(['get', 'crd', c])).metadata.uid),
  );
}

describe('the Helm chart', () => {
  let crdsBefore: string[] = [];
  after(async () => {
    // Whatever a failed step left behind; each call is a no-op when its object is gone.
    await kubectl(['delete', 'namespace', KV_NS, '--ignore-not-found', '--wait=true', '--timeout=180s'], {
      timeoutMs: 190_000,
    }).catch(() => undefined);
    await helm(['uninstall', RELEASE, '--namespace', NS, '--ignore-not-found', '--wait']).catch(
      () => undefined,
    );
    await kubectl(['delete', 'namespace', NS, '--ignore-not-found', '--wait=true', '--timeout=120s'], {
      timeoutMs: 130_000,
    }).catch(() => undefined);
  });

  it('helm lint passes, with the monitoring assets off and on', async () => {
    const off = await helm(['lint', CHART, '--strict']);
    assert.match(off, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    const on = await helm(['lint', CHART, '--strict', ...MONITORING_ON]);
    assert.match(on, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('renders the operator: generated RBAC, leader election, probes, security context; no monitoring by default', async () => {
    const objs = await render();
    assert.deepEqual(objs.map((o) => o.kind).sort(), [
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);
    for (const o of objs) if (o.kind.startsWith('Cluster')) assert.equal(o.metadata.name, RELEASE);
    assert.deepEqual(one(objs, 'ClusterRole')['rules'], bare(clusterRules()));
    assert.deepEqual(one(objs, 'Role')['rules'], bare(leaderElectionRules(RELEASE)));
    const binding = one(objs, 'ClusterRoleBinding') as Obj & { subjects: object[] };
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: RELEASE, namespace: NS }]);

    const dep = one(objs, 'Deployment') as Obj & { spec: DeploymentSpec };
    assert.equal(dep.spec.replicas, 2);
    const pod = dep.spec.template.spec;
    assert.equal(pod.serviceAccountName, RELEASE);
    assert.deepEqual(pod.securityContext, {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const c = pod.containers[0]!;
    assert.match(c.image, /\/cairn:0\.1\.0$/, 'the one cairn image, tagged with the appVersion');
    assert.deepEqual(c.command, ['cairn-operator'], "the image's operator entry point");
    for (const arg of [
      '--leader-elect=true',
      `--leader-election-namespace=${NS}`,
      `--leader-election-id=${RELEASE}`,
      '--metrics-bind-address=:8080',
    ])
      assert.ok(c.args.includes(arg), `args include ${arg}: ${c.args.join(' ')}`);
    assert.deepEqual(c.ports, [{ name: 'metrics', containerPort: 8080, protocol: 'TCP' }]);
    assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'metrics' });
    assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'metrics' });
    assert.deepEqual(c.securityContext, {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    assert.ok(c.resources.requests?.['memory'] !== undefined && c.resources.limits?.['memory'] !== undefined);
  });

  it('renders the monitoring assets when asked: ServiceMonitor, PodMonitor, seed 003 alerts, dashboard', async () => {
    const objs = await render(MONITORING_ON);
    const sm = one(objs, 'ServiceMonitor') as Obj & { spec: { endpoints: { port: string }[] } };
    assert.equal(sm.spec.endpoints[0]?.port, 'metrics');
    const pm = one(objs, 'PodMonitor') as Obj & { spec: PodMonitorSpec };
    // The labels and port the operator gives every member (operator/src/resources/names.ts).
    assert.deepEqual(pm.spec.selector.matchLabels, {
      'app.kubernetes.io/name': 'cairn',
      'app.kubernetes.io/managed-by': 'cairn-operator',
    });
    assert.equal(pm.spec.podMetricsEndpoints[0]?.port, 'metrics');
    assert.deepEqual(pm.spec.podMetricsEndpoints[0]?.relabelings[0], {
      targetLabel: 'job',
      replacement: 'cairn',
    });

    const rule = one(objs, 'PrometheusRule') as Obj & { spec: { groups: RuleGroup[] } };
    const alerts = rule.spec.groups.flatMap((g) => g.rules.map((r) => r.alert));
    assert.deepEqual(alerts, [
      'EtcdClusterDown',
      'EtcdNoLeader',
      'EtcdHighNumberOfLeaderChanges',
      'EtcdHighFsyncDurations',
      'EtcdHighCommitDurations',
      'EtcdHighNumberOfFailedProposals',
      'EtcdDatabaseQuotaLowSpace',
      'EtcdExcessiveDatabaseGrowth',
    ]);
    // Prometheus's own templates in the annotations reach the PrometheusRule untouched by Helm.
    assert.match(JSON.stringify(rule.spec), /\{\{ \$labels\.pod \}\}/);

    const cm = one(objs, 'ConfigMap', `${RELEASE}-dashboard`) as Obj & { data: Record<string, string> };
    assert.equal(cm.metadata.labels?.['grafana_dashboard'], '1');
    const dashboard = JSON.parse(cm.data['cairn.json'] ?? '') as {
      panels: { targets: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join('\n');
    for (const metric of [
      'etcd_server_leader_changes_seen_total',
      'etcd_server_proposals_committed_total',
      'etcd_server_proposals_applied_total',
      'etcd_server_proposals_failed_total',
      'etcd_server_proposals_pending',
      'etcd_disk_wal_fsync_duration_seconds_bucket',
      'etcd_disk_backend_commit_duration_seconds_bucket',
      'etcd_mvcc_db_total_size_in_bytes',
      'grpc_server_handled_total',
    ])
      assert.ok(exprs.includes(metric), `a dashboard panel queries ${metric}`);
  });

  it('renders the four CRDs as crds/ holds them, and the values schema refuses bad values', async () => {
    const crds = (await render(['--include-crds'])).filter((o) => o.kind === 'CustomResourceDefinition');
    const fromRepo = readdirSync(join(REPO, 'crds'))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => parseAllDocuments(readFileSync(join(REPO, 'crds', f), 'utf8'))[0]!.toJS() as Obj);
    const byName = (a: Obj, b: Obj): number => a.metadata.name.localeCompare(b.metadata.name);
    assert.deepEqual(crds.sort(byName), fromRepo.sort(byName));
    for (const bad of ['replicaCount=0', 'logLevel=verbose', 'monitoring.podMonitor.enabld=true']) {
      await assert.rejects(render(['--set', bad]), /schema|values don't meet|additional properties/i, bad);
    }
  });

  it('helm install: the CRDs, and an operator that is Available and holds its Lease', async () => {
    // Prove the chart installs the CRDs: drop them first — only while no object of theirs exists
    // anywhere (other suite files delete their namespaces when they finish).
    const leftovers = await kubectl(['get', CRDS.join(','), '--all-namespaces', '-o', 'name']).catch(
      (err: Error) => (/doesn't have a resource type/.test(err.message) ? '' : Promise.reject(err)),
    );
    assert.equal(leftovers.trim(), '', 'no cairn.dev object is left in the cluster');
    await kubectl(['delete', 'crd', ...CRDS, '--ignore-not-found', '--wait=true', '--timeout=60s'], {
      timeoutMs: 70_000,
    });

    const out = await helm([
      'install', RELEASE, CHART, '--namespace', NS, '--create-namespace', '--wait', '--timeout', '180s',
    ]); // prettier-ignore
    assert.match(out, /STATUS: deployed/);
    assert.match(out, /kubectl -n \S+ get kvcluster example/, 'NOTES.txt tells what to apply next');
    crdsBefore = await crdUids();
    await kubectl(['wait', '--for=condition=Established', ...CRDS.map((c) => `crd/${c}`), '--timeout=60s']);

    await kubectl(
      ['wait', '--for=condition=Available', `deployment/${RELEASE}`, '-n', NS, '--timeout=120s'],
      { timeoutMs: 130_000 },
    );
    const dep = await getJson<{ status: { readyReplicas?: number } }>([
      'get',
      'deployment',
      RELEASE,
      '-n',
      NS,
    ]);
    assert.equal(dep.status.readyReplicas, 2);
    const lease = await waitFor(
      `the Lease ${NS}/${RELEASE} held`,
      async () => {
        const l = await getJson<{ spec: { holderIdentity?: string } }>(['get', 'lease', RELEASE, '-n', NS]);
        return (l.spec.holderIdentity ?? '') !== '' ? l : undefined;
      },
      60_000,
    );
    assert.ok(lease.spec.holderIdentity);
  });

  it('the operator may do what its controllers call, and no more', async () => {
    const yes: string[][] = [
      ['list', 'kvclusters.cairn.dev', '--all-namespaces'],
      ['patch', 'kvclusters.cairn.dev', '--subresource=status', '-n', KV_NS],
      ['create', 'statefulsets.apps', '-n', KV_NS],
      ['delete', 'pods', '-n', KV_NS],
      ['create', 'jobs.batch', '-n', KV_NS],
      ['delete', 'cronjobs.batch', '-n', KV_NS],
      ['create', 'events', '-n', KV_NS],
      ['create', 'leases.coordination.k8s.io', '-n', NS],
      ['update', `leases.coordination.k8s.io/${RELEASE}`, '-n', NS],
    ];
    const no: string[][] = [
      ['get', 'secrets', '-n', KV_NS],
      ['list', 'secrets', '--all-namespaces'],
      ['create', 'pods', '-n', KV_NS],
      ['update', 'kvclusters.cairn.dev', '-n', KV_NS],
      ['delete', 'kvclusters.cairn.dev', '-n', KV_NS],
      ['update', 'statefulsets.apps', '-n', KV_NS],
      ['update', `leases.coordination.k8s.io/${RELEASE}`, '-n', 'default'],
      ['update', 'leases.coordination.k8s.io/someone-else', '-n', NS],
      ['create', 'clusterroles.rbac.authorization.k8s.io'],
    ];
    for (const args of yes) assert.equal(await canI(args), true, `can ${args.join(' ')}`);
    for (const args of no) assert.equal(await canI(args), false, `cannot ${args.join(' ')}`);
  });

  it("runs the chart's example KVCluster, applied as it is, to Available; every example passes the API server", async () => {
    await kubectl(['create', 'namespace', KV_NS]);
    await kubectl(['apply', '-n', KV_NS, '-f', join(CHART, 'examples/kvcluster.yaml')]);
    const { kv } = await settle(KV_NS, 'example', 3, 300_000);
    assert.ok(available(kv));
    assert.equal(kv.status?.phase, 'Running');
    // The others (a backup with its Secret, a schedule, a restore) against the real CRD schemas; not
    // run: they need an object store.
    const dry = await kubectl(['apply', '-n', KV_NS, '--dry-run=server', '-f', join(CHART, 'examples')]);
    for (const o of ['secret/s3-credentials', 'kvbackup', 'kvbackupschedule', 'kvrestore', 'kvcluster'])
      assert.match(dry, new RegExp(`${o}[^\\n]* \\(server dry run\\)`), o);
  });

  it('helm uninstall removes the operator and keeps the CRDs', async () => {
    await deleteNamespace(KV_NS);
    const out = await helm(['uninstall', RELEASE, '--namespace', NS, '--wait', '--timeout', '120s']);
    assert.match(out, /uninstalled/);
    const gone = await kubectl([
      'get',
      `deployment/${RELEASE}`,
      `serviceaccount/${RELEASE}`,
      '-n',
      NS,
      '--ignore-not-found',
      '-o',
      'name',
    ]);
    assert.equal(gone.trim(), '');
    const rbac = await kubectl([
      'get',
      `clusterrole/${RELEASE}`,
      `clusterrolebinding/${RELEASE}`,
      '--ignore-not-found',
      '-o',
      'name',
    ]);
    assert.equal(rbac.trim(), '', 'the cluster-scoped RBAC is gone');
    assert.deepEqual(await crdUids(), crdsBefore, 'the CRDs stay, the same objects');
    await deleteNamespace(NS);
  });
});

interface Container {
  image: string;
  command?: string[];
  args: string[];
  ports: object[];
  readinessProbe: { httpGet: object };
  livenessProbe: { httpGet: object };
  securityContext: object;
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
}

interface DeploymentSpec {
  replicas: number;
  template: { spec: { serviceAccountName: string; securityContext: object; containers: Container[] } };
}

interface PodMonitorSpec {
  selector: { matchLabels: Record<string, string> };
  podMetricsEndpoints: { port: string; relabelings: object[] }[];
}

interface RuleGroup {
  name: string;
  rules: { alert: string; expr: string }[];
}
