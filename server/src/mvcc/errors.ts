/**
 * Operating errors of the MVCC layer. The API layer maps each code to etcd's gRPC status and message
 * in one table; the messages here are etcd's mvcc messages.
 */
export type MvccErrorCode = 'ERR_MVCC_COMPACTED' | 'ERR_MVCC_FUTURE_REV' | 'ERR_MVCC_CORRUPT';

export class MvccError extends Error {
  override readonly name = 'MvccError';
  constructor(
    readonly code: MvccErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const errCompacted = (): MvccError =>
  new MvccError('ERR_MVCC_COMPACTED', 'mvcc: required revision has been compacted');
export const errFutureRev = (): MvccError =>
  new MvccError('ERR_MVCC_FUTURE_REV', 'mvcc: required revision is a future revision');
