/**
 * The error table against etcd's rpctypes (etcd.md §1.9): clients map errors back by the exact message
 * text, so both the gRPC code and the message are wire contract.
 */
import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toGrpcError, WIRE_ERRORS } from '../../../server/src/api/errors.js';
import type { EtcdErrorCode } from '../../../server/src/errors.js';
import { EtcdError } from '../../../server/src/errors.js';
import type { MvccErrorCode } from '../../../server/src/mvcc/errors.js';
import { errCompacted, errFutureRev, MvccError } from '../../../server/src/mvcc/errors.js';

/** etcd's code and message for each of Cairn's error codes, copied from etcd.md §1.9. */
const ETCD: Record<EtcdErrorCode | MvccErrorCode, [status, string]> = {
  ErrEmptyKey: [status.INVALID_ARGUMENT, 'etcdserver: key is not provided'],
  ErrKeyNotFound: [status.INVALID_ARGUMENT, 'etcdserver: key not found'],
  ErrValueProvided: [status.INVALID_ARGUMENT, 'etcdserver: value is provided'],
  ErrLeaseProvided: [status.INVALID_ARGUMENT, 'etcdserver: lease is provided'],
  ErrTooManyOps: [status.INVALID_ARGUMENT, 'etcdserver: too many operations in txn request'],
  ErrDuplicateKey: [status.INVALID_ARGUMENT, 'etcdserver: duplicate key given in txn request'],
  ErrInvalidSortOption: [status.INVALID_ARGUMENT, 'etcdserver: invalid sort option'],
  ErrCompacted: [status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'],
  ErrFutureRev: [status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'],
  ERR_MVCC_COMPACTED: [status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'],
  ERR_MVCC_FUTURE_REV: [status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision is a future revision'],
  ERR_MVCC_CORRUPT: [status.DATA_LOSS, 'etcdserver: corrupt cluster'],
  ErrLeaseNotFound: [status.NOT_FOUND, 'etcdserver: requested lease not found'],
  ErrLeaseExists: [status.FAILED_PRECONDITION, 'etcdserver: lease already exists'],
  ErrLeaseTTLTooLarge: [status.OUT_OF_RANGE, 'etcdserver: too large lease TTL'],
  ErrRequestTooLarge: [status.INVALID_ARGUMENT, 'etcdserver: request is too large'],
  ErrTooManyRequests: [status.RESOURCE_EXHAUSTED, 'etcdserver: too many requests'],
  ErrNoSpace: [status.RESOURCE_EXHAUSTED, 'etcdserver: mvcc: database space exceeded'],
  ErrStopped: [status.UNAVAILABLE, 'etcdserver: server stopped'],
  ErrTimeout: [status.UNAVAILABLE, 'etcdserver: request timed out'],
  ErrCorrupt: [status.DATA_LOSS, 'etcdserver: corrupt cluster'],
  ErrNoLeader: [status.UNAVAILABLE, 'etcdserver: no leader'],
  ErrNotLeader: [status.FAILED_PRECONDITION, 'etcdserver: not leader'],
  ErrLeaderChanged: [status.UNAVAILABLE, 'etcdserver: leader changed'],
  ErrTimeoutDueToLeaderFail: [
    status.UNAVAILABLE,
    'etcdserver: request timed out, possibly due to previous leader failure',
  ],
  ErrTimeoutDueToConnectionLost: [
    status.UNAVAILABLE,
    'etcdserver: request timed out, possibly due to connection lost',
  ],
  ErrUnhealthy: [status.UNAVAILABLE, 'etcdserver: unhealthy cluster'],
  ErrNotSupportedForLearner: [status.UNAVAILABLE, 'etcdserver: rpc not supported for learner'],
  ErrBadLeaderTransferee: [status.FAILED_PRECONDITION, 'etcdserver: bad leader transferee'],
  ErrTimeoutLeaderTransfer: [
    status.DEADLINE_EXCEEDED,
    'etcdserver: request timed out, leader transfer took too long',
  ],
  ErrProposalDropped: [status.UNKNOWN, 'raft proposal dropped'],
  ErrMemberExist: [status.FAILED_PRECONDITION, 'etcdserver: member ID already exist'],
  ErrPeerURLExist: [status.FAILED_PRECONDITION, 'etcdserver: Peer URLs already exists'],
  ErrMemberNotEnoughStarted: [
    status.FAILED_PRECONDITION,
    'etcdserver: re-configuration failed due to not enough started members',
  ],
  ErrMemberBadURLs: [status.INVALID_ARGUMENT, 'etcdserver: given member URLs are invalid'],
  ErrMemberNotFound: [status.NOT_FOUND, 'etcdserver: member not found'],
  ErrMemberNotLearner: [status.FAILED_PRECONDITION, 'etcdserver: can only promote a learner member'],
  ErrLearnerNotReady: [
    status.FAILED_PRECONDITION,
    'etcdserver: can only promote a learner member which is in sync with leader',
  ],
  ErrTooManyLearners: [status.FAILED_PRECONDITION, 'etcdserver: too many learner members in cluster'],
  ErrClusterIdMismatch: [status.FAILED_PRECONDITION, 'etcdserver: cluster ID mismatch'],
};

describe('WIRE_ERRORS', () => {
  it('has exactly the codes above', () => {
    assert.deepEqual(Object.keys(WIRE_ERRORS).sort(), Object.keys(ETCD).sort());
  });

  for (const [c, [grpcCode, message]] of Object.entries(ETCD)) {
    it(`${c} → ${status[grpcCode]} "${message}"`, () => {
      const wire = WIRE_ERRORS[c as keyof typeof ETCD];
      assert.equal(wire.code, grpcCode);
      assert.equal(wire.message, message);
    });
  }
});

describe('toGrpcError', () => {
  it('maps an EtcdError to its code, with the message in both details and message', () => {
    for (const [c, [grpcCode, message]] of Object.entries(ETCD)) {
      if (c.startsWith('ERR_MVCC_')) continue;
      const e = toGrpcError(new EtcdError(c as EtcdErrorCode, 'some internal detail'));
      assert.equal(e.code, grpcCode, c);
      assert.equal(e.details, message, c);
      assert.equal(e.message, message, c);
      assert.ok(e.metadata !== undefined);
    }
  });

  it("maps the mvcc layer's errors", () => {
    assert.deepEqual(pick(toGrpcError(errCompacted())), [status.OUT_OF_RANGE, ETCD.ErrCompacted[1]]);
    assert.deepEqual(pick(toGrpcError(errFutureRev())), [status.OUT_OF_RANGE, ETCD.ErrFutureRev[1]]);
    assert.deepEqual(pick(toGrpcError(new MvccError('ERR_MVCC_CORRUPT', 'revision 5_0 missing'))), [
      status.DATA_LOSS,
      'etcdserver: corrupt cluster',
    ]);
  });

  it('anything else is UNKNOWN with its own message', () => {
    assert.deepEqual(pick(toGrpcError(new Error('boom'))), [status.UNKNOWN, 'boom']);
    assert.deepEqual(pick(toGrpcError('plain string')), [status.UNKNOWN, 'plain string']);
  });
});

function pick(e: { code?: status; details?: string }): [status | undefined, string | undefined] {
  return [e.code, e.details];
}
