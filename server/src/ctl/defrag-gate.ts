// The health gate of `defrag --safe`: defragmentation blocks a member's writes for as long as it takes,
// so it is only started on a cluster that can afford to lose one member for a while. Checked before the
// first member and again before each next one (a member that went down meanwhile stops the run).
//
// Healthy means: every member answered Status; they all name the same leader (not none); no alarm but
// NOSPACE is raised (NOSPACE is what defragmentation cures; CORRUPT or anything else means hands off);
// and no member's applied index trails the leader's by more than --max-lag entries (a member far behind
// would be the next to catch up from a snapshot, and the cluster would have one member fewer meanwhile).

/** What a member's Status said, in the units the gate and the rule use. */
export interface MemberStatus {
  /** header.member_id */
  readonly memberId: bigint;
  /** The leader this member knows (0: none). */
  readonly leader: bigint;
  readonly raftAppliedIndex: number;
  readonly dbSize: number;
  readonly dbSizeInUse: number;
  /** etcd 3.6's dbSizeQuota (0 when the server does not report it). */
  readonly dbSizeQuota: number;
  readonly isLearner: boolean;
  /** Status.errors: the cluster's active alarms as text (`memberID:N alarm:NOSPACE `). */
  readonly errors: readonly string[];
}

/** One member as observed for the gate: its Status, or why there is none. */
export interface Observed {
  readonly name: string;
  readonly endpoint: string;
  readonly status: MemberStatus | undefined;
  /** Why Status failed (set when status is undefined). */
  readonly failure?: string;
}

export type GateVerdict =
  | { readonly healthy: true; readonly leader: bigint }
  | { readonly healthy: false; readonly reason: string; readonly cause: GateCause };

/** Why the gate failed; `lag` is the one that passes by itself (a member just defragmented catching up). */
export type GateCause = 'no-member' | 'no-status' | 'no-leader' | 'leaders-disagree' | 'alarm' | 'lag';

/** Whether a Status error text is a NOSPACE alarm (which does not make a member unhealthy). */
export function isNoSpaceAlarm(text: string): boolean {
  return /\balarm:NOSPACE\b/.test(text);
}

function who(m: Observed): string {
  return m.name === '' ? m.endpoint : `${m.name} (${m.endpoint})`;
}

/**
 * The gate's decision. `maxLag` is in raft entries. When the leader is not among `members` (--endpoints
 * naming only some members), lag is measured against the most advanced member given.
 */
export function checkHealth(members: readonly Observed[], maxLag: number): GateVerdict {
  if (members.length === 0) return { healthy: false, reason: 'no member to defragment', cause: 'no-member' };
  const answered: { m: Observed; s: MemberStatus }[] = [];
  for (const m of members) {
    if (m.status === undefined) {
      return {
        healthy: false,
        reason: `member ${who(m)} did not answer Status: ${m.failure ?? 'no answer'}`,
        cause: 'no-status',
      };
    }
    answered.push({ m, s: m.status });
  }
  for (const { m, s } of answered) {
    if (s.leader === 0n)
      return { healthy: false, reason: `member ${who(m)} has no leader`, cause: 'no-leader' };
  }
  const leaders = new Set(answered.map(({ s }) => s.leader));
  if (leaders.size > 1) {
    const seen = answered.map(({ m, s }) => `${who(m)}: ${s.leader.toString(16)}`).join(', ');
    return { healthy: false, reason: `members disagree on the leader (${seen})`, cause: 'leaders-disagree' };
  }
  const leader = answered[0]!.s.leader;
  for (const { m, s } of answered) {
    const alarm = s.errors.find((e) => !isNoSpaceAlarm(e));
    if (alarm !== undefined) {
      return { healthy: false, reason: `member ${who(m)} reports ${alarm.trim()}`, cause: 'alarm' };
    }
  }
  const leaderStatus = answered.find(({ s }) => s.memberId === leader)?.s;
  const reference =
    leaderStatus?.raftAppliedIndex ?? Math.max(...answered.map(({ s }) => s.raftAppliedIndex));
  for (const { m, s } of answered) {
    const lag = reference - s.raftAppliedIndex;
    if (lag > maxLag) {
      return {
        healthy: false,
        reason:
          `member ${who(m)} trails the ${leaderStatus !== undefined ? 'leader' : 'most advanced member'} by ` +
          `${lag} applied entries (--max-lag ${maxLag})`,
        cause: 'lag',
      };
    }
  }
  return { healthy: true, leader };
}
