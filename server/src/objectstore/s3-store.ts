// An S3-compatible bucket as an object store, on @aws-sdk/client-s3 and lib-storage's Upload.
// - put streams: parts of `partSizeBytes`, at most `uploadQueueParts` in flight (so memory is bounded
//   by about (queue + 1) parts, never the object); a body that fails, or any request that fails, aborts
//   the multipart upload, and a single-part body is only sent (PutObject) once it has ended. No partial
//   object is ever visible at the key.
// - The SHA-256 of the whole object is known only after the last byte, but S3 fixes user metadata when
//   the upload starts. So the object is uploaded with the metadata known so far and then copied onto
//   itself with the complete metadata (CopyObject, MetadataDirective REPLACE, server side). If that copy
//   fails the object is deleted. CopyObject handles objects up to 5 GiB (see README).
// - Checksums: the SDK's default since 3.729 is an aws-chunked upload with a trailing CRC32, which most
//   S3-compatible servers (s3rver included) reject or store wrongly. Only WHEN_REQUIRED; our own
//   SHA-256 is the integrity check.
// - Credentials come from the SDK's default chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
//   AWS_SESSION_TOKEN in a backup Job); no error text leaves this file unscrubbed (scrub.ts).
import {
  AbortMultipartUploadCommand,
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough, pipeline, Readable } from 'node:stream';
import {
  ObjectStoreError,
  type GetResult,
  type ObjectInfo,
  type ObjectMetadata,
  type ObjectStore,
} from './object-store.js';
import { credentialValues, scrubError } from './scrub.js';

/** Bytes per multipart part (S3's minimum is 5 MiB; 8 MiB keeps 10,000 parts above 78 GiB). */
export const partSizeBytes = 8 * 1024 * 1024;
/** Parts uploaded concurrently. */
export const uploadQueueParts = 2;
/** Keys per ListObjectsV2 page. */
const listPageKeysMax = 1000;

export interface S3StoreOptions {
  readonly bucket: string;
  /** e.g. http://127.0.0.1:4568; default: AWS for the region. */
  readonly endpoint?: string;
  /** Default us-east-1. */
  readonly region?: string;
  /** Path-style addressing (http://host/bucket/key), which most S3-compatible servers need. */
  readonly forcePathStyle?: boolean;
  /** Where the credential values to redact are read (the SDK reads the same variables). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

interface SdkError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

function isNotFound(err: unknown): boolean {
  const e = err as SdkError;
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

/** `bucket/key` for x-amz-copy-source: URL-encoded per segment. */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

export class S3Store implements ObjectStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly secrets: string[];
  /** Multipart uploads in progress, by key (recorded from CreateMultipartUpload, see put). */
  private readonly openUploads = new Map<string, string>();

  constructor(o: S3StoreOptions) {
    this.bucket = o.bucket;
    this.secrets = credentialValues(o.env ?? process.env);
    this.client = new S3Client({
      region: o.region ?? 'us-east-1',
      ...(o.endpoint !== undefined ? { endpoint: o.endpoint } : {}),
      forcePathStyle: o.forcePathStyle ?? false,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    // lib-storage keeps the upload id to itself; put aborts uploads itself (see there), so it is
    // recorded here as CreateMultipartUpload answers.
    this.client.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'CreateMultipartUploadCommand') {
          const key = (args.input as { Key?: string }).Key;
          const uploadId = (out.output as { UploadId?: string }).UploadId;
          if (key !== undefined && uploadId !== undefined) this.openUploads.set(key, uploadId);
        }
        return out;
      },
      { step: 'initialize', name: 'cairnRecordUploadId' },
    );
  }

  /** Aborts the multipart upload of `key`, if one was started; '' or why the abort failed. */
  private async abortUpload(key: string): Promise<string> {
    const uploadId = this.openUploads.get(key);
    this.openUploads.delete(key);
    if (uploadId === undefined) return '';
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
      );
      return '';
    } catch (err) {
      return `; aborting the multipart upload failed too (${scrubError(err, this.secrets)})`;
    }
  }

  url(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  private fail(key: string, err: unknown): ObjectStoreError {
    const code = isNotFound(err) ? 'NotFound' : 'Store';
    return new ObjectStoreError(code, `${this.url(key)}: ${scrubError(err, this.secrets)}`);
  }

  async put(key: string, body: Readable, meta: () => ObjectMetadata): Promise<{ size: number }> {
    // The caller's stream is not handed to lib-storage as it is: Upload sizes a body by duck typing
    // (`length`, `size`, `byteLength`, a file stream's path) and, with a wrong guess, refuses to
    // complete. A PassThrough has none of those; it also counts the bytes.
    let size = 0;
    let bodyError: Error | undefined;
    const counted = new PassThrough();
    counted.on('data', (chunk: Buffer) => (size += chunk.length)).pause();
    pipeline(body, counted, (err) => {
      if (err !== null && err !== undefined) bodyError ??= err;
    });
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: counted,
        ContentType: 'application/octet-stream',
      },
      partSize: partSizeBytes,
      queueSize: uploadQueueParts,
      // lib-storage's own abort replaces the original error with the abort's when both fail (s3rver
      // has no AbortMultipartUpload), so the abort is done here, keeping the cause.
      leavePartsOnError: true,
    });
    try {
      await upload.done();
    } catch (err) {
      counted.destroy();
      const abortFailure = await this.abortUpload(key);
      if (bodyError !== undefined) throw bodyError;
      const e = this.fail(key, err);
      throw new ObjectStoreError(e.code, `${e.message}${abortFailure}`);
    }
    this.openUploads.delete(key);
    if (bodyError !== undefined) throw bodyError;
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: key,
          CopySource: copySource(this.bucket, key),
          MetadataDirective: 'REPLACE',
          Metadata: { ...meta() },
          ContentType: 'application/octet-stream',
        }),
      );
    } catch (err) {
      await this.delete(key).catch(() => undefined);
      throw this.fail(key, err);
    }
    return { size };
  }

  async get(key: string): Promise<GetResult> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!(r.Body instanceof Readable)) throw new Error('GetObject returned no stream');
      return { body: r.Body, size: r.ContentLength ?? 0, meta: r.Metadata ?? {} };
    } catch (err) {
      throw this.fail(key, err);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        key,
        size: r.ContentLength ?? 0,
        lastModified: r.LastModified ?? new Date(0),
        meta: r.Metadata ?? {},
      };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw this.fail(key, err);
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const objects: _Object[] = [];
    let token: string | undefined;
    try {
      do {
        const r = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            MaxKeys: listPageKeysMax,
            ...(token !== undefined ? { ContinuationToken: token } : {}),
          }),
        );
        objects.push(...(r.Contents ?? []));
        token = r.IsTruncated === true ? r.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (err) {
      throw this.fail(prefix, err);
    }
    // Listings carry no user metadata: one HEAD per object (an object deleted meanwhile is left out).
    const out: ObjectInfo[] = [];
    for (const o of objects) {
      if (o.Key === undefined) continue;
      const info = await this.head(o.Key);
      if (info !== undefined) out.push(info);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isNotFound(err)) return;
      throw this.fail(key, err);
    }
  }

  /** Closes the SDK's HTTP connections. */
  close(): void {
    this.client.destroy();
  }
}
