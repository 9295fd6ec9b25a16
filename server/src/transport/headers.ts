/** The endpoints and headers of the peer protocol (README.md has the full wire format). */
export const RAFT_STREAM_PATH = '/raft/stream';
export const RAFT_SNAPSHOT_PATH = '/raft/snapshot';

/** Cluster id, hex (etcd: X-Etcd-Cluster-ID). A mismatch is refused with HTTP 412. */
export const HEADER_CLUSTER_ID = 'x-cairn-cluster-id';
/** Sending member id, hex (etcd: X-Server-From). */
export const HEADER_FROM = 'x-cairn-from';
/** Receiving member id, hex (etcd: X-Raft-To). */
export const HEADER_TO = 'x-cairn-to';
/** On /raft/snapshot: the size of the snapshot data that follows the message header, decimal. */
export const HEADER_SNAPSHOT_BYTES = 'x-cairn-snapshot-bytes';
