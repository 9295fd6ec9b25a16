// The lease commands' output in each -w format (etcdctl 3.4 printer*.go Grant/Revoke/KeepAlive/TimeToLive/
// Leases). etcdctl prints clientv3's wrapper structs here, not the protobuf responses, which shows:
// - json: the embedded *pb.ResponseHeader's fields are inlined (cluster_id, member_id, revision, raft_term),
//   then the wrapper's own fields under their Go names or json tags (ID/TTL/Error, id/ttl/granted-ttl/keys,
//   leases[{id}]); revoke prints the protobuf response ({"header":{...}}).
// - protobuf: the wrappers are no protobuf messages, but the embedded header's Marshal method is promoted,
//   so etcdctl writes the header alone; for revoke (no embedded header) it exits 4 with Go's %v of the value.
// - table: not supported (exit 4), after the request.
import { ResponseHeader } from '../proto/gen/etcdserverpb/rpc.js';
import type {
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
} from '../proto/gen/etcdserverpb/rpc.js';
import { bytesFromBuffer } from './byte-string.js';
import { CtlExit, ExitCode } from './exit.js';
import { goQuote } from './go-quote.js';
import { JsonObject } from './go-json.js';
import type { Sink } from './io.js';
import { unsupported, type Printer } from './printer.js';
import { headerJson } from './printer-json.js';

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/** Go's fmt %016x of an int64 lease id: sign first, zero-padded to 16 characters in all. */
export function leaseIdHex(id: bigint): string {
  if (id < 0n) return '-' + (-id).toString(16).padStart(15, '0');
  return id.toString(16).padStart(16, '0');
}

export interface LeasePrinter {
  grant(r: LeaseGrantResponse): void;
  revoke(id: bigint, r: LeaseRevokeResponse): void;
  keepAlive(r: LeaseKeepAliveResponse): void;
  timeToLive(r: LeaseTimeToLiveResponse, keys: boolean): void;
  leases(r: LeaseLeasesResponse): void;
}

export function leasePrinter(kind: Printer['kind'], out: Sink): LeasePrinter {
  switch (kind) {
    case 'simple':
      return simpleLeasePrinter(out);
    case 'json':
      return jsonLeasePrinter(out);
    case 'fields':
      return fieldsLeasePrinter(out);
    case 'protobuf':
      return protobufLeasePrinter(out);
    default: {
      const fail = (): void => unsupported(kind);
      return { grant: fail, revoke: fail, keepAlive: fail, timeToLive: fail, leases: fail };
    }
  }
}

function simpleLeasePrinter(out: Sink): LeasePrinter {
  return {
    grant: (r) => out.write(`lease ${leaseIdHex(r.ID)} granted with TTL(${r.TTL}s)\n`),
    revoke: (id) => out.write(`lease ${leaseIdHex(id)} revoked\n`),
    keepAlive: (r) => out.write(`lease ${leaseIdHex(r.ID)} keepalived with TTL(${r.TTL})\n`),
    timeToLive: (r, keys) => {
      if (r.grantedTTL === 0n && r.TTL === -1n) {
        out.write(`lease ${leaseIdHex(r.ID)} already expired\n`);
        return;
      }
      let txt = `lease ${leaseIdHex(r.ID)} granted with TTL(${r.grantedTTL}s), remaining(${r.TTL}s)`;
      if (keys) txt += `, attached keys([${r.keys.map((k) => bytesFromBuffer(k)).join(' ')}])`;
      out.write(`${txt}\n`);
    },
    leases: (r) => {
      out.write(`found ${r.leases.length} leases\n`);
      for (const l of r.leases) out.write(`${leaseIdHex(l.ID)}\n`);
    },
  };
}

/** The embedded *pb.ResponseHeader's fields, inlined (all omitempty). */
function inlineHeader(o: JsonObject, h: ResponseHeader | undefined): JsonObject {
  if (h === undefined) return o;
  return o
    .int('cluster_id', u64(h.clusterId))
    .int('member_id', u64(h.memberId))
    .int('revision', h.revision)
    .int('raft_term', u64(h.raftTerm));
}

