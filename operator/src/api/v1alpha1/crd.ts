// The operator's CustomResourceDefinitions, built from the TypeBox schemas of each kind. `npm run
// gen:crds` writes them to crds/ and `npm test` fails if a committed file differs (hack/gen-crds.mjs).
import type { TSchema } from 'typebox';
import { BACKUP_KIND, BACKUP_PLURAL, KVBackupSpecSchema, KVBackupStatusSchema } from './kvbackup.js';
import {
  KVBackupScheduleSpecSchema,
  KVBackupScheduleStatusSchema,
  SCHEDULE_KIND,
  SCHEDULE_PLURAL,
} from './kvbackupschedule.js';
import {
  API_VERSION,
  GROUP,
  KIND,
  KVClusterSpecSchema,
  KVClusterStatusSchema,
  PLURAL,
  VERSION,
} from './kvcluster.js';
import { KVRestoreSpecSchema, KVRestoreStatusSchema, RESTORE_KIND, RESTORE_PLURAL } from './kvrestore.js';

/** A schema as plain JSON: what the API server gets (TypeBox's own markers are not enumerable). */
function plain(schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date';
  jsonPath: string;
  description?: string;
}

interface KindDefinition {
  kind: string;
  plural: string;
  shortNames: string[];
  description: string;
  spec: TSchema;
  status: TSchema;
  columns: PrinterColumn[];
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath: string };
}

const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

function crd(d: KindDefinition): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${d.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: d.kind,
        listKind: `${d.kind}List`,
        plural: d.plural,
        singular: d.kind.toLowerCase(),
        shortNames: d.shortNames,
        categories: ['cairn'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: `${d.description} (${API_VERSION}).`,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string', description: `The API version, ${API_VERSION}.` },
                kind: { type: 'string', description: `${d.kind}.` },
                metadata: { type: 'object' },
                spec: plain(d.spec),
                status: plain(d.status),
              },
            },
          },
          subresources: { status: {}, ...(d.scale !== undefined ? { scale: d.scale } : {}) },
          additionalPrinterColumns: [...d.columns, AGE],
        },
      ],
    },
  };
}

export function kvClusterCRD(): Record<string, unknown> {
  return crd({
    kind: KIND,
    plural: PLURAL,
    shortNames: ['kvc'],
    description: 'A cairn cluster run by the cairn operator',
    spec: KVClusterSpecSchema,
    status: KVClusterStatusSchema,
    scale: {
      specReplicasPath: '.spec.replicas',
      statusReplicasPath: '.status.replicas',
      labelSelectorPath: '.status.selector',
    },
    columns: [
      {
        name: 'Replicas',
        type: 'integer',
        jsonPath: '.spec.replicas',
        description: 'Desired voting members.',
      },
      {
        name: 'Ready',
        type: 'integer',
        jsonPath: '.status.readyReplicas',
        description: 'Healthy voting members.',
      },
      {
        name: 'Version',
        type: 'string',
        jsonPath: '.status.currentVersion',
        description: 'Version every member runs.',
      },
      { name: 'Leader', type: 'string', jsonPath: '.status.leader', description: 'The leading member.' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'What the cluster is doing.' },
    ],
  });
}

export function kvBackupCRD(): Record<string, unknown> {
  return crd({
    kind: BACKUP_KIND,
    plural: BACKUP_PLURAL,
    shortNames: ['kvb'],
    description: 'One snapshot of a KVCluster in an object store',
    spec: KVBackupSpecSchema,
    status: KVBackupStatusSchema,
    columns: [
      { name: 'Cluster', type: 'string', jsonPath: '.spec.clusterName', description: 'The KVCluster.' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Where the backup is.' },
      { name: 'Revision', type: 'integer', jsonPath: '.status.revision', description: 'Revision it holds.' },
      { name: 'Size', type: 'integer', jsonPath: '.status.sizeBytes', description: 'Bytes stored.' },
      {
        name: 'Completed',
        type: 'date',
        jsonPath: '.status.completionTime',
        description: 'When it finished.',
      },
    ],
  });
}

export function kvBackupScheduleCRD(): Record<string, unknown> {
  return crd({
    kind: SCHEDULE_KIND,
    plural: SCHEDULE_PLURAL,
    shortNames: ['kvbs'],
    description: 'KVBackups of a KVCluster on a cron schedule, with retention',
    spec: KVBackupScheduleSpecSchema,
    status: KVBackupScheduleStatusSchema,
    columns: [
      { name: 'Cluster', type: 'string', jsonPath: '.spec.clusterName', description: 'The KVCluster.' },
      { name: 'Schedule', type: 'string', jsonPath: '.spec.schedule', description: 'Cron schedule.' },
      { name: 'Suspend', type: 'string', jsonPath: '.spec.suspend', description: 'Suspended.' },
      { name: 'Active', type: 'string', jsonPath: '.status.active', description: 'Backup running now.' },
      {
        name: 'Last Success',
        type: 'date',
        jsonPath: '.status.lastSuccessfulTime',
        description: 'Last successful backup.',
      },
    ],
  });
}

export function kvRestoreCRD(): Record<string, unknown> {
  return crd({
    kind: RESTORE_KIND,
    plural: RESTORE_PLURAL,
    shortNames: ['kvr'],
    description: 'A snapshot restored into a new or an existing KVCluster',
    spec: KVRestoreSpecSchema,
    status: KVRestoreStatusSchema,
    columns: [
      { name: 'Cluster', type: 'string', jsonPath: '.status.clusterName', description: 'Restored into.' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Where the restore is.' },
      {
        name: 'Revision',
        type: 'integer',
        jsonPath: '.status.restoredRevision',
        description: 'Revision restored.',
      },
    ],
  });
}

/** Every CRD of the operator, by file name under crds/. */
export function allCRDs(): Record<string, Record<string, unknown>> {
  return {
    [`${GROUP}_${PLURAL}.yaml`]: kvClusterCRD(),
    [`${GROUP}_${BACKUP_PLURAL}.yaml`]: kvBackupCRD(),
    [`${GROUP}_${SCHEDULE_PLURAL}.yaml`]: kvBackupScheduleCRD(),
    [`${GROUP}_${RESTORE_PLURAL}.yaml`]: kvRestoreCRD(),
  };
}
