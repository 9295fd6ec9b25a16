import { StateType } from '../../../server/src/raft/ready.js';
import type { Member } from '../member.js';

/**
 * The liveness goal (checked repeatedly during the liveness phase until it holds or time runs out):
 * every member still in the cluster is up; one of them leads in the highest term any of them knows; and
 * all of them have applied exactly the leader's commit index, with identical state machines.
 * Returns undefined when converged, else why not (reported if the deadline passes).
 */
export function convergenceGap(members: readonly Member[]): string | undefined {
  const live = members.filter((m) => !m.removed);
  for (const m of live) if (m.node === undefined) return `${m.name} is down`;
  let leader: Member | undefined;
  let termMax = 0;
  let leaderTerm = 0;
  for (const m of live) {
    const st = m.node!.status();
    termMax = Math.max(termMax, st.hardState.term);
    if (st.softState.raftState === StateType.StateLeader && st.hardState.term >= leaderTerm) {
      leader = m;
      leaderTerm = st.hardState.term;
    }
  }
  if (leader === undefined) return 'no leader';
  if (leaderTerm < termMax) return `leader ${leader.name} is in term ${leaderTerm} < ${termMax}`;
  const commit = leader.node!.status().hardState.commit;
  for (const m of live) {
    if (m.inFlight !== undefined) return `${m.name} is persisting`;
    if (m.app.appliedIndex !== commit) {
      return `${m.name} applied ${m.app.appliedIndex}, leader ${leader.name} committed ${commit}`;
    }
    if (m.app.hash !== leader.app.hash) return `${m.name} state differs from leader ${leader.name}`;
  }
  return undefined;
}
