// KVRestore (cairn.dev/v1alpha1): a snapshot restored into a new KVCluster (created with
// spec.bootstrap.restore), or in place into an existing one: the object is verified first, then the
// cluster is stopped, every member's data dir is rebuilt from the snapshot by `cairnctl backup restore` in
// an init step, and the members start together as a cluster with a new cluster id.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import Type, { type Static } from 'typebox';
import { KVClusterSpecSchema } from './kvcluster.js';
import { RestoreSourceSchema } from './object-store.js';
import { StringEnum, withRules } from './schema-helpers.js';

export const RESTORE_KIND = 'KVRestore';
export const RESTORE_PLURAL = 'kvrestores';

export const RESTORE_PHASES = ['Pending', 'Verifying', 'Restoring', 'Succeeded', 'Failed'] as const;
export type RestorePhase = (typeof RESTORE_PHASES)[number];

export const KVRestoreSpecSchema = withRules(
  Type.Object(
    {
      source: RestoreSourceSchema,
      target: withRules(
        Type.Object(
          {
            newCluster: Type.Optional(
              withRules(
                Type.Object(
                  {
                    name: Type.String({ description: 'Name of the KVCluster to create.', minLength: 1 }),
                    spec: KVClusterSpecSchema,
                  },
                  { description: 'Create this KVCluster from the snapshot (it must not exist yet).' },
                ),
                [{ rule: '!has(self.spec.bootstrap)', message: 'the restore sets spec.bootstrap itself' }],
              ),
            ),
            inPlace: Type.Optional(
              Type.Object(
                { clusterName: Type.String({ description: 'The existing KVCluster.', minLength: 1 }) },
                {
                  description:
                    'Replace the data of this existing KVCluster: it is stopped, every member restored, and started ' +
                    'again with a new cluster id. Writes made after the snapshot are lost.',
                },
              ),
            ),
          },
          { description: 'Where to restore to: exactly one of newCluster or inPlace.' },
        ),
        [
          {
            rule: 'has(self.newCluster) != has(self.inPlace)',
            message: 'give exactly one of newCluster or inPlace',
          },
        ],
      ),
    },
    { description: 'What to restore and where to.' },
  ),
  [{ rule: 'self == oldSelf', message: 'a restore cannot be changed once created' }],
);

export const KVRestoreStatusSchema = Type.Object(
  {
    phase: Type.Optional(
      StringEnum(RESTORE_PHASES, {
        description: 'Pending, Verifying (the object), Restoring (the members), Succeeded or Failed.',
      }),
    ),
    clusterName: Type.Optional(Type.String({ description: 'The KVCluster restored into.' })),
    objectURL: Type.Optional(Type.String({ description: 'The snapshot restored.' })),
    sha256: Type.Optional(Type.String({ description: 'Its verified SHA-256.' })),
    sizeBytes: Type.Optional(Type.Integer({ description: 'Its size in bytes.' })),
    revision: Type.Optional(Type.Integer({ description: 'The revision it holds.' })),
    jobName: Type.Optional(Type.String({ description: 'The Job verifying the snapshot.' })),
    restoredRevision: Type.Optional(Type.Integer({ description: 'The revision the cluster restarted at.' })),
    clusterID: Type.Optional(Type.String({ description: 'The new cluster id.' })),
    progress: Type.Optional(Type.String({ description: 'What is happening, with numbers.' })),
    message: Type.Optional(Type.String({ description: 'Why it failed.' })),
    startTime: Type.Optional(Type.String({ description: 'When it started.', format: 'date-time' })),
    completionTime: Type.Optional(Type.String({ description: 'When it finished.', format: 'date-time' })),
  },
  { description: 'What the operator observed.' },
);

export type KVRestoreSpec = Static<typeof KVRestoreSpecSchema>;
export type KVRestoreStatus = Static<typeof KVRestoreStatusSchema>;

export interface KVRestore {
  apiVersion: 'cairn.dev/v1alpha1';
  kind: typeof RESTORE_KIND;
  metadata: V1ObjectMeta & { name: string; namespace: string };
  spec: KVRestoreSpec;
  status?: KVRestoreStatus;
}
