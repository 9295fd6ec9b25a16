// The order of `defrag --safe`: one member at a time, followers first (in member-list order), the leader
// last. Defragmenting the leader stalls the whole cluster's writes while it runs, and may cost a leader
// election; doing it last means it happens at most once, when every follower is already done and healthy
// (etcd's maintenance guide and ahrtr/etcd-defrag order it so too).

/** `members` (in member-list order) reordered: every member but the leader, then the leader. */
export function defragOrder<T extends { readonly memberId: bigint }>(
  members: readonly T[],
  leader: bigint,
): T[] {
  return [...members.filter((m) => m.memberId !== leader), ...members.filter((m) => m.memberId === leader)];
}
