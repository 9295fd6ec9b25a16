// The checksums of a snapshot stream, computed while it passes through (to the object store, or from it
// to a file): the SHA-256 of everything (what the object's metadata records, what `sha256sum` of a copy
// prints) and the snapshot's own trailer — its last 32 bytes are the SHA-256 of all bytes before them
// (etcdserver/snapshot-file.ts). Only the last 32 bytes are ever held back.
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { SHA256_BYTES } from '../etcdserver/snapshot-file.js';

export class SnapshotChecksumError extends Error {
  override readonly name = 'SnapshotChecksumError';
}

export class SnapshotDigest extends Transform {
  private readonly whole = createHash('sha256');
  private readonly image = createHash('sha256');
  /** The last (up to) 32 bytes seen: the trailer candidate, not yet fed to `image`. */
  private tail: Buffer = Buffer.alloc(0);
  /** Bytes passed through. */
  bytes = 0;
  /** Hex SHA-256 of the whole stream; set when it has ended. */
  sha256 = '';
  /** Whether the trailer matched; set when the stream has ended. */
  trailerOk = false;

  /** With `rejectBadTrailer` the stream errors (instead of ending) when the trailer does not match. */
  constructor(private readonly rejectBadTrailer: boolean) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.whole.update(chunk);
    const joined = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk]);
    const cut = Math.max(0, joined.length - SHA256_BYTES);
    if (cut > 0) this.image.update(joined.subarray(0, cut));
    this.tail = Buffer.from(joined.subarray(cut));
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.sha256 = this.whole.digest('hex');
    this.trailerOk = this.tail.length === SHA256_BYTES && this.image.digest().equals(this.tail);
    if (!this.trailerOk && this.rejectBadTrailer) {
      cb(new SnapshotChecksumError('snapshot checksum mismatch'));
      return;
    }
    cb();
  }
}
