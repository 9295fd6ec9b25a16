import { EtcdError } from '../../errors.js';
import { ConfChangeType, type ConfChange } from '../../raftpb/types.js';
import { decodeMember } from './backend-store.js';
import type { MembershipChange } from './cluster.js';
import { canonicalUrl } from './member.js';

/** The membership change a conf change stands for; its context is the member (etcd ConfigChangeContext). */
export function membershipChange(cc: ConfChange): MembershipChange {
  switch (cc.type) {
    case ConfChangeType.ConfChangeAddNode:
    case ConfChangeType.ConfChangeAddLearnerNode: {
      const m = decodeMember(cc.context);
      const isPromote = (JSON.parse(Buffer.from(cc.context).toString()) as { isPromote?: boolean }).isPromote;
      if (isPromote === true) return { type: 'promote', id: cc.nodeId };
      return { type: 'add', member: { ...m, id: cc.nodeId } };
    }
    case ConfChangeType.ConfChangeRemoveNode:
      return { type: 'remove', id: cc.nodeId };
    case ConfChangeType.ConfChangeUpdateNode:
      return { type: 'update', id: cc.nodeId, peerURLs: decodeMember(cc.context).peerURLs };
  }
}

/** MemberAdd/MemberUpdate URLs (etcd types.NewURLs): http(s), host:port, no path. */
export function parseMemberUrls(urls: string[]): string[] {
  if (urls.length === 0) throw new EtcdError('ErrMemberBadURLs');
  return urls
    .map((raw) => {
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        throw new EtcdError('ErrMemberBadURLs');
      }
      if (
        (u.protocol !== 'http:' && u.protocol !== 'https:') ||
        u.port === '' ||
        (u.pathname !== '/' && u.pathname !== '')
      ) {
        throw new EtcdError('ErrMemberBadURLs');
      }
      return canonicalUrl(u);
    })
    .sort();
}
