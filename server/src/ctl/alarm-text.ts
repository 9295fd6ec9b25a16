// How etcdctl prints one alarm (`alarm list`, `alarm disarm`; `defrag --safe --disarm-nospace` too).
import { AlarmType } from '../proto/gen/etcdserverpb/rpc.js';

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/** Go's %+v of *pb.AlarmMember (its proto String()): `memberID:N alarm:NOSPACE `. */
export function alarmMemberText(m: { readonly memberID: bigint; readonly alarm: AlarmType }): string {
  return `memberID:${u64(m.memberID)} alarm:${AlarmType[m.alarm] ?? String(m.alarm)} `;
}
