/**
 * How the leader replicates to one follower (etcd-io/raft design.md):
 *
 *            +--------------------------------------------------------+
 *            |                  send snapshot                         |
 *            |                                                        v
 *   +-----------+     append accepted      +-------------+      +-------------+
 *   |   Probe   | -----------------------> |  Replicate  |      |  Snapshot   |
 *   +-----------+ <----------------------- +-------------+      +-------------+
 *         ^         append rejected /                                 |
 *         |         follower unreachable                              |
 *         +---------- snapshot applied (or failed) -------------------+
 *
 * Probe: at most one append per heartbeat interval until the follower's match index is found.
 * Replicate: appends are pipelined optimistically, bounded by the in-flight window.
 * Snapshot: no appends until the snapshot's fate is reported.
 */
export enum ProgressState {
  Probe = 0,
  Replicate = 1,
  Snapshot = 2,
}

export function progressStateName(s: ProgressState): string {
  return ['StateProbe', 'StateReplicate', 'StateSnapshot'][s] ?? `ProgressState(${String(s)})`;
}
