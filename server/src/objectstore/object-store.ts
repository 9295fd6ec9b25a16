// The one interface cairnctl's backup commands store snapshots through: an S3-compatible bucket
// (s3-store.ts) or a directory (file-store.ts). Keys are '/'-separated; metadata is a flat string map,
// S3's user metadata (x-amz-meta-<name>, names lower-case), see backup-metadata.ts for what backups put in it.
import type { Readable } from 'node:stream';

/** User metadata of one object: lower-case names without the x-amz-meta- prefix → values. */
export type ObjectMetadata = Readonly<Record<string, string>>;

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
  readonly meta: ObjectMetadata;
}

export interface GetResult {
  readonly body: Readable;
  readonly size: number;
  readonly meta: ObjectMetadata;
}

/** Typed failures with stable codes; messages never hold credentials or signed URLs (see scrub.ts). */
export type ObjectStoreErrorCode = 'NotFound' | 'Store';

export class ObjectStoreError extends Error {
  override readonly name = 'ObjectStoreError';
  constructor(
    readonly code: ObjectStoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ObjectStore {
  /** The URL of `key` in this store (`s3://bucket/key`, `file:///path`). */
  url(key: string): string;
  /**
   * Streams `body` to `key`. Nothing is visible at `key` unless the whole body was read without error
   * (a body that errors, e.g. on a bad checksum, aborts the upload). `meta` is called once the body has
   * ended, so it may describe the content (its SHA-256). Memory use is bounded by the part size, never
   * the object.
   */
  put(key: string, body: Readable, meta: () => ObjectMetadata): Promise<{ size: number }>;
  /** Throws ObjectStoreError('NotFound') for a missing object. */
  get(key: string): Promise<GetResult>;
  /** undefined for a missing object. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with `prefix`, sorted by key, with its metadata. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Removes `key`; a missing object is not an error. */
  delete(key: string): Promise<void>;
}
