// The output of `member add|remove|update|promote` and `move-leader` in each -w format (etcdctl 3.4
// printer*.go MemberAdd/MemberRemove/MemberUpdate/MemberPromote/MoveLeader):
// - simple: one sentence; member and cluster ids as Go's %16x (space-padded to 16), move-leader's as
//   types.ID (bare hex);
// - json / protobuf: the protobuf response (MoveLeaderResponse has no header in etcd 3.4: `{}`, no bytes);
// - table / fields: not supported (exit 4), after the request — the change has been made by then.
import {
  MemberAddResponse,
  MemberPromoteResponse,
  MemberRemoveResponse,
  MemberUpdateResponse,
  MoveLeaderResponse,
  type Member,
  type ResponseHeader,
} from '../proto/gen/etcdserverpb/rpc.js';
import { bytesFromBuffer } from './byte-string.js';
import { JsonObject } from './go-json.js';
import type { Sink } from './io.js';
import { headerJson, memberJson } from './printer-json.js';
import { hexId } from './printer-rows.js';
import { unsupported, type Printer } from './printer.js';

export interface MemberPrinter {
  memberAdd(r: MemberAddResponse): void;
  memberRemove(id: bigint, r: MemberRemoveResponse): void;
  memberUpdate(id: bigint, r: MemberUpdateResponse): void;
  memberPromote(id: bigint, r: MemberPromoteResponse): void;
  moveLeader(leader: bigint, target: bigint, r: MoveLeaderResponse): void;
}

/** Go's %16x of a uint64: hex, left-padded with spaces to 16 characters. */
export function paddedHexId(id: bigint): string {
  return hexId(id).padStart(16, ' ');
}

export function memberPrinter(kind: Printer['kind'], out: Sink): MemberPrinter {
  switch (kind) {
    case 'simple':
      return simpleMemberPrinter(out);
    case 'json':
      return jsonMemberPrinter(out);
    case 'protobuf':
      return protobufMemberPrinter(out);
    default: {
      const fail = (): void => unsupported(kind);
      return {
        memberAdd: fail,
        memberRemove: fail,
        memberUpdate: fail,
        memberPromote: fail,
        moveLeader: fail,
      };
    }
  }
}

function simpleMemberPrinter(out: Sink): MemberPrinter {
  const changed = (id: bigint, what: string, h: ResponseHeader | undefined): void =>
    out.write(`Member ${paddedHexId(id)} ${what} cluster ${paddedHexId(h?.clusterId ?? 0n)}\n`);
  return {
    memberAdd: (r) => changed(r.member?.ID ?? 0n, 'added to', r.header),
    memberRemove: (id, r) => changed(id, 'removed from', r.header),
    memberUpdate: (id, r) => changed(id, 'updated in', r.header),
    memberPromote: (id, r) => changed(id, 'promoted in', r.header),
    moveLeader: (leader, target) =>
      out.write(`Leadership transferred from ${hexId(leader)} to ${hexId(target)}\n`),
  };
}

function membersJson(header: ResponseHeader | undefined, members: readonly Member[]): JsonObject {
  return new JsonObject().obj('header', headerJson(header)).list('members', members.map(memberJson));
}

function jsonMemberPrinter(out: Sink): MemberPrinter {
  const line = (o: JsonObject): void => out.write(`${o.toString()}\n`);
  return {
    memberAdd: (r) =>
      line(
        new JsonObject()
          .obj('header', headerJson(r.header))
          .obj('member', r.member === undefined ? undefined : memberJson(r.member))
          .list('members', r.members.map(memberJson)),
      ),
    memberRemove: (_id, r) => line(membersJson(r.header, r.members)),
    memberUpdate: (_id, r) => line(membersJson(r.header, r.members)),
    memberPromote: (_id, r) => line(membersJson(r.header, r.members)),
    moveLeader: (_leader, _target, r) => line(new JsonObject().obj('header', headerJson(r.header))),
  };
}

function protobufMemberPrinter(out: Sink): MemberPrinter {
  const write = (bytes: Uint8Array): void => out.write(bytesFromBuffer(bytes));
  return {
    memberAdd: (r) => write(MemberAddResponse.encode(r).finish()),
    memberRemove: (_id, r) => write(MemberRemoveResponse.encode(r).finish()),
    memberUpdate: (_id, r) => write(MemberUpdateResponse.encode(r).finish()),
    memberPromote: (_id, r) => write(MemberPromoteResponse.encode(r).finish()),
    moveLeader: (_leader, _target, r) => write(MoveLeaderResponse.encode(r).finish()),
  };
}
