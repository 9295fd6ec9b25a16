/**
 * Operating errors of the write-ahead log. Each has a stable code; the message names the segment file
 * and the byte offset of the record at fault where there is one, so an operator can find it:
 *
 *   wal: crc mismatch in 0000000000000001-0000000000000021.wal at offset 4096 (...)
 *
 * Broken API contracts (save before readAll, a write after close) are programmer errors and assert().
 */
export type WalErrorCode =
  /** create() on a directory that is not empty. */
  | 'ErrExist'
  /** No segment file, or none that can hold the snapshot index open() was asked to start at. */
  | 'ErrFileNotFound'
  /** The segment sequence numbers from the starting segment on are not consecutive. */
  | 'ErrMissingSegment'
  /** A record's CRC, or a segment's carried-over CRC, does not match the running CRC. */
  | 'ErrCRCMismatch'
  /** A record that cannot be read and is not a torn write at the end of the last segment. */
  | 'ErrCorrupt'
  /** A segment's metadata record differs from the first one. */
  | 'ErrMetadataConflict'
  /** A snapshot record at the starting index has a different term. */
  | 'ErrSnapshotMismatch'
  /** No snapshot record at the starting index: the WAL does not know the snapshot it is opened at. */
  | 'ErrSnapshotNotFound'
  /** An entry whose index leaves a hole after the entries read so far. */
  | 'ErrEntryGap'
  /** An earlier write or fsync failed; what reached the disk is unknown, so the WAL takes no more writes. */
  | 'ErrFailed';

export class WalError extends Error {
  override readonly name = 'WalError';
  constructor(
    readonly code: WalErrorCode,
    message: string,
    /** The segment file (base name) and the offset of the record at fault, when there is one. */
    readonly file?: string,
    readonly offset?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
