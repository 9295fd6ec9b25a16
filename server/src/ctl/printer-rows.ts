// The row builders shared by the simple and table printers (etcdctl's makeMemberListTable,
// makeEndpointStatusTable, makeEndpointHealthTable). Cells are byte strings.
import type { MemberListResponse } from '../proto/gen/etcdserverpb/rpc.js';
import { bytesOf } from './byte-string.js';
import { humanizeBytes } from './humanize.js';
import type { EpHealth, EpStatus } from './printer.js';

export interface Rows {
  header: string[];
  rows: string[][];
}

/** Go's %x of a uint64. */
export function hexId(id: bigint): string {
  return BigInt.asUintN(64, id).toString(16);
}

export function memberListRows(r: MemberListResponse): Rows {
  return {
    header: ['ID', 'Status', 'Name', 'Peer Addrs', 'Client Addrs', 'Is Learner'],
    rows: r.members.map((m) => [
      hexId(m.ID),
      m.name.length === 0 ? 'unstarted' : 'started',
      bytesOf(m.name),
      bytesOf(m.peerURLs.join(',')),
      bytesOf(m.clientURLs.join(',')),
      m.isLearner ? 'true' : 'false',
    ]),
  };
}

export function endpointHealthRows(list: readonly EpHealth[]): Rows {
  return {
    header: ['endpoint', 'health', 'took', 'error'],
    rows: list.map((h) => [h.ep, h.health ? 'true' : 'false', h.took, h.error]),
  };
}

export function endpointStatusRows(list: readonly EpStatus[]): Rows {
  return {
    header: [
      'endpoint',
      'ID',
      'version',
      'db size',
      'is leader',
      'is learner',
      'raft term',
      'raft index',
      'raft applied index',
      'errors',
    ],
    rows: list.map(({ ep, resp }) => {
      const memberId = resp.header?.memberId ?? 0n;
      return [
        ep,
        hexId(memberId),
        bytesOf(resp.version),
        humanizeBytes(BigInt.asUintN(64, resp.dbSize)),
        resp.leader === memberId ? 'true' : 'false',
        resp.isLearner ? 'true' : 'false',
        BigInt.asUintN(64, resp.raftTerm).toString(),
        BigInt.asUintN(64, resp.raftIndex).toString(),
        BigInt.asUintN(64, resp.raftAppliedIndex).toString(),
        bytesOf(resp.errors.join(', ')),
      ];
    }),
  };
}
