// Where backups live, shared by KVBackup, KVBackupSchedule, KVRestore and KVCluster.spec.bootstrap: an
// S3-compatible bucket or a directory on a PersistentVolumeClaim. Credentials are only ever named (a
// Secret and its keys): the operator passes the reference into the pods that talk to the store and never
// reads the Secret itself.
import Type, { type Static } from 'typebox';
import { withRules } from './schema-helpers.js';

export const CredentialsSecretSchema = Type.Object(
  {
    name: Type.String({ description: 'Secret in the same namespace.', minLength: 1 }),
    accessKeyIDKey: Type.Optional(
      Type.String({ description: 'Key holding the access key id.', default: 'accessKeyID' }),
    ),
    secretAccessKeyKey: Type.Optional(
      Type.String({ description: 'Key holding the secret access key.', default: 'secretAccessKey' }),
    ),
    sessionTokenKey: Type.Optional(
      Type.String({ description: 'Key holding a session token, for temporary credentials.' }),
    ),
  },
  {
    description:
      'The Secret with the S3 credentials. Only its name and keys are given to the backup and restore pods ' +
      '(as AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); the operator never reads it.',
  },
);

/** How to reach an S3-compatible service (the bucket and key come separately). */
const s3Connection = {
  endpoint: Type.Optional(
    Type.String({
      description:
        'The S3 endpoint URL, e.g. http://minio.storage.svc:9000; AWS S3 of the region when empty.',
      pattern: '^https?://',
    }),
  ),
  region: Type.Optional(Type.String({ description: 'The region.', default: 'us-east-1' })),
  forcePathStyle: Type.Optional(
    Type.Boolean({
      description: 'Path-style addressing (endpoint/bucket/key), which most S3-compatible servers need.',
      default: false,
    }),
  ),
  credentialsSecret: Type.Optional(CredentialsSecretSchema),
};

export const S3ConnectionSchema = Type.Object(s3Connection, {
  description: 'How to reach an S3-compatible service.',
});

export const S3DestinationSchema = Type.Object(
  {
    ...s3Connection,
    bucket: Type.String({ description: 'The bucket.', minLength: 3, maxLength: 63 }),
    prefix: Type.Optional(
      Type.String({
        description: 'Key prefix; a backup is stored as <prefix>/<namespace>/<cluster>/<backup name>.db.',
      }),
    ),
  },
  { description: 'An S3-compatible bucket.' },
);

export const VolumeDestinationSchema = Type.Object(
  {
    claimName: Type.String({
      description: 'A PersistentVolumeClaim in the same namespace (ReadWriteMany if backups may overlap).',
      minLength: 1,
    }),
    path: Type.Optional(
      Type.String({
        description:
          'Directory inside the volume; a backup is stored as <path>/<namespace>/<cluster>/<name>.db.',
        default: '/',
        pattern: '^/',
      }),
    ),
  },
  { description: 'A directory on a PersistentVolumeClaim.' },
);

export const DestinationSchema = withRules(
  Type.Object(
    {
      s3: Type.Optional(S3DestinationSchema),
      volume: Type.Optional(VolumeDestinationSchema),
    },
    { description: 'Where the snapshot goes: exactly one of s3 or volume.' },
  ),
  [{ rule: 'has(self.s3) != has(self.volume)', message: 'destination needs exactly one of s3 or volume' }],
);

export const DeletionPolicySchema = Type.Unsafe<'Retain' | 'Delete'>({
  type: 'string',
  enum: ['Retain', 'Delete'],
  default: 'Retain',
  description: 'Whether the stored snapshot is deleted with the resource (Delete) or kept (Retain).',
});

/** A stored snapshot named directly: an object URL and how to reach it. */
export const BackupObjectSchema = withRules(
  Type.Object(
    {
      url: Type.String({
        description: 's3://<bucket>/<key>, or file:///<path> inside `volume`.',
        pattern: '^(s3://[^/]+/.+|file:///.+)$',
      }),
      s3: Type.Optional(S3ConnectionSchema),
      volume: Type.Optional(
        Type.Object(
          { claimName: Type.String({ description: 'The claim holding the file.', minLength: 1 }) },
          { description: 'The PersistentVolumeClaim a file:// URL is on (mounted at /backups).' },
        ),
      ),
    },
    { description: 'A snapshot object by URL.' },
  ),
  [
    {
      rule: "self.url.startsWith('file://') == has(self.volume)",
      message: 'a file:// URL needs volume, and only a file:// URL takes one',
    },
  ],
);

/** What a restore starts from: a KVBackup by name, or an object URL. */
export const RestoreSourceSchema = withRules(
  Type.Object(
    {
      backupName: Type.Optional(
        Type.String({ description: 'A Succeeded KVBackup in the same namespace.', minLength: 1 }),
      ),
      object: Type.Optional(BackupObjectSchema),
      sha256: Type.Optional(
        Type.String({
          description:
            'Expected SHA-256 of the object (64 hex digits); the KVBackup status or the object metadata when empty.',
          pattern: '^[0-9a-f]{64}$',
        }),
      ),
    },
    { description: 'The snapshot to restore: exactly one of backupName or object.' },
  ),
  [{ rule: 'has(self.backupName) != has(self.object)', message: 'give exactly one of backupName or object' }],
);

export type CredentialsSecret = Static<typeof CredentialsSecretSchema>;
export type S3Connection = Static<typeof S3ConnectionSchema>;
export type S3Destination = Static<typeof S3DestinationSchema>;
export type VolumeDestination = Static<typeof VolumeDestinationSchema>;
export type Destination = Static<typeof DestinationSchema>;
export type BackupObject = Static<typeof BackupObjectSchema>;
export type RestoreSource = Static<typeof RestoreSourceSchema>;
