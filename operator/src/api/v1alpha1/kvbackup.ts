// KVBackup (cairn.dev/v1alpha1): one snapshot of a KVCluster, taken from its healthy member with the
// highest revision by a Job running `cairnctl backup save`, and stored in an object store. Its status
// carries what a restore needs and what a user checks: the object URL, size, SHA-256 and revision.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import Type, { type Static } from 'typebox';
import { DeletionPolicySchema, DestinationSchema } from './object-store.js';
import { StringEnum, withRules } from './schema-helpers.js';

export const BACKUP_KIND = 'KVBackup';
export const BACKUP_PLURAL = 'kvbackups';

export const BACKUP_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed'] as const;
export type BackupPhase = (typeof BACKUP_PHASES)[number];

export const KVBackupSpecSchema = withRules(
  Type.Object(
    {
      clusterName: Type.String({ description: 'The KVCluster (same namespace) to back up.', minLength: 1 }),
      destination: DestinationSchema,
      deletionPolicy: Type.Optional(DeletionPolicySchema),
      backoffLimit: Type.Optional(
        Type.Integer({
          description: 'Retries of a failed attempt (with back-off) before the backup is Failed.',
          minimum: 0,
          maximum: 10,
          default: 3,
        }),
      ),
    },
    { description: 'What to back up and where to.' },
  ),
  [
    { rule: 'self.clusterName == oldSelf.clusterName', message: 'clusterName is immutable' },
    { rule: 'self.destination == oldSelf.destination', message: 'destination is immutable' },
  ],
);

export const KVBackupStatusSchema = withRules(
  Type.Object(
    {
      phase: Type.Optional(
        StringEnum(BACKUP_PHASES, {
          description: 'Pending (waiting for the cluster or another backup), Running, Succeeded or Failed.',
        }),
      ),
      startTime: Type.Optional(
        Type.String({ description: 'When the snapshot started.', format: 'date-time' }),
      ),
      completionTime: Type.Optional(
        Type.String({ description: 'When it was stored (or failed for good).', format: 'date-time' }),
      ),
      objectURL: Type.Optional(Type.String({ description: 'Where the snapshot is: s3://… or file://….' })),
      sizeBytes: Type.Optional(Type.Integer({ description: 'Size of the stored snapshot in bytes.' })),
      sha256: Type.Optional(
        Type.String({ description: 'SHA-256 of the stored snapshot (hex): sha256sum of a fetched copy.' }),
      ),
      revision: Type.Optional(Type.Integer({ description: 'The cluster revision the snapshot holds.' })),
      member: Type.Optional(Type.String({ description: 'The member it was taken from.' })),
      clusterID: Type.Optional(Type.String({ description: 'The cluster id it was taken from.' })),
      jobName: Type.Optional(Type.String({ description: 'The Job that takes it.' })),
      image: Type.Optional(
        Type.String({
          description: "The cairn image that took it (the cluster's; restores may use it too).",
        }),
      ),
      attempts: Type.Optional(Type.Integer({ description: 'Attempts that failed so far.' })),
      message: Type.Optional(Type.String({ description: 'Why it is waiting, or why it failed.' })),
    },
    { description: 'What the operator observed.' },
  ),
  [
    {
      rule: "!has(oldSelf.phase) || !(oldSelf.phase in ['Succeeded', 'Failed']) || (has(self.phase) && self.phase == oldSelf.phase)",
      message: 'a finished backup keeps its phase',
    },
  ],
);

export type KVBackupSpec = Static<typeof KVBackupSpecSchema>;
export type KVBackupStatus = Static<typeof KVBackupStatusSchema>;

export interface KVBackup {
  apiVersion: 'cairn.dev/v1alpha1';
  kind: typeof BACKUP_KIND;
  metadata: V1ObjectMeta & { name: string; namespace: string };
  spec: KVBackupSpec;
  status?: KVBackupStatus;
}
