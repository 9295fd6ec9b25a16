// gRPC errors as etcd's Go client reports them. A failed call is a status (code + message); the client
// logs it as `rpc error: code = OutOfRange desc = etcdserver: ...`, and then clientv3's toErr decides
// what etcdctl prints after "Error: ": the bare message for the errors etcd knows
// (etcdserver/api/v3rpc/rpctypes/error.go), "context deadline exceeded" when the command's deadline
// passed, or the full status text for anything else.

/** google.golang.org/grpc/codes names, by number. */
const codeNames = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

export const GrpcCode = {
  canceled: 1,
  unknown: 2,
  invalidArgument: 3,
  deadlineExceeded: 4,
  permissionDenied: 7,
  resourceExhausted: 8,
  failedPrecondition: 9,
  unavailable: 14,
} as const;

/** The messages of rpctypes' errStringToError table (etcd 3.4): matched by text, like the Go client. */
const etcdServerMessages = new Set([
  'etcdserver: key is not provided',
  'etcdserver: key not found',
  'etcdserver: value is provided',
  'etcdserver: lease is provided',
  'etcdserver: too many operations in txn request',
  'etcdserver: duplicate key given in txn request',
  'etcdserver: mvcc: required revision has been compacted',
  'etcdserver: mvcc: required revision is a future revision',
  'etcdserver: mvcc: database space exceeded',
  'etcdserver: requested lease not found',
  'etcdserver: lease already exists',
  'etcdserver: too large lease TTL',
  'etcdserver: member ID already exist',
  'etcdserver: Peer URLs already exists',
  'etcdserver: re-configuration failed due to not enough started members',
  'etcdserver: given member URLs are invalid',
  'etcdserver: member not found',
  'etcdserver: can only promote a learner member',
  'etcdserver: can only promote a learner member which is in sync with leader',
  'etcdserver: too many learner members in cluster',
  'etcdserver: request is too large',
  'etcdserver: too many requests',
  'etcdserver: root user does not exist',
  'etcdserver: root user does not have root role',
  'etcdserver: user name already exists',
  'etcdserver: user name is empty',
  'etcdserver: user name not found',
  'etcdserver: role name already exists',
  'etcdserver: role name not found',
  'etcdserver: role name is empty',
  'etcdserver: authentication failed, invalid user ID or password',
  'etcdserver: permission denied',
  'etcdserver: role is not granted to the user',
  'etcdserver: permission is not granted to the role',
  'etcdserver: authentication is not enabled',
  'etcdserver: invalid auth token',
  'etcdserver: invalid auth management',
  'etcdserver: revision of auth store is old',
  'etcdserver: no leader',
  'etcdserver: not leader',
  'etcdserver: leader changed',
  'etcdserver: not capable',
  'etcdserver: server stopped',
  'etcdserver: request timed out',
  'etcdserver: request timed out, possibly due to previous leader failure',
  'etcdserver: request timed out, possibly due to connection lost',
  'etcdserver: request timed out, waiting for the applied index took too long',
  'etcdserver: unhealthy cluster',
  'etcdserver: corrupt cluster',
  'etcdserver: rpc not supported for learner',
  'etcdserver: bad leader transferee',
]);

/** A failed call's status. `desc` is a byte string. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    readonly desc: string,
  ) {
    super(`rpc error: code = ${codeNames[code] ?? `Code(${code})`} desc = ${desc}`);
  }

  /** Whether rpctypes.Error turns this into an EtcdError (a known server error). */
  get isEtcdError(): boolean {
    return etcdServerMessages.has(this.desc);
  }
}

/**
 * clientv3's toErr: the text etcdctl prints after "Error: ". `deadlinePassed` is ctx.Err() != nil for the
 * call's context.
 */
export function clientErrorText(err: RpcError, deadlinePassed: boolean): string {
  if (err.isEtcdError) return err.desc;
  switch (err.code) {
    case GrpcCode.deadlineExceeded:
    case GrpcCode.canceled:
      return deadlinePassed ? 'context deadline exceeded' : err.message;
    case GrpcCode.failedPrecondition:
      return 'grpc: the client connection is closing';
    default:
      return err.message;
  }
}
