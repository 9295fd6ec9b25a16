import { computeClusterId, computeMemberId, type Member } from './member.js';

export class InitialClusterError extends Error {
  override readonly name = 'InitialClusterError';
}

/**
 * Parses `--initial-cluster` (`name=url,name=url,...`; a name may repeat to give a member several peer
 * URLs) into name → peer URLs (as written), in order of first appearance.
 */
export function parseInitialCluster(value: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of value.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) throw new InitialClusterError(`--initial-cluster: "${item}" is not name=url`);
    const name = item.slice(0, eq);
    const raw = item.slice(eq + 1).trim();
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new InitialClusterError(`--initial-cluster: invalid URL "${raw}" for ${name}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new InitialClusterError(`--initial-cluster: URL scheme must be http or https: "${raw}"`);
    }
    if (url.port === '') throw new InitialClusterError(`--initial-cluster: URL "${raw}" has no port`);
    // Kept as written: member ids hash the URL text (etcd hashes what it was given).
    const urls = out.get(name) ?? [];
    if (!urls.includes(raw)) urls.push(raw);
    out.set(name, urls);
  }
  if (out.size === 0) throw new InitialClusterError('--initial-cluster is empty');
  return out;
}

export interface InitialCluster {
  clusterId: bigint;
  /** The members in ascending id order. */
  members: Member[];
  /** This member (the one named --name). */
  self: Member;
}

/**
 * The cluster a new member bootstraps (etcd NewClusterFromURLsMap): ids from peer URLs and the token,
 * the cluster id from the ids. Checks what etcd checks: this member is listed, its advertised peer
 * URLs are exactly its entry, and no two members share an id or a URL.
 */
export function bootstrapCluster(opts: {
  name: string;
  initialCluster: Map<string, string[]>;
  token: string;
  advertisePeerUrls: string[];
}): InitialCluster {
  const members: Member[] = [];
  const seenUrls = new Map<string, string>();
  for (const [name, peerURLs] of opts.initialCluster) {
    for (const u of peerURLs) {
      const other = seenUrls.get(u);
      if (other !== undefined) {
        throw new InitialClusterError(`--initial-cluster: ${name} and ${other} share the peer URL ${u}`);
      }
      seenUrls.set(u, name);
    }
    const id = computeMemberId(peerURLs, opts.token);
    if (id === 0n)
      throw new InitialClusterError(`--initial-cluster: member ${name} hashes to the invalid id 0`);
    if (members.some((m) => m.id === id)) {
      throw new InitialClusterError(`--initial-cluster: member ${name} has the same id as another member`);
    }
    members.push({ id, name, peerURLs: [...peerURLs].sort(), clientURLs: [], isLearner: false });
  }
  const self = members.find((m) => m.name === opts.name);
  if (self === undefined) {
    throw new InitialClusterError(
      `couldn't find local name "${opts.name}" in the initial cluster configuration`,
    );
  }
  const advertised = [...new Set(opts.advertisePeerUrls)].sort();
  if (advertised.join(',') !== self.peerURLs.join(',')) {
    // etcd's own message (etcdctl snapshot restore prints it as is).
    throw new InitialClusterError(
      `--initial-cluster has ${opts.name}=${(opts.initialCluster.get(opts.name) ?? []).join(',')} but missing from --initial-advertise-peer-urls=${opts.advertisePeerUrls.join(',')}`,
    );
  }
  members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { clusterId: computeClusterId(members.map((m) => m.id)), members, self };
}