function jsonLeasePrinter(out: Sink): LeasePrinter {
  const line = (o: JsonObject | string): void => out.write(`${o.toString()}\n`);
  return {
    grant: (r) =>
      line(
        inlineHeader(new JsonObject(), r.header)
          .raw('ID', r.ID.toString())
          .raw('TTL', r.TTL.toString())
          .raw('Error', JSON.stringify(r.error)),
      ),
    revoke: (_id, r) => line(new JsonObject().obj('header', headerJson(r.header))),
    keepAlive: (r) =>
      line(inlineHeader(new JsonObject(), r.header).raw('ID', r.ID.toString()).raw('TTL', r.TTL.toString())),
    timeToLive: (r) =>
      line(
        inlineHeader(new JsonObject(), r.header)
          .raw('id', r.ID.toString())
          .raw('ttl', r.TTL.toString())
          .raw('granted-ttl', r.grantedTTL.toString())
          .raw(
            'keys',
            r.keys.length === 0 ? 'null' : `[${r.keys.map((k) => `"${k.toString('base64')}"`).join(',')}]`,
          ),
      ),
    leases: (r) =>
      line(
        inlineHeader(new JsonObject(), r.header).raw(
          'leases',
          `[${r.leases.map((l) => `{"id":${l.ID.toString()}}`).join(',')}]`,
        ),
      ),
  };
}

function fieldsLeasePrinter(out: Sink): LeasePrinter {
  const line = (text: string): void => out.write(`${text}\n`);
  const hdr = (h: ResponseHeader | undefined): void => {
    line(`"ClusterID" : ${u64(h?.clusterId ?? 0n)}`);
    line(`"MemberID" : ${u64(h?.memberId ?? 0n)}`);
    line(`"Revision" : ${h?.revision ?? 0n}`);
    line(`"RaftTerm" : ${u64(h?.raftTerm ?? 0n)}`);
  };
  return {
    grant: (r) => {
      hdr(r.header);
      line(`"ID" : ${r.ID}`);
      line(`"TTL" : ${r.TTL}`);
    },
    revoke: (_id, r) => hdr(r.header),
    keepAlive: (r) => {
      hdr(r.header);
      line(`"ID" : ${r.ID}`);
      line(`"TTL" : ${r.TTL}`);
    },
    timeToLive: (r) => {
      hdr(r.header);
      line(`"ID" : ${r.ID}`);
      line(`"TTL" : ${r.TTL}`);
      line(`"GrantedTTL" : ${r.grantedTTL}`);
      for (const k of r.keys) line(`"Key" : ${goQuote(bytesFromBuffer(k))}`);
    },
    leases: (r) => {
      hdr(r.header);
      for (const l of r.leases) line(`"ID" : ${l.ID}`);
    },
  };
}

/** gogo's compact text form of a ResponseHeader (its String()): non-zero fields, each followed by a space. */
function headerText(h: ResponseHeader | undefined): string {
  if (h === undefined) return '<nil>';
  let s = '';
  if (h.clusterId !== 0n) s += `cluster_id:${u64(h.clusterId)} `;
  if (h.memberId !== 0n) s += `member_id:${u64(h.memberId)} `;
  if (h.revision !== 0n) s += `revision:${h.revision} `;
  if (h.raftTerm !== 0n) s += `raft_term:${u64(h.raftTerm)} `;
  return s;
}

function protobufLeasePrinter(out: Sink): LeasePrinter {
  const header = (h: ResponseHeader | undefined): void =>
    out.write(bytesFromBuffer(h === undefined ? new Uint8Array() : ResponseHeader.encode(h).finish()));
  return {
    grant: (r) => header(r.header),
    revoke: (_id, r) => {
      throw new CtlExit(
        ExitCode.badFeature,
        `marshal unsupported for type clientv3.LeaseRevokeResponse ({${headerText(r.header)}})`,
      );
    },
    keepAlive: (r) => header(r.header),
    timeToLive: (r) => header(r.header),
    leases: (r) => header(r.header),
  };
}
