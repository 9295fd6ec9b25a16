import { createHash } from 'node:crypto';

/** A cluster member as the Cluster service reports it (etcd membership.Member). */
export interface Member {
  id: bigint;
  /** Empty until the member has started and published its name. */
  name: string;
  peerURLs: string[];
  /** Empty until the member has started and published its client URLs. */
  clientURLs: string[];
  isLearner: boolean;
}

/**
 * A URL as etcd prints it (Go's url.URL.String() for scheme://host[:port]): no trailing slash, which
 * Node's URL.toString() would add. Member ids are hashes of these strings, so the form is contract.
 */
export function canonicalUrl(u: URL | string): string {
  const url = typeof u === 'string' ? new URL(u) : u;
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.protocol}//${url.host}${path}`;
}

/**
 * etcd's member id: the first 8 bytes (big-endian) of SHA-1 over the sorted peer URLs joined with no
 * separator, then the cluster token, then — for members added at runtime — the Unix time in seconds.
 * Using etcd's formula means a cluster bootstrapped with the same flags gets the same ids as etcd.
 */
export function computeMemberId(peerURLs: string[], clusterToken: string, nowUnixSeconds?: number): bigint {
  const joined = [...peerURLs].sort().join('');
  const h = createHash('sha1');
  h.update(joined);
  h.update(clusterToken);
  if (nowUnixSeconds !== undefined) h.update(String(Math.floor(nowUnixSeconds)));
  return h.digest().readBigUInt64BE(0);
}

/**
 * etcd's cluster id: the first 8 bytes of SHA-1 over the sorted member ids, each as 8 big-endian bytes.
 */
export function computeClusterId(memberIds: bigint[]): bigint {
  const sorted = [...memberIds].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const buf = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => buf.writeBigUInt64BE(id, 8 * i));
  return createHash('sha1').update(buf).digest().readBigUInt64BE(0);
}

export function cloneMember(m: Member): Member {
  return { ...m, peerURLs: [...m.peerURLs], clientURLs: [...m.clientURLs] };
}
