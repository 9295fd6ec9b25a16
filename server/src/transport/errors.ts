/**
 * Operating errors of the peer transport. Broken invariants use assert() instead; these are about
 * configuration (a limit out of range, a bad peer URL) and about what arrives from the network (a frame
 * too large, bytes that do not decode), which must never crash the member.
 */
export type TransportErrorCode =
  | 'ErrInvalidLimit'
  | 'ErrInvalidUrl'
  | 'ErrInvalidId'
  | 'ErrFrameTooLarge'
  | 'ErrFrameEmpty'
  | 'ErrMessageDecode'
  | 'ErrMessageMismatch'
  | 'ErrSnapshotRejected'
  | 'ErrSnapshotTimeout'
  | 'ErrSnapshotSize'
  | 'ErrPeerNotConnected'
  | 'ErrStopped';

export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: TransportErrorCode,
    message: string,
  ) {
    super(message);
  }
}
