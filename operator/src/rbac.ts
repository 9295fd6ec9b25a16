// The Kubernetes permissions the operator needs, listed once, per controller, next to the call that uses
// each one. hack/gen-chart.mjs turns them into the Helm chart's ClusterRole and Role and into the RBAC of
// hack/e2e/manifests/operator.yaml (`npm test` fails when those drift from this file).
//
// Least privilege: a verb is here only because a call in operator/src makes it. Reads go through
// `KubeOps` (controllers/*/kube-ops.ts), watches through the informers of controllers/*/controller.ts
// (every watch is a cluster-wide list + watch), Events and the Lease through runtime/. Two rules of the
// API server shape the list:
//   - server-side apply (`KubeOps.apply`) is a PATCH, authorized as `patch`, and as `create` as well when
//     the object does not exist yet — so every applied kind needs both;
//   - an owner reference with blockOwnerDeletion needs `update` on the owner's `finalizers` subresource
//     where the OwnerReferencesPermissionEnforcement admission plugin is on (OpenShift, hardened clusters).
// The operator never reads Secrets: backup and restore pods get the credentials by secretKeyRef.
import { BACKUP_PLURAL, GROUP, PLURAL, RESTORE_PLURAL, SCHEDULE_PLURAL } from './api/v1alpha1/index.js';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

/** Verbs in the order the generated rules list them. */
export const VERB_ORDER: readonly Verb[] = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

/** One controller's need: verbs on one resource, and the calls that use them. */
export interface Grant {
  apiGroup: string;
  resource: string;
  verbs: readonly Verb[];
  /** The calls behind the verbs, for the comment above the generated rule. */
  usedBy: string;
}

const CORE = '';
const grant = (apiGroup: string, resource: string, verbs: readonly Verb[], usedBy: string): Grant => ({
  apiGroup,
  resource,
  verbs,
  usedBy,
});

/** controllers/kvcluster: the KVCluster reconciler and everything it owns. */
export const KVCLUSTER_GRANTS: readonly Grant[] = [
  grant(GROUP, PLURAL, ['get'], 'getCluster'),
  grant(GROUP, PLURAL, ['list', 'watch'], 'the KVCluster watch'),
  grant(GROUP, PLURAL, ['patch'], 'removeAnnotation (an in-place restore request, done)'),
  grant(GROUP, `${PLURAL}/status`, ['patch'], 'patchStatus'),
  grant(
    GROUP,
    `${PLURAL}/finalizers`,
    ['update'],
    'owner references of its StatefulSet, Services, PDB, ConfigMap (blockOwnerDeletion)',
  ),
  grant(GROUP, BACKUP_PLURAL, ['get'], 'getBackup (spec.bootstrap.restore.backupName)'),
  grant(GROUP, RESTORE_PLURAL, ['get'], 'getRestore (an in-place restore request)'),
  grant('apps', 'statefulsets', ['get'], 'getStatefulSet'),
  grant('apps', 'statefulsets', ['list', 'watch'], 'the statefulsets watch'),
  grant('apps', 'statefulsets', ['create', 'patch'], 'apply (server-side)'),
  grant(CORE, 'pods', ['list'], 'listPods'),
  grant(CORE, 'pods', ['list', 'watch'], 'the pods watch'),
  grant(CORE, 'pods', ['patch'], 'patchPodLabels (cairn.dev/role)'),
  grant(CORE, 'pods', ['delete'], 'deletePod (rolling update, replacement)'),
  grant(CORE, 'persistentvolumeclaims', ['list'], 'listClaims'),
  grant(CORE, 'persistentvolumeclaims', ['list', 'watch'], 'the persistentvolumeclaims watch'),
  grant(CORE, 'persistentvolumeclaims', ['patch'], 'annotateClaim, resizeClaim'),
  grant(CORE, 'persistentvolumeclaims', ['delete'], 'deleteClaim (a replaced member)'),
  grant(CORE, 'services', ['list', 'watch'], 'the services watch'),
  grant(CORE, 'services', ['create', 'patch'], 'apply (server-side): peer and client Services'),
  grant(CORE, 'configmaps', ['create', 'patch'], 'apply (server-side): the bootstrap ConfigMap'),
  grant('policy', 'poddisruptionbudgets', ['list', 'watch'], 'the poddisruptionbudgets watch'),
  grant('policy', 'poddisruptionbudgets', ['create', 'patch'], 'apply (server-side)'),
];

