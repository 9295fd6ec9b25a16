/** Counters reported per seed and summed over a run. */
export interface Stats {
  steps: number;
  proposalsCommitted: number;
  proposalsAcked: number;
  readsChecked: number;
  elections: number;
  crashes: number;
  partitions: number;
  snapshotsSent: number;
  confChanges: number;
  messages: number;
  simTime: number;
  /** Simulated time the liveness phase took to converge, in election timeouts. */
  convergeElectionTimeouts: number;
}

export function emptyStats(): Stats {
  return {
    steps: 0,
    proposalsCommitted: 0,
    proposalsAcked: 0,
    readsChecked: 0,
    elections: 0,
    crashes: 0,
    partitions: 0,
    snapshotsSent: 0,
    confChanges: 0,
    messages: 0,
    simTime: 0,
    convergeElectionTimeouts: 0,
  };
}

/** Sums the counters; the convergence time keeps the maximum. */
export function addStats(into: Stats, s: Stats): void {
  for (const k of Object.keys(into) as (keyof Stats)[]) {
    into[k] = k === 'convergeElectionTimeouts' ? Math.max(into[k], s[k]) : into[k] + s[k];
  }
}

export function describeStats(s: Stats): string {
  return (
    `steps=${s.steps} committed=${s.proposalsCommitted} acked=${s.proposalsAcked} reads=${s.readsChecked} ` +
    `elections=${s.elections} crashes=${s.crashes} partitions=${s.partitions} snapshots=${s.snapshotsSent} ` +
    `confChanges=${s.confChanges} messages=${s.messages} converged=${s.convergeElectionTimeouts.toFixed(1)}ET`
  );
}
