import type { Metadata } from '@grpc/grpc-js';
import type { EtcdServer } from '../etcdserver/server.js';
import { EtcdError } from '../errors.js';
import { toGrpcError } from './errors.js';

/** etcd's metadata key and value by which a client asks for a leader (rpctypes.MetadataRequireLeaderKey). */
const REQUIRE_LEADER_KEY = 'hasleader';
const HAS_LEADER = 'true';

export function requiresLeader(md: Metadata): boolean {
  return md.get(REQUIRE_LEADER_KEY).some((v) => String(v) === HAS_LEADER);
}

/**
 * etcd's stream interceptor: a learner refuses streams; a stream opened with `hasleader` is refused
 * while the member has no leader, and later cancelled with "no leader" if the member loses its leader
 * for a few election timeouts (EtcdServer.leaderStreams). Returns an unregister function, or undefined
 * when the stream was refused (the error was emitted on it).
 */
export function guardStream(
  server: EtcdServer,
  call: { metadata: Metadata; emit(event: 'error', err: unknown): boolean },
  cancel: (err: ReturnType<typeof toGrpcError>) => void,
): (() => void) | undefined {
  const requireLeader = requiresLeader(call.metadata);
  try {
    server.checkStream(requireLeader);
  } catch (err) {
    call.emit('error', toGrpcError(err));
    return undefined;
  }
  if (!requireLeader) return () => undefined;
  const onNoLeader = (): void => cancel(toGrpcError(new EtcdError('ErrNoLeader')));
  server.leaderStreams.add(onNoLeader);
  return () => server.leaderStreams.delete(onNoLeader);
}