/** controllers/kvbackup: the KVBackup reconciler (backup and delete Jobs, the finalizer). */
export const KVBACKUP_GRANTS: readonly Grant[] = [
  grant(GROUP, BACKUP_PLURAL, ['get'], 'getBackup'),
  grant(GROUP, BACKUP_PLURAL, ['list'], 'listBackups (one running backup per cluster)'),
  grant(GROUP, BACKUP_PLURAL, ['list', 'watch'], 'the KVBackup watch'),
  grant(GROUP, BACKUP_PLURAL, ['patch'], 'setFinalizers'),
  grant(GROUP, `${BACKUP_PLURAL}/status`, ['patch'], 'patchBackupStatus'),
  grant(
    GROUP,
    `${BACKUP_PLURAL}/finalizers`,
    ['update'],
    'owner references of its Jobs (blockOwnerDeletion)',
  ),
  grant(GROUP, PLURAL, ['get'], 'getCluster'),
  grant('batch', 'jobs', ['get'], 'getJob'),
  grant('batch', 'jobs', ['list', 'watch'], 'the jobs-by-backup watch'),
  grant('batch', 'jobs', ['create', 'patch'], 'apply (server-side): backup and delete Jobs'),
  grant('batch', 'jobs', ['delete'], 'deleteJob'),
  grant(CORE, 'pods', ['list'], "listPods (a Job's pods: termination messages)"),
];

/** controllers/kvbackupschedule: makes KVBackups on a schedule and prunes old ones. */
export const KVBACKUPSCHEDULE_GRANTS: readonly Grant[] = [
  grant(GROUP, SCHEDULE_PLURAL, ['get'], 'getSchedule'),
  grant(GROUP, SCHEDULE_PLURAL, ['list', 'watch'], 'the KVBackupSchedule watch'),
  grant(GROUP, `${SCHEDULE_PLURAL}/status`, ['patch'], 'patchScheduleStatus'),
  grant(GROUP, BACKUP_PLURAL, ['list', 'watch'], 'listBackups, the backups-by-schedule watch'),
  grant(GROUP, BACKUP_PLURAL, ['create'], 'createBackup'),
  grant(GROUP, BACKUP_PLURAL, ['delete'], 'deleteBackup (retention)'),
];

/** controllers/kvrestore: verify Jobs, a new KVCluster or an in-place request. */
export const KVRESTORE_GRANTS: readonly Grant[] = [
  grant(GROUP, RESTORE_PLURAL, ['get'], 'getRestore'),
  grant(GROUP, RESTORE_PLURAL, ['list'], 'listRestores (one restore per cluster)'),
  grant(GROUP, RESTORE_PLURAL, ['list', 'watch'], 'the KVRestore watch'),
  grant(GROUP, `${RESTORE_PLURAL}/status`, ['patch'], 'patchRestoreStatus'),
  grant(
    GROUP,
    `${RESTORE_PLURAL}/finalizers`,
    ['update'],
    'owner references of its Jobs (blockOwnerDeletion)',
  ),
  grant(GROUP, PLURAL, ['get'], 'getCluster'),
  grant(GROUP, PLURAL, ['create'], 'createCluster (restore into a new cluster)'),
  grant(GROUP, PLURAL, ['patch'], 'annotateCluster (restore in place)'),
  grant(GROUP, BACKUP_PLURAL, ['get'], 'getBackup'),
  grant('batch', 'jobs', ['get'], 'getJob'),
  grant('batch', 'jobs', ['list', 'watch'], 'the jobs-by-restore watch'),
  grant('batch', 'jobs', ['create', 'patch'], 'apply (server-side): the verify Job'),
  grant(CORE, 'pods', ['list'], "listPods (a Job's pods: termination messages)"),
];

/**
 * controllers/kvcluster/maintenance.ts: the KVCluster reconciler's maintenance — compaction and
 * defragmentation CronJobs, the NOSPACE recovery Job, and the runs' results read from their Jobs.
 * No `get` or `update` on CronJobs: they are watched, written by server-side apply and deleted by name.
 */
export const MAINTENANCE_GRANTS: readonly Grant[] = [
  grant('batch', 'cronjobs', ['list', 'watch'], 'the cronjobs watch'),
  grant('batch', 'cronjobs', ['create', 'patch'], 'apply (server-side): compaction and defrag CronJobs'),
  grant('batch', 'cronjobs', ['delete'], 'deleteCronJob (a schedule turned off)'),
  grant('batch', 'jobs', ['list'], 'listJobs (the runs and their results)'),
  grant('batch', 'jobs', ['list', 'watch'], 'the maintenance-jobs watch'),
  grant('batch', 'jobs', ['create', 'patch'], 'apply (server-side): the NOSPACE recovery Job'),
  grant('batch', 'jobs', ['delete'], 'deleteJob (a finished recovery Job)'),
  grant(CORE, 'pods', ['list'], "listPods (a Job's pods: termination messages)"),
];

