// Normalising etcdctl output so that two servers can be compared: only what legitimately differs
// between two fresh single-member servers is replaced (ids, raft term/index, db sizes, timings,
// version strings, URLs/ports). Revisions, versions, counts, values, error texts and gRPC codes stay.
import { etcdctl, type EtcdctlResult } from './etcdctl.js';
import type { Member } from './member.js';
import { testClusterSize } from './cluster-member.js';
import { parseJson, parseTable, renderTable, splitStderr } from './output.js';

export interface Identity {
  clientUrl: string;
  /** `127.0.0.1:<port>` */
  hostPort: string;
  /** decimal uint64 */
  memberId: string;
  memberIdHex: string;
  clusterId: string;
  /** raft_term of the response header (0 if absent) */
  raftTerm: number;
  /** The other members of its cluster (CAIRN_TEST_CLUSTER_SIZE > 1), whose ids and URLs differ too. */
  peers: PeerIdentity[];
}

export interface PeerIdentity {
  memberId: string;
  memberIdHex: string;
  clientUrl: string;
  hostPort: string;
}

/** The other members' ids and client URLs, from `member list -w json` (none for a single member). */
async function peersOf(m: Member, self: string): Promise<PeerIdentity[]> {
  if (testClusterSize() === 1) return [];
  const r = await etcdctl(m.clientUrl, ['member', 'list', '-w', 'json']);
  if (r.code !== 0) throw new Error(`member list -w json failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
  const members = (parseJson(r.stdout) as { members?: { ID: number | string; clientURLs?: string[] }[] })
    .members;
  return (members ?? [])
    .filter((p) => String(p.ID) !== self)
    .map((p) => {
      const clientUrl = p.clientURLs?.[0] ?? '';
      return {
        memberId: String(p.ID),
        memberIdHex: BigInt(String(p.ID)).toString(16),
        clientUrl,
        hostPort: clientUrl === '' ? '' : new URL(clientUrl).host,
      };
    });
}

/**
 * Reads a member's ids from a Range response header (`etcdctl get <probe> -w json`), so that KV tests do
 * not depend on Maintenance.Status working.
 */
export async function identityOf(m: Member): Promise<Identity> {
  const r = await etcdctl(m.clientUrl, ['get', '__cairn_test_identity_probe__', '-w', 'json']);
  if (r.code !== 0) throw new Error(`get -w json failed (exit ${r.code}): ${r.stdout}${r.stderr}`);
  const parsed = parseJson(r.stdout) as {
    header?: { member_id?: number | string; cluster_id?: number | string; raft_term?: number };
  };
  const header = parsed.header;
  if (header?.member_id === undefined || header.cluster_id === undefined) {
    throw new Error(`response header without member_id/cluster_id: ${r.stdout}`);
  }
  const memberId = String(header.member_id);
  return {
    clientUrl: m.clientUrl,
    hostPort: new URL(m.clientUrl).host,
    memberId,
    memberIdHex: BigInt(memberId).toString(16),
    clusterId: String(header.cluster_id),
    raftTerm: typeof header.raft_term === 'number' ? header.raft_term : 0,
    peers: await peersOf(m, memberId),
  };
}

const STATUS_SIMPLE =
  /^(\S+), ([0-9a-f]+|<member-id>), ([^,]*), ([^,]*), (true|false), (true|false), (\d+), (\d+), (\d+), (.*)$/;
const MEMBER_SIMPLE = /^(\S+), (started|unstarted), ([^,]*), ([^,]*), ([^,]*), (true|false)$/;

export class Normalizer {
  constructor(private readonly id: Identity) {}

  /** Replaces URLs and ids in free text. */
  text(s: string): string {
    const id = this.id;
    let out = s.split(id.clientUrl).join('<client-url>');
    out = out.split(id.hostPort).join('<endpoint>');
    out = out.replace(new RegExp(`\\b${id.memberIdHex}\\b`, 'g'), '<member-id>');
    out = out.split(id.memberId).join('<member-id>');
    out = out.split(id.clusterId).join('<cluster-id>');
    for (const p of id.peers) {
      if (p.clientUrl !== '') out = out.split(p.clientUrl).join('<peer-client-url>');
      if (p.hostPort !== '') out = out.split(p.hostPort).join('<peer-endpoint>');
      out = out.replace(new RegExp(`\\b${p.memberIdHex}\\b`, 'g'), '<peer-member-id>');
      out = out.split(p.memberId).join('<peer-member-id>');
    }
    return out;
  }

  private memberId(v: unknown): unknown {
    if (String(v) === this.id.memberId) return '<member-id>';
    return this.id.peers.some((p) => p.memberId === String(v)) ? '<peer-member-id>' : v;
  }

  /** Normalises one line of simple (non-JSON, non-table) output. */
  private simpleLine(line: string): string {
    let l = this.text(line);
    l = l.replace(/took = \S+$/, 'took = <took>');
    const st = STATUS_SIMPLE.exec(l);
    if (st) {
      // endpoint, id, version, db size, is leader, is learner, raft term, raft index, applied index, errors
      return [
        st[1],
        st[2],
        '<version>',
        '<db-size>',
        st[5],
        st[6],
        '<raft-term>',
        '<raft-index>',
        '<raft-index>',
        st[10],
      ].join(', ');
    }
    const ml = MEMBER_SIMPLE.exec(l);
    if (ml) return [ml[1], ml[2], ml[3], '<peer-urls>', ml[5], ml[6]].join(', ');
    return l;
  }

  /** Walks parsed JSON and replaces what legitimately differs. */
  json(v: unknown, key = ''): unknown {
    const id = this.id;
    if (Array.isArray(v)) {
      if (key === 'peerURLs') return ['<peer-urls>'];
      const items = v.map((x) => this.json(x, key));
      // A cluster's members are listed by id, which differs between servers: compare them by name.
      if (key === 'members') items.sort((a, b) => memberName(a).localeCompare(memberName(b)));
      return items;
    }
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = this.json(x, k);
      return out;
    }
    switch (key) {
      case 'cluster_id':
        return String(v) === id.clusterId ? '<cluster-id>' : v;
      case 'member_id':
      case 'leader':
      case 'ID':
        return this.memberId(v);
      case 'raft_term':
      case 'raftTerm':
        return '<raft-term>';
      case 'raftIndex':
      case 'raftAppliedIndex':
        return '<raft-index>';
      case 'dbSize':
      case 'dbSizeInUse':
        return '<db-size>';
      case 'took':
        return '<took>';
      case 'version':
        return typeof v === 'string' ? '<version>' : v; // KeyValue.version is a number and is kept
      default:
        return typeof v === 'string' ? this.text(v) : v;
    }
  }

  /** Normalises a table, cell by cell according to its column, and re-renders it. */
  table(text: string): string {
    const t = parseTable(text);
    const rows = t.rows.map((r) =>
      r.map((cell, i) => {
        switch (t.header[i]) {
          case 'VERSION':
            return '<version>';
          case 'DB SIZE':
            return '<db-size>';
          case 'RAFT TERM':
            return '<raft-term>';
          case 'RAFT INDEX':
          case 'RAFT APPLIED INDEX':
            return '<raft-index>';
          case 'TOOK':
            return '<took>';
          case 'PEER ADDRS':
            return '<peer-urls>';
          default:
            return this.text(cell);
        }
      }),
    );
    if (t.header.includes('PEER ADDRS')) {
      const name = t.header.indexOf('NAME');
      rows.sort((a, b) => (a[name] ?? '').localeCompare(b[name] ?? ''));
    }
    return renderTable({ header: t.header, rows });
  }

  /** Normalises one stdout or stderr stream (JSON, table or simple text). */
  stream(s: string): string {
    const trimmed = s.trim();
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      try {
        return JSON.stringify(this.json(parseJson(trimmed)), null, 2);
      } catch {
        /* fall through: not a single JSON document */
      }
    }
    if (trimmed.startsWith('+-')) {
      try {
        return this.table(trimmed);
      } catch {
        /* fall through */
      }
    }
    // -w fields: the top-level header comes first; inner (txn response) headers print RaftTerm 0 on etcd.
    const lines = s.split('\n').map((l) => this.simpleLine(l));
    // member list: one line per member in id order, which differs between servers; compare by name.
    const members = lines.filter((l) => MEMBER_SIMPLE.test(l));
    if (members.length > 1 && members.length === lines.filter((l) => l !== '').length) {
      const byName = (l: string): string => l.split(', ')[2] ?? '';
      members.sort((a, b) => byName(a).localeCompare(byName(b)));
      return members.join('\n') + (s.endsWith('\n') ? '\n' : '');
    }
    return lines.join('\n').replace(/^"RaftTerm" : [1-9]\d*$/m, '"RaftTerm" : <raft-term>');
  }

  /** A canonical text of one etcdctl invocation's result (exit code, stdout, stderr). */
  result(r: EtcdctlResult): string {
    const err = splitStderr(r.stderr);
    return [
      `exit: ${r.code}`,
      '--- stdout',
      this.stream(r.stdout),
      '--- stderr',
      ...err.clientErrors.map((e) => `[client log] ${this.text(e)}`),
      ...err.lines.map((l) => this.simpleLine(l)),
    ].join('\n');
  }
}

function memberName(v: unknown): string {
  return typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string'
    ? (v as { name: string }).name
    : '';
}
