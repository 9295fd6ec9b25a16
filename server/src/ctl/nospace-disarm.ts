// `defrag --safe --disarm-nospace`: after the defragmentations, whether the NOSPACE alarms may go.
// etcd raises NOSPACE when a member's database reaches its quota and never clears it by itself; once
// compaction and defragmentation have brought every member back below its quota the alarm only blocks
// writes for nothing. Disarming while some member is still at or over its quota would let writes in that
// raise the alarm again at once, so then it stays.
import { AlarmType } from '../proto/gen/etcdserverpb/rpc.js';

export interface RaisedAlarm {
  readonly memberID: bigint;
  readonly alarm: AlarmType;
}

export interface MemberSize {
  readonly name: string;
  readonly dbSize: number;
  /** The member's quota (its dbSizeQuota, else --quota-backend-bytes). */
  readonly quota: number;
}

export type DisarmDecision =
  { readonly disarm: readonly RaisedAlarm[] } | { readonly disarm: readonly []; readonly reason: string };

/** Which NOSPACE alarms to deactivate (one per member that has one), or why none. */
export function decideNoSpaceDisarm(
  alarms: readonly RaisedAlarm[],
  sizes: readonly MemberSize[],
): DisarmDecision {
  const noSpace = alarms.filter((a) => a.alarm === AlarmType.NOSPACE);
  if (noSpace.length === 0) return { disarm: [], reason: 'no NOSPACE alarm is raised' };
  const full = sizes.find((s) => s.dbSize >= s.quota);
  if (full !== undefined) {
    return {
      disarm: [],
      reason: `member ${full.name} is still at ${full.dbSize} bytes, its quota is ${full.quota}`,
    };
  }
  return { disarm: noSpace };
}