/** runtime/events.ts: every controller records Events in the namespace of the object they are about. */
export const EVENT_GRANTS: readonly Grant[] = [
  grant(CORE, 'events', ['create'], 'KubernetesEventSink.create'),
  grant(CORE, 'events', ['patch'], 'KubernetesEventSink.patch (a repeat: count and lastTimestamp)'),
];

/**
 * runtime/lease-store.ts: leader election, in the --leader-election-namespace only (a Role, not a
 * ClusterRole). `get` and `update` are limited to the one Lease; `create` cannot be (the API server
 * does not know the name of an object before it exists).
 */
export const LEADER_ELECTION_GRANTS: readonly Grant[] = [
  grant('coordination.k8s.io', 'leases', ['get'], 'KubernetesLeaseStore.get'),
  grant('coordination.k8s.io', 'leases', ['create'], 'KubernetesLeaseStore.create (the first replica)'),
  grant(
    'coordination.k8s.io',
    'leases',
    ['update'],
    'KubernetesLeaseStore.update (renew, take over, release)',
  ),
];

/** Every cluster-wide grant, by the component that needs it (the ClusterRole). */
export const CLUSTER_GRANTS: Readonly<Record<string, readonly Grant[]>> = {
  kvcluster: KVCLUSTER_GRANTS,
  kvbackup: KVBACKUP_GRANTS,
  kvbackupschedule: KVBACKUPSCHEDULE_GRANTS,
  kvrestore: KVRESTORE_GRANTS,
  maintenance: MAINTENANCE_GRANTS,
  events: EVENT_GRANTS,
};

/** One RBAC rule as the generator writes it, with the comment lines that go above it. */
export interface Rule {
  apiGroups: [string];
  resources: [string];
  verbs: Verb[];
  resourceNames?: string[];
  comments: string[];
}

/**
 * One rule per resource: the union of every component's verbs (in VERB_ORDER), commented with who needs
 * which. Rules are grouped by API group, each group and resource in the order it first appears, so the
 * output is stable and reads top-down.
 */
export function mergeGrants(byComponent: Readonly<Record<string, readonly Grant[]>>): Rule[] {
  const rules = new Map<
    string,
    { group: string; resource: string; verbs: Set<Verb>; uses: Map<string, Set<Verb>> }
  >();
  for (const [component, grants] of Object.entries(byComponent)) {
    for (const g of grants) {
      const key = `${g.apiGroup}/${g.resource}`;
      let r = rules.get(key);
      if (r === undefined) {
        r = { group: g.apiGroup, resource: g.resource, verbs: new Set(), uses: new Map() };
        rules.set(key, r);
      }
      const use = `${component}: ${g.usedBy}`;
      const verbs = r.uses.get(use) ?? new Set<Verb>();
      for (const v of g.verbs) {
        r.verbs.add(v);
        verbs.add(v);
      }
      r.uses.set(use, verbs);
    }
  }
  const ordered = (s: Set<Verb>): Verb[] => VERB_ORDER.filter((v) => s.has(v));
  const groups = [...new Set([...rules.values()].map((r) => r.group))];
  const byGroup = [...rules.values()].sort((a, b) => groups.indexOf(a.group) - groups.indexOf(b.group));
  return byGroup.map((r) => ({
    apiGroups: [r.group],
    resources: [r.resource],
    verbs: ordered(r.verbs),
    comments: [...r.uses].map(([use, verbs]) => `${ordered(verbs).join(', ')} — ${use}`),
  }));
}

/** The ClusterRole's rules. */
export function clusterRules(): Rule[] {
  return mergeGrants(CLUSTER_GRANTS);
}

/** The leader-election Role's rules: `get` and `update` only on the Lease named `leaseName`. */
export function leaderElectionRules(leaseName: string): Rule[] {
  const [merged] = mergeGrants({ 'leader election': LEADER_ELECTION_GRANTS });
  if (merged === undefined) throw new Error('rbac: no leader-election grants');
  const named = merged.verbs.filter((v) => v !== 'create');
  return [
    { ...merged, verbs: ['create'], comments: merged.comments.filter((c) => c.startsWith('create')) },
    {
      ...merged,
      verbs: named,
      resourceNames: [leaseName],
      comments: merged.comments.filter((c) => !c.startsWith('create')),
    },
  ];
}
