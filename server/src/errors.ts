/**
 * Operating errors of the server: a client's bad request or a state the cluster is in. Each has a
 * stable code; api/errors.ts maps every code to etcd's gRPC status and exact message in one table
 * (clients match on the message text, so it is part of the wire contract).
 */
export type EtcdErrorCode =
  | 'ErrEmptyKey'
  | 'ErrKeyNotFound'
  | 'ErrValueProvided'
  | 'ErrLeaseProvided'
  | 'ErrTooManyOps'
  | 'ErrDuplicateKey'
  | 'ErrInvalidSortOption'
  | 'ErrCompacted'
  | 'ErrFutureRev'
  | 'ErrLeaseNotFound'
  | 'ErrLeaseExists'
  | 'ErrLeaseTTLTooLarge'
  | 'ErrRequestTooLarge'
  | 'ErrTooManyRequests'
  | 'ErrNoSpace'
  | 'ErrStopped'
  | 'ErrTimeout'
  | 'ErrCorrupt'
  | 'ErrNoLeader'
  | 'ErrNotLeader'
  | 'ErrLeaderChanged'
  | 'ErrTimeoutDueToLeaderFail'
  | 'ErrTimeoutDueToConnectionLost'
  | 'ErrUnhealthy'
  | 'ErrNotSupportedForLearner'
  | 'ErrBadLeaderTransferee'
  | 'ErrTimeoutLeaderTransfer'
  | 'ErrProposalDropped'
  | 'ErrMemberExist'
  | 'ErrPeerURLExist'
  | 'ErrMemberNotEnoughStarted'
  | 'ErrMemberBadURLs'
  | 'ErrMemberNotFound'
  | 'ErrMemberNotLearner'
  | 'ErrLearnerNotReady'
  | 'ErrTooManyLearners'
  | 'ErrClusterIdMismatch';

export class EtcdError extends Error {
  override readonly name = 'EtcdError';
  constructor(
    readonly code: EtcdErrorCode,
    detail?: string,
  ) {
    super(detail ?? code);
  }
}

export function etcdError(code: EtcdErrorCode): EtcdError {
  return new EtcdError(code);
}
