import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import type { EtcdErrorCode } from '../errors.js';
import { EtcdError } from '../errors.js';
import { MvccError } from '../mvcc/errors.js';
import type { MvccErrorCode } from '../mvcc/errors.js';

interface WireError {
  readonly code: status;
  readonly message: string;
}

/**
 * The one table from operating errors to etcd's gRPC status code and exact message text
 * (api/v3rpc/rpctypes/error.go). Clients map errors back by message, so the text is wire contract.
 */
export const WIRE_ERRORS: Record<EtcdErrorCode | MvccErrorCode, WireError> = {
  ErrEmptyKey: { code: status.INVALID_ARGUMENT, message: 'etcdserver: key is not provided' },
  ErrKeyNotFound: { code: status.INVALID_ARGUMENT, message: 'etcdserver: key not found' },
  ErrValueProvided: { code: status.INVALID_ARGUMENT, message: 'etcdserver: value is provided' },
  ErrLeaseProvided: { code: status.INVALID_ARGUMENT, message: 'etcdserver: lease is provided' },
  ErrTooManyOps: { code: status.INVALID_ARGUMENT, message: 'etcdserver: too many operations in txn request' },
  ErrDuplicateKey: {
    code: status.INVALID_ARGUMENT,
    message: 'etcdserver: duplicate key given in txn request',
  },
  ErrInvalidSortOption: { code: status.INVALID_ARGUMENT, message: 'etcdserver: invalid sort option' },
  ErrCompacted: {
    code: status.OUT_OF_RANGE,
    message: 'etcdserver: mvcc: required revision has been compacted',
  },
  ErrFutureRev: {
    code: status.OUT_OF_RANGE,
    message: 'etcdserver: mvcc: required revision is a future revision',
  },
  ERR_MVCC_COMPACTED: {
    code: status.OUT_OF_RANGE,
    message: 'etcdserver: mvcc: required revision has been compacted',
  },
  ERR_MVCC_FUTURE_REV: {
    code: status.OUT_OF_RANGE,
    message: 'etcdserver: mvcc: required revision is a future revision',
  },
  ERR_MVCC_CORRUPT: { code: status.DATA_LOSS, message: 'etcdserver: corrupt cluster' },
  ErrLeaseNotFound: { code: status.NOT_FOUND, message: 'etcdserver: requested lease not found' },
  ErrLeaseExists: { code: status.FAILED_PRECONDITION, message: 'etcdserver: lease already exists' },
  ErrLeaseTTLTooLarge: { code: status.OUT_OF_RANGE, message: 'etcdserver: too large lease TTL' },
  ErrRequestTooLarge: { code: status.INVALID_ARGUMENT, message: 'etcdserver: request is too large' },
  ErrTooManyRequests: { code: status.RESOURCE_EXHAUSTED, message: 'etcdserver: too many requests' },
  ErrNoSpace: { code: status.RESOURCE_EXHAUSTED, message: 'etcdserver: mvcc: database space exceeded' },
  ErrStopped: { code: status.UNAVAILABLE, message: 'etcdserver: server stopped' },
  ErrTimeout: { code: status.UNAVAILABLE, message: 'etcdserver: request timed out' },
  ErrCorrupt: { code: status.DATA_LOSS, message: 'etcdserver: corrupt cluster' },
  ErrNoLeader: { code: status.UNAVAILABLE, message: 'etcdserver: no leader' },
  ErrNotLeader: { code: status.FAILED_PRECONDITION, message: 'etcdserver: not leader' },
  ErrLeaderChanged: { code: status.UNAVAILABLE, message: 'etcdserver: leader changed' },
  ErrTimeoutDueToLeaderFail: {
    code: status.UNAVAILABLE,
    message: 'etcdserver: request timed out, possibly due to previous leader failure',
  },
  ErrTimeoutDueToConnectionLost: {
    code: status.UNAVAILABLE,
    message: 'etcdserver: request timed out, possibly due to connection lost',
  },
  ErrUnhealthy: { code: status.UNAVAILABLE, message: 'etcdserver: unhealthy cluster' },
  ErrNotSupportedForLearner: {
    code: status.UNAVAILABLE,
    message: 'etcdserver: rpc not supported for learner',
  },
  ErrBadLeaderTransferee: { code: status.FAILED_PRECONDITION, message: 'etcdserver: bad leader transferee' },
  ErrTimeoutLeaderTransfer: {
    code: status.DEADLINE_EXCEEDED,
    message: 'etcdserver: request timed out, leader transfer took too long',
  },
  // etcd passes raft's error through unmapped: gRPC Unknown with raft's text.
  ErrProposalDropped: { code: status.UNKNOWN, message: 'raft proposal dropped' },
  ErrMemberExist: { code: status.FAILED_PRECONDITION, message: 'etcdserver: member ID already exist' },
  ErrPeerURLExist: { code: status.FAILED_PRECONDITION, message: 'etcdserver: Peer URLs already exists' },
  ErrMemberNotEnoughStarted: {
    code: status.FAILED_PRECONDITION,
    message: 'etcdserver: re-configuration failed due to not enough started members',
  },
  ErrMemberBadURLs: { code: status.INVALID_ARGUMENT, message: 'etcdserver: given member URLs are invalid' },
  ErrMemberNotFound: { code: status.NOT_FOUND, message: 'etcdserver: member not found' },
  ErrMemberNotLearner: {
    code: status.FAILED_PRECONDITION,
    message: 'etcdserver: can only promote a learner member',
  },
  ErrLearnerNotReady: {
    code: status.FAILED_PRECONDITION,
    message: 'etcdserver: can only promote a learner member which is in sync with leader',
  },
  ErrTooManyLearners: {
    code: status.FAILED_PRECONDITION,
    message: 'etcdserver: too many learner members in cluster',
  },
  ErrClusterIdMismatch: { code: status.FAILED_PRECONDITION, message: 'etcdserver: cluster ID mismatch' },
};

/** Converts anything thrown by the server into the gRPC error a client sees. */
export function toGrpcError(err: unknown): Partial<ServiceError> {
  let wire: WireError;
  if (err instanceof EtcdError || err instanceof MvccError) wire = WIRE_ERRORS[err.code];
  else wire = { code: status.UNKNOWN, message: err instanceof Error ? err.message : String(err) };
  return { code: wire.code, details: wire.message, message: wire.message, metadata: new Metadata() };
}
